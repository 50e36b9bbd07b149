"""The values crossing the sandbox's public API: limits in, results out, the bridge seam."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


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
    """Resource limits for one execution."""

    wall_seconds: float = 30.0
    cpu_seconds: int = 10
    memory_bytes: int = 512 * 1024 * 1024
    output_bytes: int = 64 * 1024
    result_bytes: int = 1024 * 1024
    max_tool_calls: int = 200
    max_code_bytes: int = 100_000


@dataclass(frozen=True)
class ErrorInfo:
    """Why an execution failed: `type` is a name from `sandbox.errors`."""

    type: str
    message: str


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

    def to_json(self) -> dict[str, Any]:
        """The part of the result shown to the model."""
        error = None if self.error is None else {"type": self.error.type, "message": self.error.message}
        return {"ok": self.ok, "value": self.value, "stdout": self.stdout, "error": error}
