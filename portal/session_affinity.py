"""Session ids that name their replica, so a load balancer can send a session back where it lives.

Handshake-era MCP sessions (``initialize``, then ``Mcp-Session-Id`` on every
request) live in the memory of the replica that created them. The first
request carries no id, so hashing the header cannot pick the right replica:
the id is made after the balancer chose. Instead each replica prefixes the ids
it hands out with its name (``r2.<id>``), and the balancer routes on that
prefix (docs/deploy.md; the nginx ``map`` in deploy/nginx.py). A request
whose prefix names another replica, or a replica that has gone, reaches the
SDK unchanged and is answered 404 (an unknown session), and the client starts
a new session. Requests of the stateless 2026-07-28 revision carry no session
id and go to any replica.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["REPLICA_ID_PATTERN", "ReplicaSessionIds"]

REPLICA_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")  # safe inside a header and an nginx map
_HEADER = b"mcp-session-id"


class ReplicaSessionIds:
    """ASGI middleware: ``<replica>.`` added to the session ids going out, taken off the ones coming in."""

    def __init__(self, app: ASGIApp, replica_id: str) -> None:
        if not REPLICA_ID_PATTERN.match(replica_id):
            raise ValueError(f"replica id {replica_id!r} must match {REPLICA_ID_PATTERN.pattern}")
        self.app = app
        self._prefix = f"{replica_id}.".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope = {**scope, "headers": [self._incoming(name, value) for name, value in scope["headers"]]}

        async def tagged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {
                    **message,
                    "headers": [self._outgoing(name, value) for name, value in message.get("headers", [])],
                }
            await send(message)

        await self.app(scope, receive, tagged_send)

    def _incoming(self, name: bytes, value: bytes) -> tuple[bytes, bytes]:
        if name.lower() == _HEADER and value.startswith(self._prefix):
            return name, value[len(self._prefix) :]
        return name, value  # not ours: the SDK finds no such session and answers 404

    def _outgoing(self, name: bytes, value: bytes) -> tuple[bytes, bytes]:
        if name.lower() == _HEADER:
            return name, self._prefix + value
        return name, value
