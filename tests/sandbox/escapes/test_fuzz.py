"""Property: no program, however malformed or hostile, crashes or hangs the host.

Hypothesis generates token soups mixing allowed and forbidden constructs,
random expression trees unparsed to source, attribute probes with arbitrary
(including dunder) names, and raw bytes decoded as source. For every one,
`sandbox.run` must return an ExecutionResult, within a bound, whose error is
either absent or of a known type; SandboxCrashed counts as a failure.
"""

from __future__ import annotations

import ast
import builtins
import importlib
from typing import Any, Final

import anyio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox import ExecutionResult, Limits, errors, policy, run

LIMITS: Final = Limits(wall_seconds=3, cpu_seconds=2, memory_bytes=256 * 1024 * 1024)
RUN_BOUND_SECONDS: Final = 15

FUZZ_SETTINGS: Final = settings(
    max_examples=80,
    deadline=RUN_BOUND_SECONDS * 1000,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,  # the same programs every run, so a failure reproduces
)


def _exception_names(namespace: Any) -> set[str]:
    values = vars(namespace).values() if not isinstance(namespace, dict) else namespace.values()
    return {v.__name__ for v in values if isinstance(v, type) and issubclass(v, BaseException)}


def _known_error_types() -> frozenset[str]:
    """Sandbox error names, builtin exceptions, and exceptions the allowed modules define."""
    names = {v for k, v in vars(errors).items() if k.isupper() and isinstance(v, str)}
    names |= _exception_names(builtins) | {"ValueTooDeep"}
    for module in policy.ALLOWED_MODULES:
        names |= _exception_names(importlib.import_module(module))
    return frozenset(names - {errors.SANDBOX_CRASHED})


KNOWN_ERRORS: Final = _known_error_types()

TOKENS = [
    "x",
    "y",
    "1",
    "'s'",
    "()",
    "[]",
    "{}",
    "(",
    ")",
    "[",
    "]",
    ":",
    ",",
    ".",
    "=",
    "+",
    "*",
    "**",
    "-",
    "\n",
    "\n    ",
    " ",
    "if",
    "for",
    "in",
    "while",
    "def",
    "return",
    "lambda",
    "yield",
    "class",
    "try",
    "except",
    "import",
    "from",
    "with",
    "as",
    "not",
    "and",
    "async",
    "await",
    "global",
    "del",
    "print",
    "getattr",
    "setattr",
    "len",
    "range",
    "str",
    "int",
    "type",
    "object",
    "open",
    "eval",
    "exec",
    "__import__",
    "__class__",
    "__subclasses__",
    "__globals__",
    "__builtins__",
    "_x",
    "gi_frame",
    "f_back",
    "format",
    "mro",
    "os",
    "sys",
    "json",
    "re",
    "collections",
    "ToolError",
    "t",
    "t.echo",
    "'{0.__class__}'",
    "10**10**10",
    "\x00",
    "\\",
    "#",
    "'''",
    "match",
    "case",
    "except*",
    "＿",
    "ｏｐｅｎ",
]

NAMES = st.sampled_from(["x", "len", "str", "print", "t", "t.echo", "ToolError", "json", "getattr", "()"])
ATTRIBUTES = st.one_of(
    st.sampled_from(
        ["__class__", "__dict__", "__globals__", "gi_frame", "format", "mro", "_channel", "echo"]
    ),
    st.from_regex(r"\A_{0,2}[A-Za-z][A-Za-z0-9_]{0,10}_{0,2}\Z"),
)


def _expressions() -> st.SearchStrategy[ast.expr]:
    leaves = st.one_of(
        NAMES.map(lambda n: ast.parse(n, mode="eval").body),
        st.one_of(st.integers(-5, 5), st.text(max_size=5), st.none()).map(ast.Constant),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.builds(lambda v, a: ast.Attribute(v, a, ast.Load()), inner, ATTRIBUTES),
            st.builds(lambda f, a: ast.Call(f, [a], []), inner, inner),
            st.builds(lambda v, k: ast.Subscript(v, k, ast.Load()), inner, inner),
            st.builds(lambda a, b: ast.BinOp(a, ast.Add(), b), inner, inner),
            st.builds(lambda e: ast.Lambda(ast.arguments([], [], None, [], [], None, []), e), inner),
        ),
        max_leaves=8,
    )


PROGRAMS = st.one_of(
    st.lists(st.sampled_from(TOKENS), max_size=30).map(" ".join),
    _expressions().map(lambda e: ast.unparse(ast.fix_missing_locations(ast.Expression(e)))),
    st.tuples(NAMES, ATTRIBUTES).map(lambda p: f"getattr({p[0]}, {p[1]!r})"),
    st.tuples(NAMES, ATTRIBUTES).map(lambda p: f"{p[0]}.{p[1]}"),
    st.binary(max_size=200).map(lambda b: b.decode("utf-8", "replace")),
    st.text(max_size=80),
)


class _Echo:
    async def call_tool(self, name: str, arguments: dict[str, Any]) -> Any:
        return arguments


def _run_bounded(code: str) -> ExecutionResult:
    async def bounded() -> ExecutionResult:
        with anyio.fail_after(RUN_BOUND_SECONDS):
            return await run(code, tools={"t": ["echo"]}, bridge=_Echo(), limits=LIMITS)

    return anyio.run(bounded)


@FUZZ_SETTINGS
@given(code=PROGRAMS)
def test_generated_programs_never_crash_or_hang_the_host(code: str) -> None:
    result = _run_bounded(code)
    assert isinstance(result, ExecutionResult)
    if result.error is not None:
        assert result.error.type in KNOWN_ERRORS, (code, result.error)
        assert not result.ok and result.value is None
