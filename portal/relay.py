"""What an upstream says during one call, and who hears it: the caller whose call caused it.

Upstream servers send log messages, progress, and elicitation or sampling
requests while a call runs, on one connection the portal shares between
callers. The caller of the MCP request being handled sets a `CallSink` for its
context (`calling_as`); `portal.registry` passes what the upstream says to the
sink of the call in flight. The upstream's messages carry no request id, so
when calls of *different* sinks are in flight on one upstream at once, nobody
gets them (a log line of one user must never reach another): logs are
dropped and requests refused, which `docs/protocol.md` states.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol

import mcp_types as types

__all__ = ["CallSink", "calling_as", "current_sink", "refusal"]


class CallSink(Protocol):
    """Where one caller's upstream traffic goes (portal/mcp_server.py implements it per request)."""

    async def log(self, namespace: str, params: types.LoggingMessageNotificationParams) -> None: ...

    async def progress(
        self, namespace: str, progress: float, total: float | None, message: str | None
    ) -> None:
        """Upstream progress of a call made with this sink (direct mode: relayed as it is)."""

    async def call_started(self, namespace: str, tool: str) -> None: ...

    async def call_finished(self, namespace: str, tool: str, ok: bool) -> None: ...

    async def elicit(
        self, namespace: str, params: types.ElicitRequestParams
    ) -> types.ElicitResult | types.ErrorData:
        """Ask the caller's client, on behalf of the upstream."""

    async def sample(
        self, namespace: str, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult | types.ErrorData: ...


_current: ContextVar[CallSink | None] = ContextVar("portal_call_sink", default=None)


def current_sink() -> CallSink | None:
    return _current.get()


@contextmanager
def calling_as(sink: CallSink | None) -> Iterator[None]:
    """Upstream calls made in this context (and tasks started from it) report to ``sink``."""
    token = _current.set(sink)
    try:
        yield
    finally:
        _current.reset(token)


def refusal(what: str) -> types.ErrorData:
    """The answer to an upstream request the portal cannot put to any one caller."""
    return types.ErrorData(
        code=types.INVALID_REQUEST,
        message=f"the portal cannot relay this {what}: no one caller's request is in flight on this server",
    )
