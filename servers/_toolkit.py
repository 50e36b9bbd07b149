"""Small helpers every server shares, so each server.py holds only its tools."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from mcp.server.mcpserver.exceptions import ToolError

__all__ = ["tool_errors"]

P = ParamSpec("P")
R = TypeVar("R")


def tool_errors(*expected: type[Exception]) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A decorator: our own errors (``expected``) become the SDK's ToolError.

    The client then gets an isError result carrying our message, which says the
    cause and the fix. Anything else that escapes is a bug, and the SDK hides its text.
    """

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return fn(*args, **kwargs)
            except expected as exc:
                raise ToolError(str(exc)) from None

        return wrapper

    return decorate
