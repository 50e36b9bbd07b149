"""Login behind an identity-aware proxy: trust its signed JWT header, and nothing else it sends.

Cloudflare Access (``Cf-Access-Jwt-Assertion``), Google IAP
(``x-goog-iap-jwt-assertion``) and oauth2-proxy (the id_token it passes on)
each put a JWT in a header of every request they let through. ``/login``
verifies it against the proxy's JWKS, with the configured algorithms, audience
and issuer, and takes the email (and groups) from its claims. A plain
``X-Email`` style header is never trusted: anyone reaching the portal around the
proxy could set it.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio.to_thread
import jwt
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.config import ProxyConfig
from portal.oauth.login import LOGIN_PATH, LoginFlow, LoginResult, error_page, expired_request_page
from portal.oauth.oidc import claim_at, groups_from

__all__ = ["ProxyLogin", "ProxyAssertionError"]

logger = logging.getLogger(__name__)
_LEEWAY_SECONDS = 60


class ProxyAssertionError(Exception):
    """The proxy's header is missing or does not verify; the message says which."""


class ProxyLogin:
    name = "proxy"

    def __init__(self, config: ProxyConfig, flow: LoginFlow) -> None:
        self._config = config
        self._flow = flow
        self._jwks = jwt.PyJWKClient(config.jwks_url, cache_keys=True, lifespan=300, timeout=10)

    def routes(self) -> list[Route]:
        return [Route(LOGIN_PATH, self.login, methods=["GET"])]

    async def login(self, request: Request) -> Response:
        pending = await self._flow.open(request.query_params.get("request"))
        if pending is None:
            return expired_request_page()
        try:
            claims = await self.verify(request.headers.get(self._config.header))
        except ProxyAssertionError as exc:
            logger.warning("proxy login refused: %s", exc)
            return error_page(401, "Not signed in at the proxy", str(exc))
        email = claim_at(claims, self._config.email_claim)
        if not isinstance(email, str) or "@" not in email:
            return error_page(
                403, "No email", f"The proxy's JWT has no email in claim {self._config.email_claim!r}."
            )
        return await self._flow.finish(
            pending, LoginResult(email, groups_from(claims, self._config.groups_claim))
        )

    async def verify(self, assertion: str | None) -> dict[str, Any]:
        if not assertion:
            raise ProxyAssertionError(
                f"no {self._config.header} header in the request: is {LOGIN_PATH} served through the proxy?"
            )
        if assertion[:7].lower() == "bearer ":  # oauth2-proxy passes the id_token as Authorization: Bearer
            assertion = assertion[7:].strip()
        try:
            signing_key = await anyio.to_thread.run_sync(self._jwks.get_signing_key_from_jwt, assertion)
            return jwt.decode(
                assertion,
                signing_key.key,
                algorithms=list(self._config.algorithms),
                audience=self._config.audience,
                issuer=self._config.issuer,
                leeway=_LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "aud", "iss"]},
            )
        except jwt.PyJWKClientError as exc:
            raise ProxyAssertionError(
                f"the proxy's key set at {self._config.jwks_url} gave no key: {exc}"
            ) from None
        except jwt.InvalidTokenError as exc:
            raise ProxyAssertionError(f"the {self._config.header} JWT does not verify: {exc}") from None
