"""Login at an upstream OpenID Connect provider, with authlib's Starlette client.

Discovery from ``<issuer>/.well-known/openid-configuration``; the authorization
code flow with PKCE (S256), ``state`` and ``nonce``; the id_token's signature
(the provider's JWKS), issuer, audience, expiry and nonce checked by authlib,
the issuer pinned to the configured one. The email comes from ``email_claim``
(refused when the provider says it is unverified), the groups from
``groups_claim``. The browser carries the login's state in a signed cookie that
lives ten minutes and is scoped to ``/login``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from typing import Any

from authlib.integrations.starlette_client import OAuth, OAuthError
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from portal.config import OidcConfig
from portal.oauth.login import LOGIN_PATH, LoginFlow, LoginResult, error_page, expired_request_page

__all__ = ["CALLBACK_PATH", "OidcLogin", "claim_at"]

logger = logging.getLogger(__name__)
CALLBACK_PATH = f"{LOGIN_PATH}/callback"
_PENDING = "portal_pending_"
_LEEWAY_SECONDS = 60


def claim_at(claims: dict[str, Any], path: str) -> Any:
    """A claim by dotted path (``realm_access.roles``), or None."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def groups_from(claims: dict[str, Any], path: str | None) -> tuple[str, ...]:
    value = claim_at(claims, path) if path else None
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    return tuple(str(item) for item in value) if isinstance(value, list) else ()


class OidcLogin:
    name = "oidc"

    def __init__(self, config: OidcConfig, flow: LoginFlow, secure_cookie: bool) -> None:
        self._config = config
        self._flow = flow
        self._secure = secure_cookie
        registry = OAuth()
        registry.register(
            "upstream",
            client_id=config.client_id,
            client_secret=config.client_secret.get_secret_value(),
            server_metadata_url=f"{config.issuer}/.well-known/openid-configuration",
            client_kwargs={"scope": " ".join(config.scopes), "code_challenge_method": "S256"},
        )
        self._client: Any = registry.create_client("upstream")

    def routes(self) -> list[Route]:
        return [
            Route(LOGIN_PATH, self._with_session(self.start), methods=["GET"]),
            Route(CALLBACK_PATH, self._with_session(self.callback), methods=["GET"]),
        ]

    def _with_session(self, endpoint: Any) -> ASGIApp:
        from starlette.routing import request_response

        secret = self._config.session_secret
        key = (
            secret.get_secret_value()
            if secret
            else hmac.new(
                self._config.client_secret.get_secret_value().encode(),
                b"mcp-portal login session",
                hashlib.sha256,
            ).hexdigest()
        )
        return SessionMiddleware(
            request_response(endpoint),
            secret_key=key,
            session_cookie="portal_login",
            max_age=600,
            path=LOGIN_PATH,
            same_site="lax",  # the provider's redirect back is a top-level GET: lax cookies come along
            https_only=self._secure,
        )

    async def start(self, request: Request) -> Response:
        sealed = request.query_params.get("request")
        if await self._flow.open(sealed) is None:
            return expired_request_page()
        state = secrets.token_urlsafe(24)
        request.session[_PENDING + state] = sealed
        try:
            return await self._client.authorize_redirect(
                request, self._flow.issuer + CALLBACK_PATH, state=state
            )
        except Exception as exc:  # discovery failed: the provider is down or misconfigured
            logger.warning("OIDC discovery at %s failed: %s", self._config.issuer, exc)
            return error_page(502, "Identity provider unreachable", f"Could not reach {self._config.issuer}.")

    async def callback(self, request: Request) -> Response:
        state = request.query_params.get("state") or ""
        pending = await self._flow.open(request.session.pop(_PENDING + state, None))
        if pending is None:
            return expired_request_page()
        try:
            token = await self._client.authorize_access_token(
                request,
                claims_options={"iss": {"essential": True, "value": self._config.issuer}},
                leeway=_LEEWAY_SECONDS,
            )
        except OAuthError as exc:
            if exc.error in ("access_denied", "login_required", "consent_required", "interaction_required"):
                return self._flow.deny(pending, "access_denied", "the identity provider refused the login")
            logger.warning("OIDC login failed: %s %s", exc.error, exc.description)
            return error_page(
                400, "Login failed", f"The identity provider's answer was refused: {exc.error}."
            )
        except Exception as exc:  # id_token signature, audience, nonce, expiry (joserfc errors) or transport
            logger.warning("OIDC login failed: %s", type(exc).__name__)
            return error_page(400, "Login failed", "The identity provider's id_token did not verify.")
        return await self._finish(pending, dict(token.get("userinfo") or {}))

    async def _finish(self, pending: Any, claims: dict[str, Any]) -> Response:
        if not claims:
            return error_page(
                400, "Login failed", "The identity provider sent no id_token: is 'openid' in scopes?"
            )
        email = claim_at(claims, self._config.email_claim)
        if not isinstance(email, str) or "@" not in email:
            return error_page(
                403, "No email", f"The id_token has no email in claim {self._config.email_claim!r}."
            )
        if claims.get("email_verified") is False:
            return error_page(
                403, "Email not verified", "The identity provider says this email is unverified."
            )
        result = LoginResult(email, groups_from(claims, self._config.groups_claim))
        return await self._flow.finish(pending, result)
