"""Payloads from RestrictedPython's published advisories, replayed against the sandbox.

Each advisory is a way out of RestrictedPython's guards that was found in the
wild: frames reached through generators (CVE-2023-37271), attribute walks in
format strings (CVE-2023-41039), try/except* type confusion (CVE-2025-22153)
and objects leaked by AttributeError (CVE-2024-47532). Variants use computed
attribute names and the other objects that carry the same attributes.
"""

from __future__ import annotations

import pytest
from escape_corpus import Payload, assert_stopped, blocked, harmless, params

from sandbox import run

pytestmark = pytest.mark.anyio

CVE_2023_37271 = "CVE-2023-37271 / GHSA-wqc8-x2pr-7jqh (generator gi_frame -> f_back -> f_globals)"
CVE_2023_41039 = "CVE-2023-41039 / GHSA-xjw2-6jm9-rf67 (str.format / format_map attribute walks)"
CVE_2025_22153 = "CVE-2025-22153 / GHSA-gmj9-h825-chq2 (try/except* type confusion)"
CVE_2024_47532 = "CVE-2024-47532 / GHSA-5rfv-66g4-jr8h (AttributeError.obj and string module leaks)"
CVE_2026_55830 = "CVE-2026-55830 / GHSA-ffg3-p8fm-mjx2 (guard hooks shadowed by positional-only parameters)"
CVE_2026_76825 = "CVE-2026-76825 (string.Formatter field walks, fixed in RestrictedPython 8.4)"
# The first RestrictedPython release with both 2026 fixes; pyproject.toml must not allow less.
FIXED_IN = (8, 4)
GUARD_HOOKS = ("_getattr_", "_write_", "_getitem_", "_print_", "_inplacevar_", "_getiter_")

FRAMES = [
    blocked(
        "generator_gi_frame_f_back_reaches_the_worker_globals",
        CVE_2023_37271,
        "g = (x for x in [1])\ng.gi_frame.f_back.f_globals",
        "RestrictedCode",
    ),
    blocked(
        "generator_gi_frame_through_getattr_is_denied",
        CVE_2023_37271,
        "g = (x for x in [1])\ngetattr(g, 'gi_frame')",
        "ForbiddenAttribute",
    ),
    blocked(
        "generator_gi_frame_with_a_computed_name_is_denied",
        CVE_2023_37271 + ", name built at run time",
        "g = (x for x in [1])\ngetattr(g, 'gi_' + 'frame')",
        "ForbiddenAttribute",
    ),
    blocked(
        "generator_function_gi_code_is_denied",
        CVE_2023_37271 + ", code object variant",
        "def gen():\n    yield 1\ngetattr(gen(), 'gi_code')",
        "ForbiddenAttribute",
    ),
    blocked(
        "generator_gi_yieldfrom_needs_yield_from_which_is_restricted",
        CVE_2023_37271 + ", delegated generator variant",
        "def inner():\n    yield 1\ndef outer():\n    yield from inner()\n"
        "g = outer()\nnext(g)\ngetattr(g, 'gi_yieldfrom')",
        "RestrictedCode",
    ),
    blocked(
        "gi_yieldfrom_on_any_object_is_denied",
        CVE_2023_37271 + ", delegated generator attribute denied everywhere",
        "g = (x for x in [1])\ngetattr(g, 'gi_yieldfrom')",
        "ForbiddenAttribute",
    ),
    blocked(
        "frame_f_back_on_any_object_is_denied",
        CVE_2023_37271 + ", frame attributes denied on every object",
        "getattr([], 'f_back')",
        "ForbiddenAttribute",
    ),
    blocked(
        "exception_traceback_tb_frame_is_restricted",
        "pyjail classic: e.__traceback__.tb_frame.f_globals",
        "try:\n    1 / 0\nexcept Exception as e:\n    t = e.__traceback__.tb_frame",
        "RestrictedCode",
    ),
    blocked(
        "exception_traceback_through_getattr_is_denied",
        "pyjail classic: getattr(e, '__traceback__')",
        "try:\n    1 / 0\nexcept Exception as e:\n    t = getattr(e, '__traceback__')",
        "ForbiddenAttribute",
    ),
    blocked(
        "sys_exc_info_is_not_importable",
        "pyjail classic: sys.exc_info()[2].tb_frame",
        "import sys\nsys.exc_info()",
        "ForbiddenImport",
    ),
    blocked(
        "coroutine_cr_frame_needs_async_def_which_is_restricted",
        "frame walking through coroutines (cr_frame)",
        "async def f():\n    return 1\nf().cr_frame",
        "RestrictedCode",
    ),
    blocked(
        "await_expression_is_restricted",
        "coroutine driving with await",
        "async def f():\n    await g()",
        "RestrictedCode",
    ),
    blocked(
        "async_generator_ag_frame_is_restricted",
        "frame walking through async generators (ag_frame)",
        "async def agen():\n    yield 1\nagen().ag_frame",
        "RestrictedCode",
    ),
    blocked(
        "anext_builtin_is_absent",
        "driving async generators without async syntax",
        "anext",
        "NameError",
    ),
]

FORMAT_STRINGS = [
    blocked(
        "str_format_attribute_walk_is_denied",
        CVE_2023_41039,
        "'{0.__class__.__base__.__subclasses__}'.format(1)",
        "ForbiddenAttribute",
    ),
    blocked(
        "str_format_through_a_variable_is_denied",
        CVE_2023_41039 + ", template in a variable",
        "template = '{0.__class__}'\ntemplate.format(1)",
        "ForbiddenAttribute",
    ),
    blocked(
        "unbound_str_format_is_denied",
        CVE_2023_41039 + ", str.format(template, obj)",
        "str.format('{0.__class__}', 1)",
        "ForbiddenAttribute",
    ),
    blocked(
        "str_format_map_attribute_walk_is_denied",
        CVE_2023_41039,
        "'{a.__class__}'.format_map({'a': 1})",
        "ForbiddenAttribute",
    ),
    blocked(
        "str_subclass_format_is_denied",
        CVE_2023_41039 + ", str subclass",
        "class S(str):\n    pass\nS('{0.__class__}').format(1)",
        "ForbiddenAttribute",
    ),
    blocked(
        "getattr_format_on_a_string_is_denied",
        CVE_2023_41039 + ", getattr(s, 'format')",
        "getattr('{0.__class__}', 'format')(1)",
        "ForbiddenAttribute",
    ),
    blocked(
        "user_string_format_walks_to_the_os_module",
        CVE_2023_41039 + ", collections.UserString.format is not a str method",
        "import collections, random\n"
        "collections.UserString('{0.__func__.__globals__[_os].environ}').format(random.seed)",
        "ForbiddenAttribute",
    ),
    blocked(
        "user_string_format_map_walks_to_the_os_module",
        CVE_2023_41039 + ", collections.UserString.format_map",
        "import collections, random\n"
        "collections.UserString('{f.__func__.__globals__[_os].sys.path}').format_map({'f': random.seed})",
        "ForbiddenAttribute",
    ),
    blocked(
        "string_formatter_is_excluded",
        CVE_2023_41039 + ", string.Formatter().get_field",
        "import string\nstring.Formatter().format('{0.__class__}', 1)",
        "AttributeError",
    ),
    blocked(
        "format_builtin_is_absent",
        CVE_2023_41039 + ", format(obj, spec)",
        "format(1, 'x')",
        "NameError",
    ),
    blocked(
        "f_string_attribute_access_is_checked_at_compile_time",
        "f-string expressions reaching attributes",
        "x = 1\nf'{x.__class__}'",
        "RestrictedCode",
    ),
    harmless(
        "f_string_conversion_and_nested_spec_reach_no_attributes",
        "f-string with !r and a computed format spec",
        "x = 'a'\nwidth = 5\nf'{x!r:>{width}}'",
        "  'a'",
    ),
    blocked(
        "percent_formatting_reads_keys_not_attributes",
        "%-formatting with a mapping key naming a dunder",
        "'%(__class__)s' % 1",
        "TypeError",
    ),
    harmless(
        "percent_formatting_with_a_mapping_is_item_access_only",
        "%-formatting with a mapping",
        "'%(a)s-%(b)r' % {'a': 1, 'b': 'x'}",
        "1-'x'",
    ),
    blocked(
        "string_template_rejects_attribute_placeholders",
        "string.Template with an attribute path",
        "import string\nstring.Template('${a.__class__}').substitute(a=1)",
        "ValueError",
    ),
]

TRY_STAR = [
    blocked(
        "try_except_star_is_restricted",
        CVE_2025_22153,
        "try:\n    pass\nexcept* ValueError as eg:\n    pass",
        "RestrictedCode",
    ),
    blocked(
        "exception_group_builtin_is_absent",
        CVE_2025_22153 + ", building groups by hand",
        "ExceptionGroup('x', [ValueError()])",
        "NameError",
    ),
]

ATTRIBUTE_ERROR_OBJ = [
    harmless(
        "attribute_error_obj_is_the_object_the_code_already_had",
        CVE_2024_47532,
        "try:\n    (1).nope\nexcept AttributeError as e:\n    r = repr(e.obj)\nr",
        "1",
    ),
    harmless(
        "attribute_error_obj_on_a_module_is_the_curated_namespace",
        CVE_2024_47532 + ", real module behind a curated one",
        "import json\ntry:\n    json.nope\nexcept AttributeError as e:\n    r = repr(e.obj)\nr",
        "<module 'json' (sandboxed)>",
    ),
    harmless(
        "guard_denials_carry_no_object",
        CVE_2024_47532 + ", denial exceptions",
        "try:\n    getattr(1, '__class__')\nexcept AttributeError as e:\n    r = [repr(e.obj), e.name]\nr",
        ["None", None],
    ),
    blocked(
        "string_module_formatter_leak_is_closed",
        CVE_2024_47532 + ", string module",
        "import string\nstring.Formatter",
        "AttributeError",
    ),
]


@pytest.mark.parametrize("payload", params(FRAMES))
async def test_frames_cannot_be_reached(payload: Payload) -> None:
    assert_stopped(await run(payload.code), payload)


@pytest.mark.parametrize("payload", params(FORMAT_STRINGS))
async def test_format_strings_cannot_walk_attributes(payload: Payload) -> None:
    assert_stopped(await run(payload.code), payload)


@pytest.mark.parametrize("payload", params(TRY_STAR))
async def test_exception_groups_are_not_available(payload: Payload) -> None:
    assert_stopped(await run(payload.code), payload)


@pytest.mark.parametrize("payload", params(ATTRIBUTE_ERROR_OBJ))
async def test_exceptions_leak_no_hidden_objects(payload: Payload) -> None:
    assert_stopped(await run(payload.code), payload)


POSITIONAL_ONLY = [
    blocked(
        f"positional_only_parameter_cannot_shadow_{hook.strip('_')}",
        CVE_2026_55830,
        f"def f({hook}, /):\n    return {hook}\nf(1)",
        "RestrictedCode",
    )
    for hook in GUARD_HOOKS
] + [
    blocked(
        "positional_only_lambda_parameter_cannot_shadow_the_write_guard",
        CVE_2026_55830 + ", lambda variant",
        "(lambda _write_, /: _write_)(1)",
        "RestrictedCode",
    ),
    blocked(
        "shadowed_write_guard_cannot_poison_a_shared_module",
        CVE_2026_55830 + ", the full exploit",
        "import json\ndef poison(_write_, /):\n    json.dumps = None\npoison(lambda x: x)\njson.dumps([1])",
        "RestrictedCode",
    ),
]

FORMATTER = [
    blocked(
        "string_formatter_get_field_cannot_walk_attributes",
        CVE_2026_76825,
        "import string\nstring.Formatter().get_field('0.__class__', [1], {})",
        "AttributeError",
    ),
    blocked(
        "string_formatter_vformat_cannot_walk_attributes",
        CVE_2026_76825 + ", vformat",
        "import string\nstring.Formatter().vformat('{0.__class__.__mro__}', [1], {})",
        "AttributeError",
    ),
    blocked(
        "string_template_cannot_reach_the_formatter",
        CVE_2026_76825 + ", through another string module name",
        "import string\ngetattr(string, 'Format' + 'ter')",
        "AttributeError",
    ),
]


@pytest.mark.parametrize("payload", params(POSITIONAL_ONLY))
async def test_positional_only_parameters_cannot_shadow_guard_hooks(payload: Payload) -> None:
    assert_stopped(await run(payload.code), payload)


@pytest.mark.parametrize("payload", params(FORMATTER))
async def test_string_formatter_cannot_walk_attributes(payload: Payload) -> None:
    assert_stopped(await run(payload.code), payload)


@pytest.mark.parametrize("hook", GUARD_HOOKS)
def test_restricted_python_itself_refuses_positional_only_guard_names(hook: str) -> None:
    """The library's own check (fixed in 8.3), not only the sandbox's layers above it."""
    from RestrictedPython import compile_restricted_exec

    compiled = compile_restricted_exec(f"def f({hook}, /):\n    pass\n")
    assert compiled.code is None and compiled.errors


def test_the_installed_and_the_declared_restricted_python_have_the_2026_fixes() -> None:
    import re
    import tomllib
    from importlib.metadata import version
    from pathlib import Path

    installed = tuple(int(part) for part in version("RestrictedPython").split(".")[:2])
    pyproject = tomllib.loads((Path(__file__).parents[3] / "pyproject.toml").read_text())
    [declared] = [d for d in pyproject["project"]["dependencies"] if d.lower().startswith("restrictedpython")]
    floor = re.search(r">=\s*(\d+)\.(\d+)", declared)
    assert floor is not None, declared
    assert (int(floor.group(1)), int(floor.group(2))) >= FIXED_IN
    assert installed >= FIXED_IN
