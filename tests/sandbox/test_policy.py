"""Every rule `sandbox.policy` states is in force: parametrized over the policy's own lists."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from types import ModuleType

import pytest

from sandbox import Limits, policy, run, tighten
from sandbox.modules import build_modules
from sandbox.seccomp import SYSCALLS_X86_64

pytestmark = pytest.mark.anyio

UNISTD = Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")


@pytest.mark.parametrize("name", sorted(policy.FORBIDDEN_ATTRIBUTES))
async def test_each_forbidden_attribute_is_denied_through_getattr_at_run_time(name: str) -> None:
    code = (
        f"def g():\n    yield 1\ngen = g()\ngetattr(gen, {name!r}, None) if False else getattr(gen, {name!r})"
    )
    result = await run(code)
    assert result.error is not None and result.error.type == "ForbiddenAttribute"


@pytest.mark.parametrize("name", ["__class__", "_private", "__globals__"])
async def test_underscore_attributes_are_denied_through_getattr_at_run_time(name: str) -> None:
    result = await run(f"getattr(len, {name!r})")
    assert result.error is not None and result.error.type == "ForbiddenAttribute"


async def test_format_is_denied_on_string_wrappers_too() -> None:
    result = await run("import collections\ncollections.UserString('{0}').format(1)")
    assert result.error is not None and result.error.type == "ForbiddenAttribute"


SYNTAX_SAMPLES = {
    "Match": "match 1:\n    case 1:\n        pass",
    "TryStar": "try:\n    pass\nexcept* ValueError:\n    pass",
    "YieldFrom": "def g():\n    yield from [1]",
    "AsyncFunctionDef": "async def f():\n    pass",
    "Await": "def f():\n    await x",
    "AsyncFor": "async def f():\n    async for x in y:\n        pass",
    "AsyncWith": "async def f():\n    async with x:\n        pass",
    "Global": "def f():\n    global x",
    "Nonlocal": "def f():\n    x = 1\n    def g():\n        nonlocal x",
}


def test_every_denied_construct_has_a_sample() -> None:
    assert set(SYNTAX_SAMPLES) == set(policy.DENIED_SYNTAX)


@pytest.mark.parametrize("node", sorted(policy.DENIED_SYNTAX))
async def test_each_denied_construct_is_restricted_code(node: str) -> None:
    code = SYNTAX_SAMPLES[node]
    assert any(type(n).__name__ == node for n in ast.walk(ast.parse(code)))
    result = await run(code)
    assert result.error is not None and result.error.type == "RestrictedCode"


@pytest.mark.parametrize(
    "code",
    [
        "[y := 1 for _ in range(2)]",
        "[(y := i) for i in range(2)]",
        "class A(metaclass=len):\n    pass",
        "f'{().__class__}'",
        "f = lambda x=_secret: x",
    ],
)
async def test_unclear_constructs_are_restricted_code(code: str) -> None:
    result = await run(code)
    assert result.error is not None and result.error.type == "RestrictedCode"


@pytest.mark.parametrize(
    "code, value",
    [
        ("def twice(f):\n    return lambda x: f(f(x))\n@twice\ndef inc(x):\n    return x + 1\ninc(1)", 3),
        ("def f(*a, **k):\n    return [len(a), sorted(k)]\nf(*[1, 2], **{'b': 1})", [2, ["b"]]),
        ("def g():\n    yield 1\n    yield 2\nlist(g())", [1, 2]),
        ("if (n := 3) > 2:\n    r = n\nr", 3),
        ("f = lambda x, y=2: x * y\nf(3)", 6),
    ],
)
async def test_clearly_safe_constructs_still_work(code: str, value: object) -> None:
    result = await run(code)
    assert result.ok and result.value == value, result.error


@pytest.mark.parametrize("module", sorted(policy.ALLOWED_MODULES))
def test_no_module_object_is_reachable_from_an_allowed_module(module: str) -> None:
    curated = build_modules()[module]
    for name, member in curated._members.items():
        assert not isinstance(member, ModuleType), f"{module}.{name}"
        for attr in dir(member):
            if attr.startswith("_") or attr in policy.FORBIDDEN_ATTRIBUTES:
                continue
            inner = getattr(member, attr, None)
            assert not isinstance(inner, ModuleType), f"{module}.{name}.{attr}"


@pytest.mark.parametrize("name", sorted(policy.EXCLUDED_BUILTINS))
async def test_each_excluded_builtin_is_missing_and_says_why(name: str) -> None:
    result = await run(f"{name}")
    assert result.error is not None
    if result.error.type == "NameError":
        assert policy.EXCLUDED_BUILTINS[name] in result.error.message
    else:  # RestrictedPython already refuses the name at compile time
        assert result.error.type == "RestrictedCode"


def test_limits_defaults_come_from_the_policy() -> None:
    limits = Limits()
    assert {name: getattr(limits, name) for name in policy.LIMITS} == {
        name: rule.default for name, rule in policy.LIMITS.items()
    }


@pytest.mark.parametrize("name", [n for n, rule in policy.LIMITS.items() if rule.fixed])
def test_tighten_refuses_to_raise_a_fixed_ceiling(name: str) -> None:
    ceiling = policy.LIMITS[name].ceiling
    with pytest.raises(ValueError, match="FIXED"):
        tighten(Limits(), **{name: ceiling * 2})
    assert getattr(tighten(Limits(), **{name: max(1, ceiling // 2)}), name) == max(1, ceiling // 2)


@pytest.mark.parametrize("name", [n for n, rule in policy.LIMITS.items() if not rule.fixed])
def test_tighten_moves_a_tunable_limit_up_to_its_ceiling_only(name: str) -> None:
    ceiling = policy.LIMITS[name].ceiling
    assert getattr(tighten(Limits(), **{name: ceiling}), name) == ceiling
    with pytest.raises(ValueError, match="at most"):
        tighten(Limits(), **{name: ceiling + 1})


@pytest.mark.parametrize("value", [0, -1, True, "10"])
def test_tighten_refuses_values_that_are_not_positive_numbers(value: object) -> None:
    with pytest.raises(ValueError, match="positive number"):
        tighten(Limits(), wall_seconds=value)  # type: ignore[arg-type]


def test_tighten_refuses_unknown_limits() -> None:
    with pytest.raises(ValueError, match="unknown sandbox limit"):
        tighten(Limits(), wall_time=3)


async def test_run_refuses_limits_above_a_fixed_ceiling() -> None:
    with pytest.raises(ValueError, match="FIXED"):
        await run("1", limits=Limits(recursion_depth=10_000))


def test_every_denied_syscall_has_its_number() -> None:
    assert set(policy.SECCOMP_DENIED_SYSCALLS) <= set(SYSCALLS_X86_64)


@pytest.mark.skipif(not UNISTD.exists(), reason="kernel headers not installed")
def test_syscall_numbers_match_the_kernel_headers() -> None:
    table = dict(re.findall(r"#define __NR_(\w+) (\d+)", UNISTD.read_text()))
    assert {name: int(table[name]) for name in SYSCALLS_X86_64} == SYSCALLS_X86_64
