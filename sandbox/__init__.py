"""Run model-written Python in a restricted interpreter, one fresh process per run.

The code is compiled with RestrictedPython and runs in a worker process
forked, fresh for each run, from a fork server that has already imported
everything; the worker is isolated by the OS layers `sandbox.policy` lists
(rlimits, network namespace, dropped uid, Landlock, seccomp) before it reads
the code. Each permitted tool is a callable whose calls travel over the
worker's own channel to the host, where a `ToolBridge` answers them;
`parallel(...)` sends several at once. This package knows nothing of MCP or HTTP.
"""

from typing import TYPE_CHECKING, Any

from sandbox.errors import SandboxUnavailable, ToolCallFailed
from sandbox.types import ErrorInfo, ExecutionResult, Limits, ToolBridge, ToolCallRecord

if TYPE_CHECKING:
    from sandbox.forkserver import ForkServer, start_pool
    from sandbox.host import run
    from sandbox.policy import tighten

__all__ = [
    "ErrorInfo",
    "ExecutionResult",
    "ForkServer",
    "Limits",
    "SandboxUnavailable",
    "ToolBridge",
    "ToolCallFailed",
    "ToolCallRecord",
    "run",
    "start_pool",
    "tighten",
]


def __getattr__(name: str) -> Any:
    # The host side is imported on first use: the fork server imports this
    # package too, and needs none of the host's imports (anyio, logging).
    if name == "run":
        from sandbox.host import run

        return run
    if name in {"ForkServer", "start_pool"}:
        from sandbox import forkserver

        return getattr(forkserver, name)
    if name == "tighten":
        from sandbox.policy import tighten

        return tighten
    raise AttributeError(f"module 'sandbox' has no attribute {name!r}")
