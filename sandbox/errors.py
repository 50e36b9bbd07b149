"""Error names reported in `ErrorInfo.type`, and the host-side exceptions.

`ErrorInfo.type` is one of these strings (or, for any other uncaught runtime
exception, that exception's class name such as "KeyError"):

    Refused before running
    ├── CODE_TOO_LARGE          code exceeds Limits.max_code_bytes
    ├── CODE_TOO_COMPLEX        code nests deeper than Limits.max_ast_depth
    ├── SYNTAX_ERROR            not valid Python (message cites the line)
    ├── RESTRICTED_CODE         valid Python the sandbox does not allow (e.g. `_names`)
    └── FORBIDDEN_IMPORT        import of a module outside the allowlist
    Stopped while running
    ├── FORBIDDEN_ATTRIBUTE     attribute denied by the runtime guard
    ├── TOOL_ERROR              a tool call failed and the code did not catch it
    ├── TOOL_CALL_LIMIT_EXCEEDED
    ├── RECURSION_LIMIT_EXCEEDED
    ├── MEMORY_LIMIT_EXCEEDED   MemoryError, or the worker was killed for memory
    ├── CPU_TIME_EXCEEDED       RLIMIT_CPU fired (SIGXCPU)
    ├── TIMEOUT                 wall time ran out; the host killed the worker
    └── RESULT_TOO_LARGE        the final value's JSON exceeds Limits.result_bytes
    Sandbox failure
    └── SANDBOX_CRASHED         the worker died or broke the protocol

Output beyond Limits.output_bytes is not an error: it is cut with a marker
line and OUTPUT_LIMIT_EXCEEDED is listed in `ExecutionResult.limits_hit`, so
the value and the kept output still come back.

Host exceptions (the only ones crossing the public API):

    Exception
    ├── ToolCallFailed       raised by a ToolBridge; becomes ToolError in the code
    └── SandboxUnavailable   raised by run() when no worker can be started
"""

from __future__ import annotations

from typing import Final

SYNTAX_ERROR: Final = "SyntaxError"
RESTRICTED_CODE: Final = "RestrictedCode"
FORBIDDEN_IMPORT: Final = "ForbiddenImport"
FORBIDDEN_ATTRIBUTE: Final = "ForbiddenAttribute"
CODE_TOO_LARGE: Final = "CodeTooLarge"
TIMEOUT: Final = "Timeout"
CPU_TIME_EXCEEDED: Final = "CPUTimeExceeded"
MEMORY_LIMIT_EXCEEDED: Final = "MemoryLimitExceeded"
RESULT_TOO_LARGE: Final = "ResultTooLarge"
TOOL_CALL_LIMIT_EXCEEDED: Final = "ToolCallLimitExceeded"
TOOL_ERROR: Final = "ToolError"
RECURSION_LIMIT_EXCEEDED: Final = "RecursionLimitExceeded"
SANDBOX_CRASHED: Final = "SandboxCrashed"
CODE_TOO_COMPLEX: Final = "CodeTooComplex"
OUTPUT_LIMIT_EXCEEDED: Final = "OutputLimitExceeded"


class ToolCallFailed(Exception):
    """Raised by a ToolBridge for a failure the code should see as ToolError.

    The message is shown to the code verbatim: keep it free of secrets.
    """


class SandboxUnavailable(Exception):
    """The worker process could not be started: the sandbox itself is broken."""
