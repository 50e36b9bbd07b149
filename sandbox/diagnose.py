"""Describe an exception from the code as an ErrorInfo the model can act on.

Messages cite the line in the model's code (frames from other files, i.e.
the worker and the standard library, are skipped) and never carry host paths
or stack frames.
"""

from __future__ import annotations

import sys
from types import TracebackType

from sandbox import errors, policy
from sandbox.guards import ForbiddenAttributeError
from sandbox.modules import ForbiddenImportError
from sandbox.tools import ToolCallLimitError, ToolError
from sandbox.types import ErrorInfo

_MAX_MESSAGE_CHARS = 2000
_TOOL_ERROR_HINT = "catch it with `except ToolError as e:`, or change the call's arguments"


def code_line(tb: TracebackType | None) -> int | None:
    """Line number of the innermost frame that belongs to the model's code."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == policy.CODE_FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def describe(exc: BaseException, memory_bytes: int) -> ErrorInfo:
    """Map an uncaught exception to an error type and a cause-and-fix message."""
    line = code_line(exc.__traceback__)
    where = f"Line {line}: " if line is not None else ""
    kind, message = _classify(exc, memory_bytes)
    if isinstance(exc, ToolError) and not isinstance(exc, ToolCallLimitError):
        tool = exc.tool or None
        return ErrorInfo(kind, _clip(where + message), tool, _TOOL_ERROR_HINT)
    return ErrorInfo(kind, _clip(where + message))


def _classify(exc: BaseException, memory_bytes: int) -> tuple[str, str]:
    if isinstance(exc, ToolCallLimitError):
        return errors.TOOL_CALL_LIMIT_EXCEEDED, str(exc)
    if isinstance(exc, ToolError):
        return errors.TOOL_ERROR, _tool_message(exc)
    if isinstance(exc, ForbiddenAttributeError):
        return errors.FORBIDDEN_ATTRIBUTE, str(exc)
    if isinstance(exc, ForbiddenImportError):
        return errors.FORBIDDEN_IMPORT, str(exc)
    if isinstance(exc, RecursionError):
        return errors.RECURSION_LIMIT_EXCEEDED, (
            f"recursion deeper than {sys.getrecursionlimit()} calls: use a loop or an explicit stack instead."
        )
    if isinstance(exc, MemoryError):
        return errors.MEMORY_LIMIT_EXCEEDED, (
            f"the code ran out of memory (limit {memory_bytes // (1024 * 1024)} MiB): "
            "process the data in smaller pieces and keep fewer large objects alive."
        )
    return type(exc).__name__, _plain_message(exc)


def _tool_message(exc: ToolError) -> str:
    """The tool's own message, named once: the host's messages may already start with the tool."""
    text = str(exc) or "the tool reported an error without a message"
    if not exc.tool or text.startswith(exc.tool):
        return text
    return f"{exc.tool}: {text}"


def _plain_message(exc: BaseException) -> str:
    name = getattr(exc, "name", None) if isinstance(exc, NameError) else None
    if isinstance(name, str) and name in policy.EXCLUDED_BUILTINS:
        return f"name '{name}' is not available in the sandbox: {policy.EXCLUDED_BUILTINS[name]}."
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _clip(message: str) -> str:
    if len(message) <= _MAX_MESSAGE_CHARS:
        return message
    return message[:_MAX_MESSAGE_CHARS] + " ... [message truncated]"
