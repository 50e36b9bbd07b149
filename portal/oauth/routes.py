"""Wire the authorization server: metadata, JWKS, the SDK's OAuth handlers, the login backend, the gate.

Endpoints (all under the portal's base URL):

- ``/.well-known/oauth-protected-resource/mcp`` (and ``/.well-known/oauth-protected-resource``): RFC 9728
- ``/.well-known/oauth-authorization-server``: RFC 8414, with ``jwks_uri`` and RFC 9207 ``iss``
- ``/.well-known/jwks.json``: the keys access tokens are signed with (active and retired-but-valid)
- ``/authorize``, ``/token``, ``/register`` (RFC 7591), ``/revoke`` (RFC 7009): the SDK's handlers, with
  ``/register`` rate-limited per address (``portal/oauth/throttle.py``) and ``/authorize`` showing its
  errors on a page instead of redirecting them (``portal/oauth/authorize.py``)
- ``/login`` (and ``/login/callback`` for OIDC): the login backend
- ``/login/consent``: the consent page's Approve and Deny (portal/oauth/consent.py)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mcp.server.auth.handlers.authorize import AuthorizationHandler
from mcp.server.auth.handlers.register import RegistrationHandler
from mcp.server.auth.handlers.token import TokenHandler
from mcp.server.auth.middleware.client_auth import AuthenticationError
from mcp.server.auth.routes import build_metadata
from mcp.server.auth.settings import ClientRegistrationOptions, RevocationOptions
from mcp.server.transport_security import RequestBodyLimitMiddleware
from mcp.shared.auth import ProtectedResourceMetadata
from mcp.shared.inbound import MCP_PROTOCOL_VERSION_HEADER
from pydantic import AnyHttpUrl
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, request_response
from starlette.types import ASGIApp

from portal.auth import SCOPE
from portal.config import ConfigError, PortalConfig, RegistrationConfig
from portal.identity import Identities
from portal.oauth.authorize import PageOnError
from portal.oauth.bearer import BearerGate
from portal.oauth.consent import refuse_unsafe_skip_consent
from portal.oauth.dev_login import DevLogin
from portal.oauth.housekeeping import PurgePolicy, purge_periodically
from portal.oauth.keys import KeySet
from portal.oauth.login import LoginBackend, LoginFlow
from portal.oauth.provider import HashedSecretAuthenticator, PortalProvider, same_resource
from portal.oauth.registration import MAX_METADATA_BYTES
from portal.oauth.storage import OAuthStore
from portal.oauth.throttle import RegistrationLimiter
from portal.oauth.tokens import AccessTokens, TokenSettings
from portal.store import Store

__all__ = ["JWKS_PATH", "PortalAuth", "build_auth", "key_set_for", "token_settings"]

JWKS_PATH = "/.well-known/jwks.json"
PRM_PATH = "/.well-known/oauth-protected-resource"
# offline_access is accepted (clients that ask for it get what everyone gets: a refresh token).
VALID_SCOPES = [SCOPE, "offline_access"]
_FORM_LIMIT = 64 * 1024
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class PortalAuth:
    routes: list[BaseRoute]
    tokens: AccessTokens
    provider: PortalProvider
    metadata_url: str
    store: Store
    purge_policy: PurgePolicy

    def protect(self, app: ASGIApp) -> ASGIApp:
        return BearerGate(app, self.tokens, metadata_url=self.metadata_url, scope=SCOPE)

    async def purge_periodically(self) -> None:
        """Delete expired codes, refresh tokens and unused clients until cancelled (the app's lifespan)."""
        await purge_periodically(self.store, self.purge_policy)


def token_settings(config: PortalConfig) -> TokenSettings:
    issuer = config.base_url()
    return TokenSettings(
        issuer=issuer,
        resource=f"{issuer}/mcp",
        access_ttl_seconds=config.auth.access_token_ttl_seconds,
        accept_dev_tokens=config.auth.mode == "dev",
    )


def key_set_for(config: PortalConfig, store: Store) -> KeySet:
    longest = max(config.auth.access_token_ttl_seconds, config.auth.token_ttl_seconds)
    return KeySet(store, rotation_days=config.auth.key_rotation_days, max_token_ttl_seconds=longest)


def refuse_unsafe_dev_login(config: PortalConfig) -> None:
    if (
        config.auth.mode == "dev"
        and config.host not in _LOOPBACK
        and not config.auth.allow_dev_login_on_public_address
    ):
        raise ConfigError(
            f"auth.mode is 'dev' (a login page where anyone signs in as anyone) but the portal listens on "
            f"{config.host}: use auth.mode oidc or proxy, or set auth.allow_dev_login_on_public_address: true"
        )


def build_auth(config: PortalConfig, store: Store, identities: Identities) -> PortalAuth:
    refuse_unsafe_dev_login(config)
    refuse_unsafe_skip_consent(config)
    settings = token_settings(config)
    keys = key_set_for(config, store)
    keys.load()
    oauth = OAuthStore(store)
    tokens = AccessTokens(keys, settings, oauth)
    flow = LoginFlow(
        keys=keys, issuer=settings.issuer, oauth=oauth, identities=identities,
        code_ttl_seconds=config.auth.authorization_code_ttl_seconds, backend_name=config.auth.mode,
    )  # fmt: skip
    provider = PortalProvider(
        oauth=oauth, tokens=tokens, flow=flow, config=config.auth, resource=settings.resource
    )
    routes = (
        _oauth_routes(provider, settings, keys, config.auth.registration)
        + _backend(config, flow).routes()
        + flow.routes()
    )
    return PortalAuth(
        routes, tokens, provider, f"{settings.issuer}{PRM_PATH}/mcp", store, purge_policy(config)
    )


def purge_policy(config: PortalConfig) -> PurgePolicy:
    """What the background purge deletes; the grace covers the longest-lived access token."""
    return PurgePolicy(
        unused_client_ttl_seconds=config.auth.registration.unused_client_ttl_seconds,
        access_token_ttl_seconds=max(config.auth.access_token_ttl_seconds, config.auth.token_ttl_seconds),
        interval_seconds=config.auth.registration.purge_interval_seconds,
    )


def _backend(config: PortalConfig, flow: LoginFlow) -> LoginBackend:
    auth = config.auth
    if auth.mode == "oidc" and auth.oidc is not None:
        from portal.oauth.oidc import OidcLogin

        return OidcLogin(auth.oidc, flow, secure_cookie=config.base_url().startswith("https://"))
    if auth.mode == "proxy" and auth.proxy is not None:
        from portal.oauth.proxy import ProxyLogin

        return ProxyLogin(auth.proxy, flow)
    return DevLogin(auth.dev, flow)


def _cors(app: ASGIApp, methods: list[str]) -> ASGIApp:
    """Browser-based MCP clients call these endpoints cross-origin; they carry no cookies."""
    return CORSMiddleware(
        app, allow_origins="*", allow_methods=methods, allow_headers=[MCP_PROTOCOL_VERSION_HEADER]
    )


def _limited(endpoint: Any, limit: int = _FORM_LIMIT) -> ASGIApp:
    return RequestBodyLimitMiddleware(request_response(endpoint), limit)


def _oauth_routes(
    provider: PortalProvider, settings: TokenSettings, keys: KeySet, limits: RegistrationConfig
) -> list[BaseRoute]:
    issuer = AnyHttpUrl(settings.issuer)
    registration = ClientRegistrationOptions(enabled=True, valid_scopes=VALID_SCOPES, default_scopes=[SCOPE])
    metadata = build_metadata(issuer, None, registration, RevocationOptions(enabled=True))
    metadata.scopes_supported = [SCOPE]
    metadata.token_endpoint_auth_methods_supported = ["none", "client_secret_post", "client_secret_basic"]
    metadata.authorization_response_iss_parameter_supported = True
    # Issuers compare as exact strings (RFC 8414 §3.3, RFC 9207): written as configured, no added "/".
    as_metadata = {
        **metadata.model_dump(mode="json", exclude_none=True),
        "jwks_uri": settings.issuer + JWKS_PATH,
        "issuer": settings.issuer,
    }
    resource = ProtectedResourceMetadata(
        resource=AnyHttpUrl(settings.resource),
        authorization_servers=[issuer],
        scopes_supported=[SCOPE],
        resource_name="MCP portal",
    ).model_dump(mode="json", exclude_none=True)
    resource.update(resource=settings.resource, authorization_servers=[settings.issuer])
    authenticator = HashedSecretAuthenticator(provider)
    token_handler = TokenHandler(provider, authenticator)
    register_handler = RegistrationHandler(provider, registration)
    authorize_handler = PageOnError(AuthorizationHandler(provider), settings.issuer)
    limiter = RegistrationLimiter(limits.per_minute, limits.burst)

    async def revoke(request: Request) -> Response:
        # RFC 7009 with public clients: the SDK's handler insists on a client_secret field, which a
        # public client has not got, so this endpoint is ours (client authentication is the SDK's).
        try:
            client = await authenticator.authenticate_request(request)
        except AuthenticationError as exc:
            refusal = {"error": "unauthorized_client", "error_description": exc.message}
            return JSONResponse(refusal, status_code=401)
        form = await request.form()
        token = form.get("token")
        if not isinstance(token, str) or not token:
            return _token_error("invalid_request", "token is required")
        found = await provider.load_access_token(token) or await provider.load_refresh_token(client, token)
        if found is not None and found.client_id == client.client_id:
            await provider.revoke_token(found)
        return Response(status_code=200, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    async def authorization_server(_: Request) -> Response:
        return JSONResponse(as_metadata, headers={"Cache-Control": "public, max-age=3600"})

    async def jwks(_: Request) -> Response:
        await keys.fresh()
        return JSONResponse(keys.jwks(), headers={"Cache-Control": "public, max-age=300"})

    async def token(request: Request) -> Response:
        # RFC 8707 at the token endpoint too (the SDK passes `resource` on to nobody).
        wanted = (await request.form()).get("resource")
        if isinstance(wanted, str) and not same_resource(wanted, settings.resource):
            return _token_error("invalid_target", f"this server issues tokens only for {settings.resource}")
        return await token_handler.handle(request)

    async def register(request: Request) -> Response:
        # Counted before the body is read: a refused registration costs a dictionary lookup.
        wait = limiter.take(request.client.host if request.client else None)
        if wait is not None:
            return _too_many_registrations(limits, wait)
        declared = request.headers.get("content-length", "0")
        # The body is read once and cached by the Request; the SDK's handler reads that copy.
        too_big = not declared.isdigit() or int(declared) > MAX_METADATA_BYTES
        if too_big or len(await request.body()) > MAX_METADATA_BYTES:
            return JSONResponse(
                {"error": "invalid_client_metadata",
                 "error_description": f"registration metadata is limited to {MAX_METADATA_BYTES} bytes"},
                status_code=413,
            )  # fmt: skip
        return await register_handler.handle(request)

    async def prm(_: Request) -> Response:
        return JSONResponse(resource, headers={"Cache-Control": "public, max-age=3600"})

    return [
        Route(
            f"{PRM_PATH}/mcp", _cors(request_response(prm), ["GET", "OPTIONS"]), methods=["GET", "OPTIONS"]
        ),
        Route(PRM_PATH, _cors(request_response(prm), ["GET", "OPTIONS"]), methods=["GET", "OPTIONS"]),
        Route(
            "/.well-known/oauth-authorization-server",
            _cors(request_response(authorization_server), ["GET", "OPTIONS"]),
            methods=["GET", "OPTIONS"],
        ),
        Route(JWKS_PATH, _cors(request_response(jwks), ["GET", "OPTIONS"]), methods=["GET", "OPTIONS"]),
        Route("/authorize", _limited(authorize_handler.handle), methods=["GET", "POST"]),
        Route("/token", _cors(_limited(token), ["POST", "OPTIONS"]), methods=["POST", "OPTIONS"]),
        Route(
            "/register",
            _cors(_limited(register, 2 * MAX_METADATA_BYTES), ["POST", "OPTIONS"]),
            methods=["POST", "OPTIONS"],
        ),
        Route(
            "/revoke",
            _cors(_limited(revoke), ["POST", "OPTIONS"]),
            methods=["POST", "OPTIONS"],
        ),
    ]


def _too_many_registrations(limits: RegistrationConfig, wait: float) -> Response:
    seconds = max(1, math.ceil(wait))
    return JSONResponse(
        {
            "error": "temporarily_unavailable",
            "error_description": f"too many client registrations from your address (the limit is "
            f"{limits.per_minute} a minute): retry in {seconds} s; a client registers once, then keeps "
            "its client_id",
        },
        status_code=429,
        headers={"Retry-After": str(seconds), "Cache-Control": "no-store"},
    )


def _token_error(error: str, description: str) -> Response:
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=400,
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )
