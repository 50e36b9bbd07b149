"""Small helpers every server shares, so each server.py holds only its tools."""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar, cast

from mcp.server.mcpserver.exceptions import ToolError

__all__ = ["hide_addresses", "tool_errors"]

P = ParamSpec("P")
R = TypeVar("R")

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
