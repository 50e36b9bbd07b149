"""The values crossing the sandbox's public API: limits in, results out, the bridge seam."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sandbox.policy import LIMITS


def _default(name: str) -> Any:
    return LIMITS[name].default


class ToolBridge(Protocol):
    """Answers the tool calls made by sandboxed code; the portal implements it."""

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> Any:
        """Call `name` ('namespace.tool') and return a JSON-able value.

        Raise `sandbox.ToolCallFailed(message)` for a failure the code should
        see as a catchable ToolError.
        """
        ...


@dataclass(frozen=True)
class Limits:
    """Resource limits for one execution; defaults and ceilings live in `sandbox.policy.LIMITS`.

    Build a tighter set for a group with `sandbox.policy.tighten(limits, **overrides)`.
    """

    wall_seconds: float = _default("wall_seconds")
    cpu_seconds: int = _default("cpu_seconds")
    memory_bytes: int = _default("memory_bytes")
    output_bytes: int = _default("output_bytes")
    result_bytes: int = _default("result_bytes")
    max_tool_calls: int = _default("max_tool_calls")
    max_code_bytes: int = _default("max_code_bytes")
    max_concurrent_tool_calls: int = _default("max_concurrent_tool_calls")
    recursion_depth: int = _default("recursion_depth")
    max_ast_depth: int = _default("max_ast_depth")


@dataclass(frozen=True)
class ErrorInfo:
    """Why an execution failed: `type` is a name from `sandbox.errors`.

    `tool` names the tool call that failed (for a ToolError) and `hint` says what to do next.
    """

    type: str
    message: str
    tool: str | None = None
    hint: str | None = None


@dataclass(frozen=True)
class ToolCallRecord:
    """One tool call as the host saw it, for audit and metrics."""

    name: str
    duration_ms: float
    ok: bool


@dataclass(frozen=True)
class ExecutionResult:
    """Outcome of one `run`: the final value, printed output and any error."""

    ok: bool
    value: Any
    stdout: str
    error: ErrorInfo | None
    tool_calls: tuple[ToolCallRecord, ...]
    duration_ms: float
    # Limits reached without failing the run, e.g. "OutputLimitExceeded" when
    # printed output was cut at Limits.output_bytes.
    limits_hit: tuple[str, ...] = ()
    # Isolation layers the worker had in force (see `python -m sandbox doctor`).
    layers: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The part of the result shown to the model."""
        error = None if self.error is None else {"type": self.error.type, "message": self.error.message}
        return {"ok": self.ok, "value": self.value, "stdout": self.stdout, "error": error}
