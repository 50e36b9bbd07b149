"""Development bearer tokens: ES256 JWTs signed with a key kept in the state folder.

This is the front door until the OAuth authorization server lands: ``portal
token --user EMAIL`` mints a token, and `DevTokenVerifier` checks every
request to ``/mcp`` (signature, algorithm, issuer, audience, expiry). The key
is generated on first use and written with mode 0600.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken

__all__ = [
    "AUDIENCE",
    "DevTokenVerifier",
    "Principal",
    "SigningKey",
    "current_principal",
    "load_signing_key",
]

ALGORITHM = "ES256"
AUDIENCE = "mcp-portal/mcp"
SCOPE = "mcp"
_KEY_FILE = "signing-key.pem"
_LEEWAY_SECONDS = 30


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user's anonymous id (a UUID, never an email) and their groups."""

    user_id: str
    groups: tuple[str, ...]


@dataclass(frozen=True)
class SigningKey:
    private_key: ec.EllipticCurvePrivateKey
    issuer: str

    def mint(self, user_id: str, groups: list[str], ttl_seconds: int) -> str:
        """A token for the user's anonymous id (not their email: tokens travel)."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": user_id,
            "groups": groups,
            "scope": SCOPE,
            "iat": now,
            "nbf": now,
            "exp": now + ttl_seconds,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self.private_key, algorithm=ALGORITHM)

    def verify(self, token: str) -> dict[str, object]:
        """The token's claims; raises jwt.InvalidTokenError for any fault."""
        return jwt.decode(
            token,
            self.private_key.public_key(),
            algorithms=[ALGORITHM],  # one algorithm only: no "none", no HS256 with the public key
            audience=AUDIENCE,
            issuer=self.issuer,
            leeway=_LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "sub", "aud", "iss"]},
        )


def load_signing_key(state_dir: Path, issuer: str) -> SigningKey:
    """Load the portal's key, generating it on first run."""
    path = state_dir / _KEY_FILE
    if path.exists():
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{path} does not hold an EC private key")
        return SigningKey(loaded, issuer)
    state_dir.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    return SigningKey(key, issuer)


class DevTokenVerifier:
    """The SDK's TokenVerifier for development tokens."""

    def __init__(self, key: SigningKey) -> None:
        self._key = key

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            claims = self._key.verify(token)
        except jwt.InvalidTokenError:
            return None
        groups = claims.get("groups")
        return AccessToken(
            token=token,
            client_id="portal-dev-token",
            scopes=str(claims.get("scope", "")).split(),
            expires_at=int(claims["exp"]),  # type: ignore[call-overload]
            resource=AUDIENCE,
            subject=str(claims["sub"]),
            claims={"iss": claims["iss"], "groups": list(groups) if isinstance(groups, list) else []},
        )


def current_principal() -> Principal | None:
    """The caller of the MCP request being handled, if it was authenticated."""
    token = get_access_token()
    if token is None or token.subject is None:
        return None
    groups = (token.claims or {}).get("groups") or []
    return Principal(token.subject, tuple(str(g) for g in groups))
