"""Access tokens: short-lived JWTs (RFC 9068 profile) signed by the portal, verified on every request.

Claims: ``iss`` (the portal's base URL), ``aud`` (its ``/mcp`` URL, the RFC 8707
resource), ``sub`` (the user's anonymous UUID, never an email), ``client_id``,
``scope``, ``groups``, ``iat``/``nbf``/``exp``, ``jti``, and ``sid``, the
refresh-token family the token was minted from, so revoking a login also stops
its access tokens. The header names the key (``kid``) and the type ``at+jwt``,
which keeps the portal's other JWTs (pending logins) from passing as access tokens.

A refused token gets a reason only when its signature verified with one of the
portal's keys (`AccessTokens.refusal_reason`): its holder got it from this
portal, so telling them it was minted for another port helps them, and nobody
can make the portal repeat text of their own choosing.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from mcp.server.auth.provider import AccessToken

from portal.auth import GROUPS_CLAIM
from portal.oauth.keys import ALGORITHM, KeySet, SigningKey
from portal.oauth.storage import OAuthStore

__all__ = ["ACCESS_TOKEN_TYPE", "DEV_CLIENT_ID", "AccessTokens", "TokenSettings"]

ACCESS_TOKEN_TYPE = "at+jwt"
DEV_CLIENT_ID = "portal-dev-token"  # the client_id of `portal token` tokens
LEEWAY_SECONDS = 30  # clock skew tolerated between replicas
_REQUIRED = ["iss", "aud", "sub", "exp", "iat", "nbf", "jti", "client_id"]
_SHOWN_CHARS = 200
# For a refusal's reason: the signature is checked, the claims are compared one by one to name the wrong one.
_SIGNATURE_ONLY: Any = {
    "verify_signature": True,
    "verify_aud": False,
    "verify_iss": False,
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
}
# Safe inside a WWW-Authenticate quoted-string: printable ASCII without '"' and '\\'.
_UNSAFE_IN_HEADER = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")


@dataclass(frozen=True)
class TokenSettings:
    issuer: str  # the portal's base URL
    resource: str  # the portal's /mcp URL: every access token's audience
    access_ttl_seconds: int
    accept_dev_tokens: bool  # only in auth mode "dev"


class AccessTokens:
    def __init__(self, keys: KeySet, settings: TokenSettings, store: OAuthStore | None) -> None:
        self.keys = keys
        self.settings = settings
        self._store = store

    def encode(
        self,
        key: SigningKey,
        *,
        user_id: str,
        groups: list[str],
        client_id: str,
        scopes: list[str],
        ttl_seconds: int | None = None,
        family_id: str | None = None,
    ) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.settings.issuer,
            "aud": self.settings.resource,
            "sub": user_id,
            "client_id": client_id,
            "scope": " ".join(scopes),
            GROUPS_CLAIM: list(groups),
            "iat": now,
            "nbf": now,
            "exp": now + (ttl_seconds or self.settings.access_ttl_seconds),
            "jti": uuid.uuid4().hex,
        }
        if family_id is not None:
            claims["sid"] = family_id
        headers = {"kid": key.kid, "typ": ACCESS_TOKEN_TYPE}
        return jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers=headers)

    async def mint(self, **fields: Any) -> str:
        return self.encode(await self.keys.signing_key(), **fields)

    async def verify(self, token: str) -> AccessToken | None:
        """The token's meaning if it is valid now for this portal's /mcp; None for any fault."""
        claims = await self._claims(token)
        if claims is None:
            return None
        if claims["client_id"] == DEV_CLIENT_ID and not self.settings.accept_dev_tokens:
            return None  # development tokens are worthless once the portal leaves dev mode
        family = claims.get("sid")
        if family is not None and self._store is not None and await self._store.family_revoked(str(family)):
            return None
        groups = claims.get(GROUPS_CLAIM)
        return AccessToken(
            token=token,
            client_id=str(claims["client_id"]),
            scopes=str(claims.get("scope", "")).split(),
            expires_at=int(claims["exp"]),
            resource=self.settings.resource,
            subject=str(claims["sub"]),
            claims={
                "iss": claims["iss"],
                GROUPS_CLAIM: [str(g) for g in groups] if isinstance(groups, list) else [],
                "sid": family,
                "jti": claims["jti"],
            },
        )

    async def refusal_reason(self, token: str) -> str | None:
        """Why `verify` refused a token this portal signed, when the holder can act on it; else None."""
        key = await self._key_for(token)
        if key is None:
            return None
        try:
            claims = jwt.decode(token, key.public_key, algorithms=[ALGORITHM], options=_SIGNATURE_ONLY)
        except jwt.InvalidTokenError:
            return None
        audience = claims.get("aud")
        if audience != self.settings.resource and not (
            isinstance(audience, list) and self.settings.resource in audience
        ):
            return (
                f"token audience {_shown(audience)} is not this portal's {self.settings.resource}: "
                + _remedy(claims)
            )
        if claims.get("client_id") == DEV_CLIENT_ID and not self.settings.accept_dev_tokens:
            return "development tokens (portal token) are accepted only in auth mode dev: log in with OAuth"
        return None

    async def _key_for(self, token: str) -> SigningKey | None:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            return None
        # Checked before any key is touched: the algorithm is ours alone ("none" and HS256 keyed with
        # the public key fail here), the type is an access token's, and the kid is one we published.
        if header.get("alg") != ALGORITHM or header.get("typ") != ACCESS_TOKEN_TYPE:
            return None
        kid = header.get("kid")
        return await self.keys.find(kid) if isinstance(kid, str) else None

    async def _claims(self, token: str) -> dict[str, Any] | None:
        key = await self._key_for(token)
        if key is None:
            return None
        try:
            return jwt.decode(
                token,
                key.public_key,
                algorithms=[ALGORITHM],
                audience=self.settings.resource,
                issuer=self.settings.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": _REQUIRED},
            )
        except jwt.InvalidTokenError:
            return None

    async def verify_token(self, token: str) -> AccessToken | None:
        """The SDK's TokenVerifier protocol."""
        return await self.verify(token)


def _shown(value: object) -> str:
    """A claim as the refusal shows it: bounded, and safe in a header's quoted-string."""
    text = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    text = _UNSAFE_IN_HEADER.sub("?", text)
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "..."


def _remedy(claims: dict[str, Any]) -> str:
    if claims.get("client_id") == DEV_CLIENT_ID:
        return "mint it with `portal token --port <this portal's port>` (or --url)"
    return "log in to this portal again"
