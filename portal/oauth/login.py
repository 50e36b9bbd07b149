"""The seam between the authorization server and whoever logs the user in.

``/authorize`` (the SDK's handler, then ``PortalProvider.authorize``) seals the
validated request into a short-lived JWT and sends the browser to ``/login``.
A `LoginBackend` (the development page, an OIDC provider, an identity-aware
proxy) serves that path, establishes who the user is, and hands a
`LoginResult` to `LoginFlow.finish`, which maps the email to the user's
anonymous id and, if the user approved this client and redirect URI before,
stores a single-use code and redirects back to the client. Otherwise it shows
the consent page (portal/oauth/consent.py), whose Approve or Deny comes back
as a POST to ``/login/consent`` (`LoginFlow.decide`).
The sealed request is signed by the portal's key, so any replica can finish a
login another one started, and nobody can alter its redirect URI or challenge.
"""

from __future__ import annotations

import html
import logging
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import jwt
from mcp.server.auth.provider import construct_redirect_uri
from mcp.server.transport_security import RequestBodyLimitMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route, request_response

from portal.identity import Identities
from portal.oauth.consent import (
    APPROVE,
    CONSENT_PATH,
    DENY,
    ConsentTicket,
    ConsentTickets,
    ConsentView,
    consent_page,
    forget_cookie,
    from_this_browser,
)
from portal.oauth.keys import ALGORITHM, KeySet
from portal.oauth.storage import CodeGrant, OAuthStore, new_secret

__all__ = ["LOGIN_PATH", "LoginBackend", "LoginFlow", "LoginResult", "PendingLogin"]

logger = logging.getLogger(__name__)

LOGIN_PATH = "/login"
PENDING_TYPE = "login-request+jwt"
PENDING_TTL_SECONDS = 600  # time a person has to log in at the identity provider
_CONSENT_FORM_LIMIT = 32 * 1024  # a ticket and a button
_NO_STORE = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
}


@dataclass(frozen=True)
class PendingLogin:
    """A validated /authorize request waiting for the user to log in."""

    client_id: str
    redirect_uri: str
    redirect_uri_provided_explicitly: bool
    code_challenge: str
    state: str | None
    scopes: list[str]
    resource: str | None


@dataclass(frozen=True)
class LoginResult:
    """Who logged in, as the identity provider says: an email and the groups it reports."""

    email: str
    groups: tuple[str, ...]


class LoginBackend(Protocol):
    """Serves ``/login?request=...`` (and whatever callback it needs) and calls ``flow.finish``."""

    name: str

    def routes(self) -> list[Route]: ...


class LoginFlow:
    def __init__(
        self,
        *,
        keys: KeySet,
        issuer: str,
        oauth: OAuthStore,
        identities: Identities,
        code_ttl_seconds: int,
        backend_name: str,
    ) -> None:
        self._keys = keys
        self.issuer = issuer
        self._oauth = oauth
        self._identities = identities
        self._code_ttl = code_ttl_seconds
        self._backend = backend_name
        self.login_url = f"{issuer}{LOGIN_PATH}"
        self._tickets = ConsentTickets(keys, issuer)
        self._secure = issuer.startswith("https://")

    def routes(self) -> list[Route]:
        """The consent form's target; POST only, so no link or redirect can ever approve."""
        endpoint = RequestBodyLimitMiddleware(request_response(self.decide), _CONSENT_FORM_LIMIT)
        return [Route(CONSENT_PATH, endpoint, methods=["GET", "POST"])]

    async def seal(self, pending: PendingLogin) -> str:
        """The pending request as a signed JWT; only this portal's login endpoints accept it."""
        key = await self._keys.signing_key()
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.login_url,
            "iat": now,
            "exp": now + PENDING_TTL_SECONDS,
            "jti": uuid.uuid4().hex,
            "req": asdict(pending),
        }
        return jwt.encode(
            claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid, "typ": PENDING_TYPE}
        )

    async def open(self, sealed: str | None) -> PendingLogin | None:
        if not sealed:
            return None
        try:
            header = jwt.get_unverified_header(sealed)
            if header.get("typ") != PENDING_TYPE or header.get("alg") != ALGORITHM:
                return None
            key = await self._keys.find(str(header.get("kid")))
            if key is None:
                return None
            claims = jwt.decode(
                sealed, key.public_key, algorithms=[ALGORITHM], audience=self.login_url, issuer=self.issuer
            )
            return PendingLogin(**claims["req"])
        except (jwt.InvalidTokenError, TypeError, KeyError):
            return None

    async def login_redirect(self, pending: PendingLogin) -> str:
        return construct_redirect_uri(self.login_url, request=await self.seal(pending))

    async def finish(
        self, pending: PendingLogin, result: LoginResult, *, skip_consent: bool = False
    ) -> Response:
        """The user is known: a code for a client they approved before, else the consent page.

        ``skip_consent`` is only ever passed by the development login with ``auth.dev.skip_consent``,
        which portal/oauth/consent.py (`refuse_unsafe_skip_consent`) allows on a loopback portal only.
        """
        user_id = await self._identities.user_id(result.email)
        groups = sorted(set(result.groups))
        if skip_consent or await self._oauth.consented(
            user_id, pending.client_id, pending.redirect_uri, pending.scopes
        ):
            return await self._issue(pending, user_id, groups)
        return await self._ask(pending, result.email, user_id, groups)

    async def decide(self, request: Request) -> Response:
        """Approve or Deny from the consent page: the ticket must be this browser's (consent.py)."""
        if request.method != "POST":  # a link, an <img>, a redirect: none of them decides anything
            refused = error_page(405, "Use the consent page", "Approve or Deny with the page's buttons.")
            refused.headers["Allow"] = "POST"
            return refused
        form = await request.form()
        ticket = await self._tickets.open(form.get("consent_ticket"))
        pending = _pending_from(ticket)
        if ticket is None or pending is None:
            return error_page(
                400, "Consent request invalid or expired",
                "This approval is not valid (it expires after 10 minutes). Start again from your MCP client.",
            )  # fmt: skip
        if not from_this_browser(ticket, request, self.issuer):
            logger.warning(
                "consent: refused a decision for client %s not posted from its page", pending.client_id
            )
            return error_page(
                403, "Consent not confirmed",
                "This decision did not come from the consent page the portal showed in this browser. "
                "Start again from your MCP client.",
            )  # fmt: skip
        decision = form.get("decision")
        if decision == APPROVE:
            await self._oauth.add_consent(
                ticket.user_id, pending.client_id, pending.redirect_uri, pending.scopes
            )
            logger.info("consent: user %s approved client %s", ticket.user_id, pending.client_id)
            response = await self._issue(pending, ticket.user_id, ticket.groups)
        elif decision == DENY:
            logger.info("consent: user %s denied client %s", ticket.user_id, pending.client_id)
            response = self.deny(pending, "access_denied", "the user denied the client access")
        else:
            return error_page(400, "No decision", "Use the Approve or Deny button of the consent page.")
        return forget_cookie(response, ticket, self._secure)

    async def _ask(self, pending: PendingLogin, email: str, user_id: str, groups: list[str]) -> Response:
        found = await self._oauth.client(pending.client_id)
        if found is None:
            return error_page(
                400, "Unknown client", "The client is no longer registered. Start again from it."
            )
        metadata, _ = found
        view = ConsentView(
            email=email, client_id=pending.client_id, client_name=_text(metadata.get("client_name")),
            client_uri=_text(metadata.get("client_uri")), redirect_uri=pending.redirect_uri,
            scopes=list(pending.scopes), resource=pending.resource,
        )  # fmt: skip
        ticket, cookie, nonce = await self._tickets.issue(asdict(pending), user_id, groups)
        return consent_page(view, ticket, cookie, nonce, self._secure)

    async def _issue(self, pending: PendingLogin, user_id: str, groups: list[str]) -> Response:
        """Store a code for the client and send the browser back to it."""
        code = new_secret()
        grant = CodeGrant(
            client_id=pending.client_id,
            user_id=user_id,
            groups=groups,
            scopes=pending.scopes,
            resource=pending.resource,
            redirect_uri=pending.redirect_uri,
            redirect_uri_provided_explicitly=pending.redirect_uri_provided_explicitly,
            code_challenge=pending.code_challenge,
        )
        await self._oauth.add_code(code, grant, self._code_ttl)
        logger.info("login: user %s via %s for client %s", user_id, self._backend, pending.client_id)
        target = construct_redirect_uri(pending.redirect_uri, code=code, state=pending.state, iss=self.issuer)
        return RedirectResponse(target, status_code=302, headers=_NO_STORE)

    def deny(self, pending: PendingLogin, error: str, description: str) -> Response:
        """Tell the client the login failed (RFC 6749 §4.1.2.1), with its state."""
        target = construct_redirect_uri(
            pending.redirect_uri,
            error=error,
            error_description=description,
            state=pending.state,
            iss=self.issuer,
        )
        return RedirectResponse(target, status_code=302, headers=_NO_STORE)


def _pending_from(ticket: ConsentTicket | None) -> PendingLogin | None:
    if ticket is None:
        return None
    try:
        return PendingLogin(**ticket.request)
    except TypeError:
        return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def error_page(status: int, title: str, detail: str) -> HTMLResponse:
    """A plain page for a person in a browser: what went wrong and what to do."""
    body = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(detail)}</p></body></html>"
    )
    return HTMLResponse(body, status_code=status, headers=_NO_STORE)


def expired_request_page() -> HTMLResponse:
    return error_page(
        400,
        "Login request invalid or expired",
        "This login link is not valid (it expires after 10 minutes). Start again from your MCP client.",
    )


def no_store_headers() -> dict[str, str]:
    return dict(_NO_STORE)


def request_wants(request: Request, name: str) -> str | None:
    value = request.query_params.get(name)
    return value if isinstance(value, str) else None
