"""Issue 12, item 6: the builtins and modules a model reaches for work, or say what to use instead."""

from __future__ import annotations

import pytest

from sandbox import run

pytestmark = pytest.mark.anyio

WORKS = {
    "type_of_a_value": ("type(1) is int and type('a') is str and type([]) == list", True),
    "isinstance": ("isinstance(1, int)", True),
    "sorted_with_a_key": ("sorted([{'a': 2}, {'a': 1}], key=lambda d: d['a'])", [{"a": 1}, {"a": 2}]),
    "enumerate": ("list(enumerate('ab'))", [[0, "a"], [1, "b"]]),
    "zip": ("list(zip([1, 2], 'ab'))", [[1, "a"], [2, "b"]]),
    "min_max": ("[min(3, 1), max([1, 5])]", [1, 5]),
    "any_all": ("[any([0, 1]), all([1, 0])]", [True, False]),
    "datetime": (
        "import datetime\nstr(datetime.date(2024, 1, 31) + datetime.timedelta(days=1))",
        "2024-02-01",
    ),
    "datetime_fromisoformat": (
        "from datetime import datetime\ndatetime.fromisoformat('2024-01-01T10:00:00+00:00').hour",
        10,
    ),
    "re": ("import re\nre.findall(r'\\d+', 'a1b22')", ["1", "22"]),
    "json": ("import json\njson.loads(json.dumps({'a': [1]}))", {"a": [1]}),
    "counter": ("from collections import Counter\nCounter('aab').most_common(1)", [["a", 2]]),
    "statistics": ("import statistics\n[statistics.median([1, 3, 2]), statistics.mean([1, 2])]", [2, 1.5]),
    "dict_items_come_back_as_a_list": ("{'a': 1}.items()", [["a", 1]]),
    "range_comes_back_as_a_list": ("range(3)", [0, 1, 2]),
}

REFUSED = {
    "three_argument_type_names_the_class_statement": (
        "type('X', (), {})",
        "TypeError",
        "class Name:",
    ),
    "type_of_a_class_is_refused": ("type(int)", "TypeError", "compare classes directly"),
    "mro_does_not_hand_back_object": ("type(1).mro()", "ForbiddenAttribute", "mro"),
    "dunder_name_suggests_isinstance": ("type(1).__name__", "RestrictedCode", "isinstance"),
    "str_format_names_f_strings": ("'{}'.format(1)", "ForbiddenAttribute", "f-strings"),
    "vars_says_why": ("vars()", "NameError", "not reachable"),
}


@pytest.mark.parametrize("code, expected", WORKS.values(), ids=WORKS.keys())
async def test_what_a_model_reaches_for_works(code: str, expected: object) -> None:
    result = await run(code)
    assert result.ok, result.error
    assert result.value == expected


@pytest.mark.parametrize("code, error_type, advice", REFUSED.values(), ids=REFUSED.keys())
async def test_what_is_refused_says_what_to_use_instead(code: str, error_type: str, advice: str) -> None:
    result = await run(code)
    assert result.error is not None
    assert result.error.type == error_type
    assert advice in result.error.message
