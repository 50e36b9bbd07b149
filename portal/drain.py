"""Graceful shutdown: finish the requests in flight, refuse new ones with 503 and ``Retry-After``.

On SIGTERM (portal/serving.py) the replica starts draining: ``/readyz`` turns
503, new requests to ``/mcp`` are answered 503 with ``Retry-After`` (a load
balancer or a client retries them on another replica; nothing has run), and the
requests already in flight, executions among them, run to their end or until
the drain deadline, whichever comes first. Only then does the server stop.
"""

from __future__ import annotations

import json
import math

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["RETRY_AFTER_SECONDS", "Drain", "DrainGate"]

RETRY_AFTER_SECONDS = 1  # another replica can take the request at once
# The SDK client ends its session on a DELETE; letting it through costs nothing and frees the session.
_ALWAYS_ALLOWED = frozenset({"DELETE"})


class Drain:
    """Whether this replica is shutting down, and how many ``/mcp`` requests it is still answering."""

    def __init__(self, deadline_seconds: float) -> None:
        self.deadline_seconds = deadline_seconds
        self.draining = False
        self.in_flight = 0
        self._idle: anyio.Event | None = None  # made inside the event loop, by the first request

    def begin(self) -> None:
        self.draining = True

    def started(self) -> None:
        self.in_flight += 1
        if self.in_flight == 1:
            self._idle = anyio.Event()

    def finished(self) -> None:
        self.in_flight -= 1
        if self.in_flight == 0 and self._idle is not None:
            self._idle.set()

    async def wait_idle(self) -> bool:
        """Wait until no request is in flight, at most the deadline; False when the deadline cut it short."""
        with anyio.move_on_after(self.deadline_seconds):
            while self.in_flight and self._idle is not None:
                await self._idle.wait()
            return True
        return False


class DrainGate:
    """ASGI middleware in front of ``/mcp``: counts requests in flight, refuses new ones while draining.

    A standalone GET stream (server-to-client notifications) never ends by
    itself, so it is not counted: the drain waits for answers, not for listeners.
    """

    def __init__(self, app: ASGIApp, drain: Drain) -> None:
        self.app = app
        self._drain = drain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if self._drain.draining and method not in _ALWAYS_ALLOWED:
            await _refuse(send)
            return
        if method != "POST":
            await self.app(scope, receive, send)
            return
        self._drain.started()
        try:
            await self.app(scope, receive, send)
        finally:
            self._drain.finished()


async def _refuse(send: Send) -> None:
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": None,
            "error": {"code": -32000, "message": "this portal replica is shutting down: retry the request"},
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"retry-after", str(math.ceil(RETRY_AFTER_SECONDS)).encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
