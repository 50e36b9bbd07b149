"""The consent step: the portal's own page, asking the user before a client gets a code.

Why: any client can register itself (RFC 7591) with any https redirect URI, and
in ``oidc`` mode with an IdP session, or behind a proxy, the login itself shows
the user nothing. Without this page a link to ``/authorize`` would hand a
stranger's client a code for the user (a confused deputy). So once the login
backend knows who the user is, `LoginFlow.finish` (portal/oauth/login.py)
issues a code only for a (user, client, redirect URI) the user approved before;
otherwise it shows this page, which names the client (its self-chosen,
unverified name), the full redirect URI with its host emphasised, the scopes
and the resource.

Approve and Deny are POSTs to ``/login/consent`` that must carry two halves of
one secret, so another site cannot make the browser approve:

- the consent ticket, a JWT signed by the portal's key (typ
  ``consent-ticket+jwt``, audience the consent URL, ten minutes) with the
  sealed request, the user and the SHA-256 of a random nonce; it is only in the
  page, which no other site can read or frame;
- the nonce, only in a cookie set with the page: HttpOnly, ``SameSite=Strict``
  (a cross-site POST does not carry it), its path ``/login/consent``, its name
  unique per ticket so two tabs do not clash.

A ticket someone obtained for their own login does not match the victim's
cookie, and an ``Origin`` or ``Sec-Fetch-Site`` header naming another site is
refused outright. A GET of the consent URL is answered 405: nothing is ever
approved by following a link.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import ipaddress
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jwt
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from portal.config import ConfigError, PortalConfig
from portal.oauth.keys import ALGORITHM, KeySet

__all__ = [
    "APPROVE",
    "CONSENT_PATH",
    "DENY",
    "ConsentTicket",
    "ConsentTickets",
    "ConsentView",
    "consent_page",
    "forget_cookie",
    "from_this_browser",
    "refuse_unsafe_skip_consent",
]

CONSENT_PATH = "/login/consent"
TICKET_TYPE = "consent-ticket+jwt"
TICKET_TTL_SECONDS = 600  # time a person has to read the page
COOKIE_PREFIX = "portal_consent_"
APPROVE, DENY = "approve", "deny"
# Nothing but inline style: no script, no images (a client's logo_uri would be a tracking pixel).
_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": _CSP,
    # Not "no-referrer": under it a browser sends `Origin: null` with the page's own POST, which
    # from_this_browser refuses, so Approve never worked in Chromium (tests/e2e/test_admin_page.py).
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


@dataclass(frozen=True)
class ConsentTicket:
    """An opened ticket: the request to finish, who approves it, and the cookie it is bound to."""

    request: dict[str, Any]
    user_id: str
    groups: list[str]
    binding: str  # SHA-256 hex of the cookie's nonce
    cookie: str  # the cookie's name


@dataclass(frozen=True)
class ConsentView:
    """What the page shows; every field is escaped, client_name and client_uri are the client's own words."""

    email: str
    client_id: str
    client_name: str | None
    client_uri: str | None
    redirect_uri: str
    scopes: list[str]
    resource: str | None


class ConsentTickets:
    """Signs and opens consent tickets with the portal's key; any replica opens another's."""

    def __init__(self, keys: KeySet, issuer: str) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = issuer + CONSENT_PATH

    async def issue(self, request: dict[str, Any], user_id: str, groups: list[str]) -> tuple[str, str, str]:
        """A new ticket, the name of its cookie and the nonce the cookie must hold."""
        key = await self._keys.signing_key()
        nonce, jti, now = secrets.token_urlsafe(32), uuid.uuid4().hex, int(time.time())
        claims = {
            "iss": self._issuer, "aud": self._audience, "iat": now, "exp": now + TICKET_TTL_SECONDS,
            "jti": jti, "sub": user_id, "groups": groups, "req": request, "bnd": _digest(nonce),
        }  # fmt: skip
        headers = {"kid": key.kid, "typ": TICKET_TYPE}
        ticket = jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers=headers)
        return ticket, _cookie_name(jti), nonce

    async def open(self, ticket: object) -> ConsentTicket | None:
        if not isinstance(ticket, str) or not ticket or len(ticket) > 16_384:
            return None
        try:
            header = jwt.get_unverified_header(ticket)
            if header.get("typ") != TICKET_TYPE or header.get("alg") != ALGORITHM:
                return None
            key = await self._keys.find(str(header.get("kid")))
            if key is None:
                return None
            claims = jwt.decode(
                ticket, key.public_key, algorithms=[ALGORITHM], audience=self._audience, issuer=self._issuer,
                options={"require": ["exp", "iat", "jti", "sub"]},
            )  # fmt: skip
            request, groups, binding = claims["req"], claims["groups"], claims["bnd"]
            if not isinstance(request, dict) or not isinstance(groups, list) or not isinstance(binding, str):
                return None
            cookie = _cookie_name(str(claims["jti"]))
            return ConsentTicket(request, str(claims["sub"]), [str(g) for g in groups], binding, cookie)
        except (jwt.InvalidTokenError, KeyError):
            return None


def from_this_browser(ticket: ConsentTicket, request: Request, issuer: str) -> bool:
    """The POST comes from the page this portal showed in this browser (see the module docstring)."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is not None and origin != _origin(issuer):
        return False  # includes "null": an opaque origin is never the portal's page
    nonce = request.cookies.get(ticket.cookie)
    return nonce is not None and hmac.compare_digest(_digest(nonce), ticket.binding)


def consent_page(view: ConsentView, ticket: str, cookie: str, nonce: str, secure: bool) -> HTMLResponse:
    """The page, with the ticket in its form and the nonce in a cookie only the consent POST gets."""
    response = HTMLResponse(_render(view, ticket), headers=PAGE_HEADERS)
    response.set_cookie(
        cookie, nonce, max_age=TICKET_TTL_SECONDS, path=CONSENT_PATH, secure=secure, httponly=True,
        samesite="strict",
    )  # fmt: skip
    return response


def forget_cookie(response: Response, ticket: ConsentTicket, secure: bool) -> Response:
    """A decided ticket's cookie goes, so the same page cannot be submitted twice from this browser."""
    response.delete_cookie(ticket.cookie, path=CONSENT_PATH, secure=secure, httponly=True, samesite="strict")
    return response


def refuse_unsafe_skip_consent(config: PortalConfig) -> None:
    """``auth.dev.skip_consent`` is for a laptop: refused unless the portal is loopback-only, in and out."""
    if not config.auth.dev.skip_consent:
        return
    public_host = urlsplit(config.base_url()).hostname or ""
    if not (_loopback(config.host) and _loopback(public_host)):
        raise ConfigError(
            f"auth.dev.skip_consent lets any OAuth client get codes without asking the user; it is allowed "
            f"only on a loopback portal, but this one listens on {config.host} and is reached at "
            f"{config.base_url()}: remove auth.dev.skip_consent"
        )


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _digest(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def _cookie_name(jti: str) -> str:
    return COOKIE_PREFIX + hashlib.sha256(jti.encode()).hexdigest()[:16]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def emphasised_uri(uri: str) -> str:
    """The full redirect URI, escaped, with its host in <strong>: the part a phisher must fake."""
    parts = urlsplit(uri)
    prefix = f"{parts.scheme}://{parts.netloc}"
    if not parts.netloc or not uri.startswith(prefix):
        return _e(uri)
    return f"{_e(parts.scheme)}://<strong class='host'>{_e(parts.netloc)}</strong>{_e(uri[len(prefix) :])}"


def _where(uri: str) -> str:
    host = urlsplit(uri).hostname or ""
    if _loopback(host):
        return "a program on this computer"
    return f"<strong class='host'>{_e(host)}</strong>" if host else "an application on this device"


def _render(view: ConsentView, ticket: str) -> str:
    name = (
        f"<strong>{_e(view.client_name)}</strong>"
        if view.client_name
        else "<strong>An unnamed client</strong>"
    )
    link = f"<dt>Its web site (its own claim)</dt><dd>{_e(view.client_uri)}</dd>" if view.client_uri else ""
    scopes = "".join(f"<li><code>{_e(scope)}</code></li>" for scope in view.scopes)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>MCP portal: allow access?</title>"
        "<style>body{font-family:sans-serif;max-width:40em;margin:2em auto}.host{background:#ffd;"
        "font-size:1.2em}.unverified{color:#a00}dd{margin:0 0 .8em 1em;word-break:break-all}</style>"
        "</head><body>"
        f"<h1>Allow {name} to use the MCP portal as you?</h1>"
        "<p class='unverified'>Unverified: the client chose this name itself when it registered. "
        "Approve only if you just started this login from an MCP client you trust.</p>"
        f"<p>Signed in as <strong>{_e(view.email)}</strong>. If you approve, the client gets a token "
        f"to call the portal's tools as you, and it is sent to {_where(view.redirect_uri)}.</p>"
        "<dl>"
        f"<dt>Client id</dt><dd><code>{_e(view.client_id)}</code></dd>{link}"
        f"<dt>Sends you back to</dt><dd id='redirect-uri'>{emphasised_uri(view.redirect_uri)}</dd>"
        f"<dt>Scopes</dt><dd><ul>{scopes}</ul></dd>"
        f"<dt>Resource</dt><dd>{_e(view.resource or 'this portal')}</dd>"
        "</dl>"
        f"<form method='post' action='{CONSENT_PATH}'>"
        f"<input type='hidden' name='consent_ticket' value='{_e(ticket)}'>"
        f"<button type='submit' name='decision' value='{DENY}'>Deny</button> "
        f"<button type='submit' name='decision' value='{APPROVE}'>Approve</button>"
        "</form></body></html>"
    )
