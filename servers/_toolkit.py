"""The parts every server shares, so each server.py holds only its tools.

- ``tool_registrar(server, *errors)``: ``@tool(READ)`` registers a tool whose own errors
  become the SDK's ToolError (sync and async tools alike), addresses hidden.
- ``READ``, ``ADD``: the common tool annotations.
- ``clip``, ``clip_middle``, ``clip_strings``: long text cut to a limit with a marker saying
  how much was left out.
- ``page_size``, ``next_start``, ``page_of``: the arithmetic of paged lists.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Sequence
from functools import wraps
from typing import Any, ParamSpec, TypeVar, cast, overload

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

__all__ = [
    "ADD",
    "IDEMPOTENT_WRITE",
    "READ",
    "clip",
    "clip_middle",
    "clip_strings",
    "hide_addresses",
    "next_start",
    "page_of",
    "page_size",
    "tool_errors",
    "tool_registrar",
]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

# Reads change nothing, so repeating them is harmless.
READ = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True
)
# Creating a record adds data and overwrites nothing; a repeated call adds another one.
ADD = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True
)
# A write that deletes nothing, and that changes nothing more when repeated (resolve, register).
IDEMPOTENT_WRITE = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=True
)

# An upstream's own error text can name internal URLs and host:port pairs; a model has no use
# for them and they map the network. A host is `localhost`, an IPv4 address, or a dotted name,
# so "line 1:5" and "12:00" are left alone.
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>)\]]+")
_HOST_PORT = re.compile(
    r"\b(?:localhost|\d{1,3}(?:\.\d{1,3}){3}|[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*\.[a-zA-Z]{2,})(?::\d{1,5})\b"
)
HIDDEN = "[address hidden]"


def hide_addresses(text: str) -> str:
    """The text with every URL and host:port replaced by a marker (public for tests)."""
    return _HOST_PORT.sub(HIDDEN, _URL.sub(HIDDEN, text))


def _tool_error(exc: Exception) -> ToolError:
    return ToolError(hide_addresses(str(exc)))


def tool_errors(*expected: type[Exception]) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A decorator: our own errors (``expected``, and ToolError) become the SDK's ToolError.

    The client then gets an isError result carrying our message, which says the
    cause and the fix, with any upstream address hidden. Anything else that escapes
    is a bug, and the SDK hides its text. Works on sync and async tools alike: an
    async tool keeps an async wrapper, so the SDK still awaits it (issue 11).
    """
    caught: tuple[type[Exception], ...] = (ToolError, *expected)

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        if inspect.iscoroutinefunction(fn):
            coroutine_fn = cast(Callable[P, Awaitable[Any]], fn)

            @wraps(fn)
            async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                try:
                    return await coroutine_fn(*args, **kwargs)
                except caught as exc:
                    raise _tool_error(exc) from None

            return cast(Callable[P, R], async_wrapper)

        @wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return fn(*args, **kwargs)
            except caught as exc:
                raise _tool_error(exc) from None

        return wrapper

    return decorate


Register = Callable[[ToolAnnotations], Callable[[Callable[P, R]], Callable[P, R]]]


def tool_registrar(server: MCPServer, *expected: type[Exception]) -> Register[..., Any]:
    """``tool = tool_registrar(server, BackendError)``, then ``@tool(READ)`` above each tool function."""
    translate = tool_errors(*expected)

    def tool(annotations: ToolAnnotations) -> Callable[[Callable[P, R]], Callable[P, R]]:
        def register(fn: Callable[P, R]) -> Callable[P, R]:
            server.tool(annotations=annotations)(translate(fn))
            return fn

        return register

    return tool


# --- clipping: a model reads every character, so long text is cut, and says so --------------------


@overload
def clip(text: str, limit: int) -> str: ...
@overload
def clip(text: None, limit: int) -> None: ...
def clip(text: str | None, limit: int) -> str | None:
    """The first ``limit`` characters, then a marker saying how many more there were (None stays None)."""
    if text is None or len(text) <= limit:
        return text
    return f"{text[:limit]}… [truncated: {len(text) - limit} more characters]"


def clip_middle(text: str, limit: int) -> str:
    """Cut in the middle: a stack trace's head says where it failed, its tail says what failed."""
    if len(text) <= limit:
        return text
    head = limit * 2 // 5
    return f"{text[:head]}\n… [truncated: {len(text) - limit} more characters] …\n{text[head - limit :]}"


def clip_strings(value: Any, limit: int) -> Any:
    """``clip_middle`` applied to every string inside a JSON-like value."""
    if isinstance(value, str):
        return clip_middle(value, limit)
    if isinstance(value, dict):
        return {key: clip_strings(item, limit) for key, item in value.items()}
    if isinstance(value, list):
        return [clip_strings(item, limit) for item in value]
    return value


# --- paging ----------------------------------------------------------------------------------------


def page_size(requested: int | None, default: int) -> int:
    """The page size a call asked for, or the server's default from its settings."""
    return requested or default


def next_start(start: int, count: int, more: bool) -> int | None:
    """Where the next page starts, or None on the last page (or an empty one)."""
    return start + count if more and count else None


def page_of(items: Sequence[T], offset: int, limit: int) -> tuple[list[T], int, int | None]:
    """One page of an answer held whole: the items, the total, and the next offset (None on the last)."""
    end = offset + limit
    return list(items[offset:end]), len(items), end if end < len(items) else None
