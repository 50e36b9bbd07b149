"""Classic Python-jail escapes: introspection chains, hidden builtins, class tricks, unicode.

The techniques are the staples of CTF pyjail write-ups (HackTricks "Bypass
Python sandboxes", the PicoCTF/Google CTF jail archives): climb from any
object to `object.__subclasses__()`, find a class whose methods' globals hold
`os` or `builtins`, and call out. Each entry is one rung of such a ladder.
"""

from __future__ import annotations

import pytest
from escape_corpus import Payload, assert_stopped, blocked, harmless, params

from sandbox import run

pytestmark = pytest.mark.anyio

HACKTRICKS = "HackTricks: Bypass Python sandboxes"

# A str subclass whose `startswith` lies: the guard asks the *name object*
# whether it starts with "_", and the name is the attacker's own object.
LYING_STR = "class S(str):\n    def startswith(self, *args):\n        return False\n"

INTROSPECTION = [
    blocked(
        "tuple_class_base_subclasses_chain_is_restricted",
        HACKTRICKS + ": ().__class__.__base__.__subclasses__()",
        "().__class__.__base__.__subclasses__()",
        "RestrictedCode",
    ),
    blocked(
        "list_class_mro_chain_is_restricted",
        HACKTRICKS + ": [].__class__.__mro__[1]",
        "[].__class__.__mro__[1]",
        "RestrictedCode",
    ),
    blocked(
        "type_builtin_cannot_build_a_class_from_a_dict",
        HACKTRICKS + ": type(name, bases, dict) with dunder keys, past the compile-time name check",
        "type('X', (), {'__getattr__': len})",
        "TypeError",
    ),
    blocked(
        "type_builtin_does_not_hand_out_the_metaclass",
        HACKTRICKS + ": type(cls) is type, which can build classes",
        "type(ToolError)",
        "TypeError",
    ),
    blocked(
        "type_subclasses_is_denied",
        HACKTRICKS + ": type.__subclasses__(type)",
        "type.__subclasses__(type)",
        "RestrictedCode",
    ),
    blocked("object_builtin_is_absent", HACKTRICKS + ": object.__subclasses__()", "object", "NameError"),
    blocked(
        "mro_method_is_denied",
        "climbing to object through int.mro()",
        "int.mro()[-1]",
        "ForbiddenAttribute",
    ),
    blocked(
        "builtins_name_is_restricted",
        HACKTRICKS + ": __builtins__['__import__']",
        "__builtins__['open']",
        "RestrictedCode",
    ),
    blocked(
        "builtin_function_self_is_the_builtins_module_and_is_denied",
        "len.__self__ is the real builtins module",
        "getattr(len, '__self__')",
        "ForbiddenAttribute",
    ),
    blocked(
        "dunder_import_is_restricted",
        HACKTRICKS + ": __import__('os').system('id')",
        "__import__('os')",
        "RestrictedCode",
    ),
    blocked(
        "getattr_with_a_concatenated_dunder_is_denied",
        HACKTRICKS + ": getattr with computed names",
        "getattr((), '_' + '_class__')",
        "ForbiddenAttribute",
    ),
    blocked(
        "getattr_with_a_chr_built_dunder_is_denied",
        HACKTRICKS + ": names from chr() to dodge string filters",
        "getattr((), chr(95) * 2 + 'class' + chr(95) * 2)",
        "ForbiddenAttribute",
    ),
    blocked(
        "getattr_with_a_lying_str_subclass_is_denied",
        "guard bypass: attribute name is a str subclass overriding startswith",
        LYING_STR + "getattr((), S('__class__'))",
        "ForbiddenAttribute",
    ),
    blocked(
        "lying_str_subclass_cannot_reach_os_through_tool_error",
        "guard bypass: ToolError.__init__.__globals__['os'] with a lying name",
        LYING_STR + "g = getattr(getattr(ToolError, S('__init__')), S('__globals__'))\ng['os'].getcwd()",
        "ForbiddenAttribute",
    ),
    harmless(
        "hasattr_with_a_lying_str_subclass_sees_nothing",
        "guard bypass probe through hasattr",
        LYING_STR + "hasattr((), S('__class__'))",
        False,
    ),
    blocked(
        "str_subclass_overriding_eq_is_still_denied",
        "guard bypass attempt: name object with a custom __eq__",
        "class S(str):\n    def __eq__(self, other):\n        return False\ngetattr((), S('__class__'))",
        "ForbiddenAttribute",
    ),
    harmless(
        "hasattr_reports_denied_names_as_absent", "probing with hasattr", "hasattr((), '__class__')", False
    ),
    blocked("vars_is_absent", HACKTRICKS + ": vars()", "vars()", "NameError"),
    blocked("dir_is_absent", HACKTRICKS + ": dir()", "dir()", "NameError"),
    blocked("globals_is_absent", HACKTRICKS + ": globals()['__builtins__']", "globals()", "NameError"),
    blocked("locals_is_absent", HACKTRICKS + ": locals()", "locals()", "NameError"),
    blocked(
        "breakpoint_is_restricted",
        "breakpoint() opens pdb, which can run anything",
        "breakpoint()",
        "RestrictedCode",
    ),
    blocked("help_is_absent", "help() runs pydoc, which imports modules by name", "help()", "NameError"),
    blocked("exec_is_restricted", HACKTRICKS + ": exec", "exec('import os')", "RestrictedCode"),
    blocked("eval_is_restricted", HACKTRICKS + ": eval", "eval('1')", "RestrictedCode"),
    blocked("compile_is_absent", HACKTRICKS + ": compile", "compile('1', 'x', 'eval')", "NameError"),
    blocked(
        "open_is_absent", HACKTRICKS + ": open('/etc/passwd')", "open('/etc/passwd').read()", "NameError"
    ),
    blocked("input_is_absent", "input() reads the worker's stdin, the protocol pipe", "input()", "NameError"),
    blocked("memoryview_is_absent", "raw memory views", "memoryview(b'x')", "NameError"),
    blocked("super_is_absent", "super() reaches parent dunder methods", "super", "NameError"),
]

FUNCTIONS_AND_CODE = [
    blocked(
        "lambda_closure_is_restricted",
        HACKTRICKS + ": f.__closure__[0].cell_contents",
        "f = lambda: 1\nf.__closure__",
        "RestrictedCode",
    ),
    blocked(
        "function_globals_is_restricted",
        HACKTRICKS + ": f.__globals__",
        "def f():\n    pass\nf.__globals__",
        "RestrictedCode",
    ),
    blocked(
        "library_function_globals_through_getattr_are_denied",
        HACKTRICKS + ": getattr(json.loads, '__globals__')",
        "import json\ngetattr(json.loads, '__globals__')",
        "ForbiddenAttribute",
    ),
    blocked(
        "code_object_replacement_is_restricted",
        HACKTRICKS + ": f.__code__ = g.__code__",
        "def f():\n    pass\ndef g():\n    pass\nf.__code__ = g.__code__",
        "RestrictedCode",
    ),
    blocked(
        "code_object_constants_are_denied",
        HACKTRICKS + ": f.__code__.co_consts",
        "def f():\n    return 'hidden'\ngetattr(f, '__code__')",
        "ForbiddenAttribute",
    ),
    blocked(
        "co_code_is_denied_on_any_object",
        "bytecode read through a generic co_code attribute",
        "getattr(len, 'co_code')",
        "ForbiddenAttribute",
    ),
    blocked(
        "reduce_ex_is_restricted",
        "pickle protocol: obj.__reduce_ex__(2) returns a callable and its arguments",
        "(1).__reduce_ex__(2)",
        "RestrictedCode",
    ),
    blocked(
        "getattribute_through_getattr_is_denied",
        "reaching object.__getattribute__ to skip the guard",
        "getattr('', '__getattribute__')",
        "ForbiddenAttribute",
    ),
    blocked(
        "staticmethod_func_is_restricted",
        "unwrapping descriptors: staticmethod(f).__func__",
        "staticmethod(len).__func__",
        "RestrictedCode",
    ),
    blocked(
        "decorator_cannot_read_function_globals",
        "decorators applied to functions: @(lambda f: f.__globals__)",
        "def grab(f):\n    return f.__globals__\n@grab\ndef g():\n    pass",
        "RestrictedCode",
    ),
    blocked(
        "functools_wraps_is_excluded",
        "functools.wraps copies dunder attributes with the real getattr/setattr",
        "import functools\n@functools.wraps(len)\ndef g():\n    pass",
        "AttributeError",
    ),
]

CLASSES = [
    blocked(
        "class_bases_are_restricted",
        HACKTRICKS + ": C.__bases__",
        "class A:\n    pass\nA.__bases__",
        "RestrictedCode",
    ),
    blocked(
        "defining_getattribute_is_restricted",
        "class with __getattribute__ to observe guard lookups",
        "class A:\n    def __getattribute__(self, name):\n        return 1",
        "RestrictedCode",
    ),
    blocked(
        "defining_init_subclass_is_restricted",
        "__init_subclass__ hook runs code on class creation",
        "class A:\n    def __init_subclass__(cls):\n        pass",
        "RestrictedCode",
    ),
    blocked(
        "defining_class_getitem_is_restricted",
        "__class_getitem__ hook",
        "class A:\n    def __class_getitem__(cls, item):\n        return item",
        "RestrictedCode",
    ),
    harmless(
        "builtin_generic_alias_is_only_a_repr",
        "__class_getitem__ of builtins: list[int]",
        "repr(list[int])",
        "list[int]",
    ),
    blocked(
        "metaclass_keyword_is_restricted",
        "metaclass tricks: class A(metaclass=M)",
        "class A(metaclass=print):\n    pass",
        "RestrictedCode",
    ),
    blocked(
        "subclassing_type_is_impossible_the_builtin_is_a_guard_function",
        "metaclass tricks: class M(type)",
        "class M(type):\n    pass",
        "TypeError",
    ),
    blocked(
        "property_getter_still_goes_through_the_guard",
        "descriptors: property(lambda self: getattr(self, '__dict__'))",
        "class A:\n    p = property(lambda self: getattr(self, '__dict__'))\nA().p",
        "ForbiddenAttribute",
    ),
    harmless(
        "code_defined_classes_are_writable",
        "write guard sanity: the code's own objects stay mutable",
        "class A:\n    pass\nA.x = 1\na = A()\na.y = 2\n[A.x, a.y]",
        [1, 2],
    ),
    blocked(
        "builtin_classes_are_read_only",
        "monkeypatching builtins: int.x = 1",
        "int.x = 1",
        "ForbiddenAttribute",
    ),
    blocked(
        "builtin_functions_are_read_only_through_setattr",
        "monkeypatching builtins: setattr(len, 'x', 1)",
        "setattr(len, 'x', 1)",
        "ForbiddenAttribute",
    ),
]

MATCH = [
    blocked(
        "match_class_pattern_reading_a_dunder_is_restricted",
        "PEP 634 class patterns read attributes with the real getattr: case tuple(__class__=c)",
        "match ():\n    case tuple(__class__=c):\n        r = repr(c)\nr",
        "RestrictedCode",
    ),
    blocked(
        "match_class_pattern_reading_a_traceback_is_restricted",
        "PEP 634 class patterns: case Exception(__traceback__=tb)",
        "try:\n    1 / 0\nexcept Exception as e:\n    match e:\n        case Exception(__traceback__=tb):\n"
        "            r = repr(tb)\nr",
        "RestrictedCode",
    ),
]

UNICODE = [
    blocked(
        "fullwidth_open_normalises_to_the_absent_open",
        "NFKC identifier normalisation (PEP 3131): \uff4f\uff50\uff45\uff4e",
        "\uff4f\uff50\uff45\uff4e('/etc/passwd')",
        "NameError",
    ),
    blocked(
        "mathematical_bold_open_normalises_to_the_absent_open",
        "NFKC identifier normalisation: mathematical bold letters",
        "\U0001d428\U0001d429\U0001d41e\U0001d427('/etc/passwd')",
        "NameError",
    ),
    blocked(
        "fullwidth_underscores_are_not_identifier_characters",
        "NFKC: fullwidth low line U+FF3F around class",
        "().\uff3f\uff3fclass\uff3f\uff3f",
        "SyntaxError",
    ),
    blocked(
        "fullwidth_letters_in_a_dunder_normalise_and_are_restricted",
        "NFKC: __\uff43\uff4c\uff41\uff53\uff53__ becomes __class__ before the check",
        "().__\uff43\uff4c\uff41\uff53\uff53__",
        "RestrictedCode",
    ),
    blocked(
        "double_struck_eval_normalises_to_the_restricted_eval",
        "NFKC: mathematical double-struck letters",
        "\U0001d556\U0001d567\U0001d552\U0001d55d('1')",
        "RestrictedCode",
    ),
    blocked(
        "fullwidth_letters_in_a_getattr_string_are_denied",
        "getattr does not normalise; the guard still sees the leading underscore",
        "getattr((), '__\uff43\uff4c\uff41\uff53\uff53__')",
        "ForbiddenAttribute",
    ),
]


@pytest.mark.parametrize("payload", params(INTROSPECTION))
async def test_introspection_chains_lead_nowhere(payload: Payload) -> None:
    assert_stopped(await run(payload.code), payload)


@pytest.mark.parametrize("payload", params(FUNCTIONS_AND_CODE))
async def test_function_and_code_internals_are_out_of_reach(payload: Payload) -> None:
    assert_stopped(await run(payload.code), payload)


@pytest.mark.parametrize("payload", params(CLASSES))
async def test_class_machinery_cannot_be_hooked(payload: Payload) -> None:
    assert_stopped(await run(payload.code), payload)


@pytest.mark.parametrize("payload", params(MATCH))
async def test_pattern_matching_cannot_read_attributes(payload: Payload) -> None:
    assert_stopped(await run(payload.code), payload)


@pytest.mark.parametrize("payload", params(UNICODE))
async def test_unicode_spellings_normalise_to_denied_names(payload: Payload) -> None:
    assert_stopped(await run(payload.code), payload)
