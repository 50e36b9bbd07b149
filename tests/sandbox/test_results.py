"""What a run returns: the final value, printed output, conversions."""

from __future__ import annotations

import pytest

from sandbox import ExecutionResult, Limits, run

pytestmark = pytest.mark.anyio


async def test_final_expression_is_the_value() -> None:
    result = await run("x = 2\nx * 21")
    assert result.ok and result.value == 42 and result.error is None


async def test_code_ending_in_a_statement_has_no_value() -> None:
    result = await run("x = 2")
    assert result.ok and result.value is None


async def test_print_is_captured() -> None:
    result = await run("print('hello', 'world')\nprint(1, end='')")
    assert result.stdout == "hello world\n1"


async def test_print_inside_a_function_goes_to_the_same_buffer() -> None:
    result = await run("print('a')\ndef f():\n    print('b')\nf()\nprint('c')")
    assert result.stdout == "a\nb\nc\n"


async def test_output_beyond_the_cap_is_cut_with_a_marker_line() -> None:
    result = await run("for i in range(1000):\n    print('x' * 99)", limits=Limits(output_bytes=1000))
    assert result.ok
    kept, marker = result.stdout.rstrip("\n").rsplit("\n", 1)
    assert len(kept.encode()) <= 1000
    assert marker == "... [output truncated at 1000 bytes]"


async def test_tuples_sets_and_dates_become_json_values() -> None:
    code = "import datetime\n{'t': (1, 2), 's': {3, 1}, 'd': datetime.date(2024, 5, 1), 1: None}"
    result = await run(code)
    assert result.value == {"t": [1, 2], "s": [1, 3], "d": "2024-05-01", "1": None}


async def test_other_values_become_their_repr() -> None:
    result = await run("import decimal\ndecimal.Decimal('1.5')")
    assert result.value == "Decimal('1.5')"


async def test_classes_defined_in_code_can_hold_state() -> None:
    code = "class Counter:\n    def __init__(self):\n        self.n = 0\nc = Counter()\nc.n += 2\nc.n"
    assert (await run(code)).value == 2


async def test_item_augmented_assignment_works_on_dicts() -> None:
    code = "counts = {}\nfor w in 'a b a'.split():\n    counts[w] = counts.get(w, 0)\n    counts[w] += 1\n"
    code += "counts"
    result = await run(code)
    assert result.value == {"a": 2, "b": 1}


async def test_allowed_modules_can_be_imported_in_every_form() -> None:
    code = (
        "import json, math\nfrom urllib.parse import quote\nimport urllib.parse\n"
        "from collections import Counter\n"
        "[json.loads('[1]'), math.floor(2.5), quote('a b'), urllib.parse.unquote('%20'), Counter('aab')['a']]"
    )
    assert (await run(code)).value == [[1], 2, "a%20b", " ", 2]


async def test_to_json_has_exactly_the_model_facing_fields() -> None:
    result = await run("1/0")
    assert isinstance(result, ExecutionResult)
    assert set(result.to_json()) == {"ok", "value", "stdout", "error"}
    assert result.to_json()["error"]["type"] == "ZeroDivisionError"


async def test_runtime_errors_name_the_line_in_the_code() -> None:
    result = await run("a = 1\nb = {}\nb['missing']")
    assert result.error is not None and result.error.type == "KeyError"
    assert result.error.message.startswith("Line 3:")


async def test_a_value_that_cannot_become_json_says_what_to_return_instead() -> None:
    result = await run("10 ** 5000")
    assert result.error is not None and result.error.type == "ValueError"
    assert "sys." not in result.error.message


async def test_self_referencing_values_are_cut_at_the_cycle() -> None:
    assert (await run("a = [1]\na.append(a)\na")).value == [1, "[...]"]
