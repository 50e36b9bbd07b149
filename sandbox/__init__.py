"""Run model-written Python in a restricted interpreter, one fresh process per run.

The code is compiled with RestrictedPython and runs in a worker process with
resource limits; each permitted tool is a callable whose calls travel over the
worker's pipe to the host, where a `ToolBridge` answers them. This package
knows nothing of MCP or HTTP.
"""

from typing import TYPE_CHECKING, Any

from sandbox.errors import SandboxUnavailable, ToolCallFailed
from sandbox.types import ErrorInfo, ExecutionResult, Limits, ToolBridge, ToolCallRecord

if TYPE_CHECKING:
    from sandbox.host import run

__all__ = [
    "ErrorInfo",
    "ExecutionResult",
    "Limits",
    "SandboxUnavailable",
    "ToolBridge",
    "ToolCallFailed",
    "ToolCallRecord",
    "run",
]


def __getattr__(name: str) -> Any:
    # `run` is imported on first use: every worker process imports this package
    # (`python -m sandbox.worker`), and the host side's imports (anyio, logging,
    # tempfile) would otherwise double the worker's start-up time.
    if name == "run":
        from sandbox.host import run

        return run
    raise AttributeError(f"module 'sandbox' has no attribute {name!r}")
