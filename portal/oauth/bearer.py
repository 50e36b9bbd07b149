"""The gate in front of ``/mcp``: a bearer token, verified, or a challenge that tells the client what to do.

It replaces the SDK's ``RequireAuthMiddleware`` for two gaps the MCP
authorization spec cares about: a request without a token gets
``WWW-Authenticate: Bearer resource_metadata="...", scope="mcp"`` with no
``error`` (RFC 6750 §3.1: no error code when no credentials were sent), and
every challenge names the scope to ask for. A refused token the portal itself
signed gets the reason in ``error_description`` when the verifier can give one
(a `portal token` minted for another port: "token audience ... is not this
portal's ..."); every other refusal stays generic. Behind it, the SDK's auth
context is set exactly as its own middleware would, so ``get_access_token()`` works.
"""

from __future__ import annotations

import json
from typing import Protocol, runtime_checkable

from mcp.server.auth.middleware.auth_context import auth_context_var
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import TokenVerifier
from starlette.authentication import AuthCredentials
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["BearerGate", "ExplainingVerifier", "challenge"]

GENERIC_REFUSAL = "The access token is invalid, expired or revoked"


@runtime_checkable
class ExplainingVerifier(Protocol):
    """A verifier that can say why it refused a token, when saying so is safe (portal/oauth/tokens.py)."""

    async def refusal_reason(self, token: str) -> str | None: ...


def challenge(metadata_url: str, scope: str, error: str | None = None, description: str | None = None) -> str:
    parts = []
    if error:
        parts += [f'error="{error}"', f'error_description="{description}"']
    parts += [f'resource_metadata="{metadata_url}"', f'scope="{scope}"']
    return "Bearer " + ", ".join(parts)


class BearerGate:
    def __init__(
        self, app: ASGIApp, verifier: TokenVerifier, *, metadata_url: str, scope: str, path: str = "/mcp"
    ) -> None:
        self.app = app
        self._verifier = verifier
        self._metadata_url = metadata_url
        self._scope = scope
        self._path = path

    def _guards(self, path: str) -> bool:
        return path == self._path or path.startswith(self._path + "/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._guards(scope["path"]):
            await self.app(scope, receive, send)
            return
        kind, _, credentials = Headers(scope=scope).get("authorization", "").partition(" ")
        if kind.lower() != "bearer" or not credentials.strip():
            await self._refuse(send, 401, None, "Authentication required: send an OAuth access token")
            return
        access = await self._verifier.verify_token(credentials.strip())
        if access is None:
            await self._refuse(send, 401, "invalid_token", await self._reason(credentials.strip()))
            return
        if self._scope not in access.scopes:
            await self._refuse(send, 403, "insufficient_scope", f"The access token lacks scope {self._scope}")
            return
        user = AuthenticatedUser(access)
        scope["user"], scope["auth"] = user, AuthCredentials(access.scopes)
        reset = auth_context_var.set(user)
        try:
            await self.app(scope, receive, send)
        finally:
            auth_context_var.reset(reset)

    async def _reason(self, token: str) -> str:
        if isinstance(self._verifier, ExplainingVerifier):
            return await self._verifier.refusal_reason(token) or GENERIC_REFUSAL
        return GENERIC_REFUSAL

    async def _refuse(self, send: Send, status: int, error: str | None, description: str) -> None:
        payload = (
            {"error": error, "error_description": description}
            if error
            else {"error_description": description}
        )
        body = json.dumps(payload).encode()
        header = challenge(self._metadata_url, self._scope, error, description)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", header.encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
