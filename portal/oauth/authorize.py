"""``/authorize`` without error redirects: a bad request gets a page on the portal, never a 302 to the client.

The SDK's ``AuthorizationHandler`` answers a malformed request from a known
client (no ``code_challenge``, a bad ``response_type``, an unknown scope, a
refusal by ``PortalProvider.authorize``) with an immediate redirect to the
client's registered URI. Anyone can register a client, so that turns the
portal into an open redirector towards any URI that passed registration
(RFC 9700 §4.11.2), with no page a person ever sees. This wrapper lets the
SDK validate, then lets through only redirects to the portal itself (the
login, in ``portal/oauth/login.py``); every other answer, a redirect to the
client or the SDK's JSON error, becomes a plain HTML page that names the
error. Errors after the login (``access_denied``) are sent to the client by
``LoginFlow`` with ``iss``, as RFC 9207 asks.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from mcp.server.auth.handlers.authorize import AuthorizationHandler
from starlette.requests import Request
from starlette.responses import Response

from portal.oauth.login import error_page

__all__ = ["PageOnError", "refusal_page"]

_MAX_DESCRIPTION = 300  # the SDK's descriptions can quote the request; the page shows a bounded excerpt


class PageOnError:
    def __init__(self, handler: AuthorizationHandler, issuer: str) -> None:
        self._handler = handler
        self._portal_prefix = issuer.rstrip("/") + "/"

    async def handle(self, request: Request) -> Response:
        response = await self._handler.handle(request)
        if 300 <= response.status_code < 400:
            location = response.headers.get("location", "")
            if location.startswith(self._portal_prefix):
                return response  # on to the portal's own login page
            return refusal_page(*_error_in_query(location))
        if response.status_code >= 400:
            return refusal_page(*_error_in_body(response.body))
        return response


def refusal_page(error: str, description: str) -> Response:
    """A page for the person whose browser carried a bad request; nothing goes back to the client."""
    detail = description if len(description) <= _MAX_DESCRIPTION else description[:_MAX_DESCRIPTION] + "…"
    return error_page(
        400,
        "This sign-in request is not valid",
        f"Error: {error[:64]}" + (f" ({detail})" if detail else "") + ". Nothing was sent back to the "
        "application that opened this page: start again from your MCP client, and tell its developers "
        "if this keeps happening.",
    )


def _error_in_query(location: str) -> tuple[str, str]:
    query = parse_qs(urlsplit(location).query)
    return _first(query.get("error"), "server_error"), _first(query.get("error_description"), "")


def _error_in_body(body: bytes | memoryview) -> tuple[str, str]:
    try:
        parsed = json.loads(bytes(body))
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        return "server_error", ""
    error, description = parsed.get("error"), parsed.get("error_description")
    return (
        error if isinstance(error, str) else "server_error",
        description if isinstance(description, str) else "",
    )


def _first(values: list[str] | None, default: str) -> str:
    return values[0] if values else default
