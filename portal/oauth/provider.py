"""The portal's implementation of the SDK's ``OAuthAuthorizationServerProvider``.

The SDK's handlers parse and validate the HTTP side of ``/authorize``,
``/token``, ``/register`` and ``/revoke`` (S256 PKCE, redirect URI match, code
expiry, client authentication); this class decides everything that needs
state or policy: which clients exist, where the user logs in, which codes and
refresh tokens are valid, and what tokens say.

Single use is enforced in the database. A replayed authorization code revokes
the tokens it issued (RFC 6749 §4.1.2); a replayed refresh token revokes its
whole family, the rotated successor included (OAuth 2.1 §4.3.1, reuse
detection), and with it every access token minted from that login.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from urllib.parse import unquote

from mcp.server.auth.middleware.client_auth import AuthenticationError, ClientAuthenticator
from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    AuthorizeError,
    OAuthAuthorizationServerProvider,
    RefreshToken,
    TokenError,
)
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from pydantic import AnyUrl, ValidationError
from starlette.requests import Request

from portal.auth import SCOPE
from portal.config import AuthConfig
from portal.oauth.login import LoginFlow, PendingLogin
from portal.oauth.registration import check_client_metadata
from portal.oauth.storage import Grant, OAuthStore, family_of_code, hash_secret, new_secret
from portal.oauth.tokens import AccessTokens

__all__ = ["HashedSecretAuthenticator", "PortalAuthorizationCode", "PortalProvider", "PortalRefreshToken"]

logger = logging.getLogger(__name__)
# An S256 challenge is the base64url SHA-256 of the verifier: exactly 43 characters (RFC 7636 §4.2).
_S256_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")
_MAX_CLIENT_ID = 64


class PortalAuthorizationCode(AuthorizationCode):
    code_hash: str
    user_id: str
    groups: list[str]


class PortalRefreshToken(RefreshToken):
    token_hash: str
    family_id: str
    user_id: str
    groups: list[str]


def same_resource(given: str, ours: str) -> bool:
    return given.rstrip("/") == ours.rstrip("/")


class PortalProvider(
    OAuthAuthorizationServerProvider[PortalAuthorizationCode, PortalRefreshToken, AccessToken]
):
    def __init__(
        self, *, oauth: OAuthStore, tokens: AccessTokens, flow: LoginFlow, config: AuthConfig, resource: str
    ) -> None:
        self._oauth = oauth
        self._tokens = tokens
        self._flow = flow
        self._config = config
        self.resource = resource

    # --- clients (RFC 7591) --------------------------------------------------------------------

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        if not client_id or len(client_id) > _MAX_CLIENT_ID:
            return None
        found = await self._oauth.client(client_id)
        if found is None:
            return None
        metadata, _ = found
        # The secret is stored hashed and never handed back; HashedSecretAuthenticator checks it.
        return OAuthClientInformationFull.model_validate({**metadata, "client_id": client_id})

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        check_client_metadata(client_info)
        metadata = client_info.model_dump(
            mode="json", exclude_none=True, exclude={"client_id", "client_secret"}
        )
        await self._oauth.add_client(client_info.client_id, client_info.client_secret, metadata)
        logger.info(
            "registered OAuth client %s (%s)", client_info.client_id, client_info.client_name or "unnamed"
        )

    async def secret_matches(self, client_id: str, secret: str) -> bool:
        return await self._oauth.secret_matches(client_id, secret)

    # --- authorization -------------------------------------------------------------------------

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        if not _S256_CHALLENGE.match(params.code_challenge):
            raise AuthorizeError(
                "invalid_request", "code_challenge must be a base64url SHA-256 (S256, 43 chars)"
            )
        if params.resource is not None and not same_resource(params.resource, self.resource):
            raise AuthorizeError("invalid_target", f"this server issues tokens only for {self.resource}")
        pending = PendingLogin(
            client_id=client.client_id,
            redirect_uri=str(params.redirect_uri),
            redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly,
            code_challenge=params.code_challenge,
            state=params.state,
            scopes=params.scopes or [SCOPE],
            resource=self.resource,
        )
        return await self._flow.login_redirect(pending)

    async def load_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: str
    ) -> PortalAuthorizationCode | None:
        found = await self._oauth.code(authorization_code)
        if found is None:
            return None
        grant, expires_at, used = found
        if grant.client_id != client.client_id:
            return None  # another client's code: as if it did not exist
        code_hash = hash_secret(authorization_code)
        if used:
            await self._replayed_code(code_hash)
            return None
        try:
            redirect_uri = AnyUrl(grant.redirect_uri)
        except ValidationError:
            return None
        return PortalAuthorizationCode(
            code=authorization_code,
            scopes=grant.scopes,
            expires_at=expires_at.timestamp(),
            client_id=grant.client_id,
            code_challenge=grant.code_challenge,
            redirect_uri=redirect_uri,
            redirect_uri_provided_explicitly=grant.redirect_uri_provided_explicitly,
            resource=grant.resource,
            subject=grant.user_id,
            code_hash=code_hash,
            user_id=grant.user_id,
            groups=grant.groups,
        )

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: PortalAuthorizationCode
    ) -> OAuthToken:
        if not await self._oauth.use_code(authorization_code.code_hash):
            await self._replayed_code(authorization_code.code_hash)  # lost a race with another exchange
            raise TokenError("invalid_grant", "authorization code was already used")
        grant = _GrantView(client.client_id, authorization_code.user_id, authorization_code.groups,
                           authorization_code.scopes, authorization_code.resource)  # fmt: skip
        return await self._issue(client, grant, family_of_code(authorization_code.code_hash))

    async def _replayed_code(self, code_hash: str) -> None:
        logger.warning("authorization code replayed: revoking the tokens it issued")
        await self._oauth.revoke_family(family_of_code(code_hash))

    # --- refresh tokens (rotation with reuse detection) ----------------------------------------

    async def load_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: str
    ) -> PortalRefreshToken | None:
        grant = await self._oauth.refresh(refresh_token)
        if grant is None or grant.client_id != client.client_id or grant.revoked:
            return None
        if grant.used:
            logger.warning("refresh token reused: revoking login family %s", grant.family_id)
            await self._oauth.revoke_family(grant.family_id)
            return None
        return PortalRefreshToken(
            token=refresh_token,
            client_id=grant.client_id,
            scopes=grant.scopes,
            expires_at=int(grant.expires_at.timestamp()),
            resource=grant.resource,
            subject=grant.user_id,
            token_hash=grant.token_hash,
            family_id=grant.family_id,
            user_id=grant.user_id,
            groups=grant.groups,
        )

    async def exchange_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: PortalRefreshToken, scopes: list[str]
    ) -> OAuthToken:
        if not await self._oauth.use_refresh(refresh_token.token_hash):
            await self._oauth.revoke_family(refresh_token.family_id)
            raise TokenError("invalid_grant", "refresh token was already used; its login is revoked")
        grant = _GrantView(client.client_id, refresh_token.user_id, refresh_token.groups, scopes,
                           refresh_token.resource)  # fmt: skip
        return await self._issue(client, grant, refresh_token.family_id)

    async def _issue(self, client: OAuthClientInformationFull, grant: Grant, family_id: str) -> OAuthToken:
        access = await self._tokens.mint(
            user_id=grant.user_id,
            groups=grant.groups,
            client_id=client.client_id,
            scopes=grant.scopes,
            family_id=family_id,
        )
        refresh = new_secret()
        # The row is written even for a client without the refresh grant: it is the family's record.
        await self._oauth.add_refresh(refresh, family_id, grant, self._config.refresh_token_ttl_seconds)
        return OAuthToken(
            access_token=access,
            token_type="Bearer",
            expires_in=self._config.access_token_ttl_seconds,
            scope=" ".join(grant.scopes),
            refresh_token=refresh if "refresh_token" in client.grant_types else None,
        )

    # --- access tokens and revocation (RFC 7009) -----------------------------------------------

    async def load_access_token(self, token: str) -> AccessToken | None:
        return await self._tokens.verify(token)

    async def revoke_token(self, token: AccessToken | PortalRefreshToken) -> None:
        family = token.family_id if isinstance(token, PortalRefreshToken) else (token.claims or {}).get("sid")
        if family:
            await self._oauth.revoke_family(str(family))
            logger.info("revoked login family %s at the client's request", family)


class _GrantView:
    __slots__ = ("client_id", "user_id", "groups", "scopes", "resource")

    def __init__(
        self, client_id: str, user_id: str, groups: list[str], scopes: list[str], resource: str | None
    ) -> None:
        self.client_id = client_id
        self.user_id = user_id
        self.groups = groups
        self.scopes = scopes
        self.resource = resource


class HashedSecretAuthenticator(ClientAuthenticator):
    """Client authentication at /token and /revoke against the stored hash of the client's secret.

    The SDK's authenticator compares the presented secret with the plaintext from
    ``get_client``; the portal keeps no plaintext, so this one hashes and compares.
    """

    def __init__(self, provider: PortalProvider) -> None:
        super().__init__(provider)
        self._portal = provider

    async def authenticate_request(self, request: Request) -> OAuthClientInformationFull:
        form = await request.form()
        client_id = form.get("client_id")
        if not isinstance(client_id, str) or not client_id:
            raise AuthenticationError("Missing client_id")
        client = await self._portal.get_client(client_id)
        if client is None:
            raise AuthenticationError("Invalid client_id")
        method = client.token_endpoint_auth_method or "none"
        if method == "none":
            return client  # a public client: PKCE, checked by the token handler, is its proof
        presented = (
            _basic_secret(request, client_id)
            if method == "client_secret_basic"
            else form.get("client_secret")
        )
        if not isinstance(presented, str) or not presented:
            raise AuthenticationError("Client secret is required")
        if not await self._portal.secret_matches(client_id, presented):
            raise AuthenticationError("Invalid client_secret")
        return client


def _basic_secret(request: Request, client_id: str) -> str:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        raise AuthenticationError("Missing or invalid Basic authentication in Authorization header")
    try:
        decoded = base64.b64decode(header[6:], validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise AuthenticationError("Invalid Basic authentication header") from None
    basic_id, _, secret = decoded.partition(":")
    if unquote(basic_id) != client_id:
        raise AuthenticationError("Client ID mismatch in Basic auth")
    return unquote(secret)
