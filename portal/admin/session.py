"""Who is on the operator page: an OAuth login at the portal itself, then a signed session cookie.

The page is an OAuth client of its own portal (client id ``portal-admin``,
redirect URI ``<base>/admin/callback``, PKCE), so the login is exactly the one
MCP clients get: the configured backend (development page, OIDC, proxy) and
the consent page. The code is exchanged in process, and the browser keeps a
short-lived JWT signed with the portal's key (any replica can check it) naming
the user's anonymous id, groups, login family and a CSRF token. A session
dies with its login family: revoking the page's consent logs the operator out.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlencode

import jwt
from sqlalchemy.exc import IntegrityError
from starlette.requests import Request

from portal.auth import GROUPS_CLAIM, SCOPE
from portal.oauth import PortalAuth
from portal.oauth.keys import ALGORITHM
from portal.oauth.storage import OAuthStore, family_of_code, hash_secret

__all__ = [
    "ADMIN_CLIENT_ID",
    "LOGIN_COOKIE",
    "SESSION_COOKIE",
    "AdminSession",
    "AdminSessions",
    "LoginState",
    "csrf_ok",
]

ADMIN_CLIENT_ID: Final = "portal-admin"
SESSION_COOKIE: Final = "portal_admin"
LOGIN_COOKIE: Final = "portal_admin_login"
_SESSION_TYPE: Final = "admin-session+jwt"
_LOGIN_TYPE: Final = "admin-login+jwt"
LOGIN_TTL_SECONDS: Final = 600


@dataclass(frozen=True)
class AdminSession:
    user_id: str
    groups: tuple[str, ...]
    family_id: str
    csrf: str
    expires_at: int


@dataclass(frozen=True)
class LoginState:
    state: str
    verifier: str


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


class AdminSessions:
    """Starts logins, finishes them, and reads the session cookie back."""

    def __init__(self, auth: PortalAuth, oauth: OAuthStore, base_url: str, ttl_seconds: int) -> None:
        self._auth = auth
        self._keys = auth.tokens.keys
        self._oauth = oauth
        self.base = base_url
        self.redirect_uri = f"{base_url}/admin/callback"
        self._audience = f"{base_url}/admin"
        self._ttl = ttl_seconds
        self.secure = base_url.startswith("https://")

    async def ensure_client(self) -> None:
        """Register the page as a public client; again after a purge (portal/oauth/housekeeping.py)."""
        if await self._oauth.client(ADMIN_CLIENT_ID) is not None:
            return
        metadata = {
            "client_name": "MCP portal operator page",
            "redirect_uris": [self.redirect_uri],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "scope": SCOPE,
        }
        with contextlib.suppress(IntegrityError):  # another replica registered it at the same moment
            await self._oauth.add_client(ADMIN_CLIENT_ID, None, metadata)

    async def start(self) -> tuple[str, str]:
        """The /authorize URL to send the browser to, and the signed login-state cookie value."""
        await self.ensure_client()
        login = LoginState(state=secrets.token_urlsafe(24), verifier=secrets.token_urlsafe(48))
        query = urlencode(
            {
                "response_type": "code",
                "client_id": ADMIN_CLIENT_ID,
                "redirect_uri": self.redirect_uri,
                "code_challenge": _challenge(login.verifier),
                "code_challenge_method": "S256",
                "state": login.state,
                "scope": SCOPE,
                "resource": f"{self.base}/mcp",
            }
        )
        cookie = await self._sign(
            _LOGIN_TYPE, {"state": login.state, "verifier": login.verifier}, LOGIN_TTL_SECONDS
        )
        return f"{self.base}/authorize?{query}", cookie

    async def finish(
        self, code: str, state: str, login_cookie: str | None
    ) -> tuple[AdminSession, str] | None:
        """Exchange the code (PKCE checked here) for a session; None for any fault, never a reason."""
        claims = await self._open(login_cookie, _LOGIN_TYPE)
        if claims is None or not hmac.compare_digest(str(claims.get("state")), state):
            return None
        client = await self._auth.provider.get_client(ADMIN_CLIENT_ID)
        if client is None:
            return None
        grant = await self._auth.provider.load_authorization_code(client, code)
        if grant is None or grant.expires_at < time.time() or str(grant.redirect_uri) != self.redirect_uri:
            return None
        if not hmac.compare_digest(_challenge(str(claims.get("verifier"))), grant.code_challenge):
            return None
        await self._auth.provider.exchange_authorization_code(client, grant)  # marks the code used
        session = AdminSession(
            user_id=grant.user_id,
            groups=tuple(grant.groups),
            family_id=family_of_code(hash_secret(code)),
            csrf=secrets.token_urlsafe(24),
            expires_at=int(time.time()) + self._ttl,
        )
        fields = {"sub": session.user_id, GROUPS_CLAIM: list(session.groups), "sid": session.family_id,
                  "csrf": session.csrf}  # fmt: skip
        return session, await self._sign(_SESSION_TYPE, fields, self._ttl)

    async def current(self, request: Request) -> AdminSession | None:
        """The session the request's cookie proves, if it is valid and its login is not revoked."""
        claims = await self._open(request.cookies.get(SESSION_COOKIE), _SESSION_TYPE)
        if claims is None:
            return None
        groups = claims.get(GROUPS_CLAIM)
        family = str(claims.get("sid"))
        if not isinstance(groups, list) or await self._oauth.family_revoked(family):
            return None
        return AdminSession(
            user_id=str(claims["sub"]), groups=tuple(str(g) for g in groups), family_id=family,
            csrf=str(claims.get("csrf")), expires_at=int(claims["exp"]),
        )  # fmt: skip

    async def logout(self, session: AdminSession) -> None:
        await self._oauth.revoke_family(session.family_id)

    async def _sign(self, typ: str, fields: dict[str, Any], ttl: int) -> str:
        key = await self._keys.signing_key()
        now = int(time.time())
        claims = {"iss": self.base, "aud": self._audience, "iat": now, "exp": now + ttl,
                  "jti": uuid.uuid4().hex, **fields}  # fmt: skip
        return jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid, "typ": typ})

    async def _open(self, token: str | None, typ: str) -> dict[str, Any] | None:
        if not token or len(token) > 8192:
            return None
        try:
            header = jwt.get_unverified_header(token)
            if header.get("typ") != typ or header.get("alg") != ALGORITHM:
                return None
            key = await self._keys.find(str(header.get("kid")))
            if key is None:
                return None
            claims: dict[str, Any] = jwt.decode(
                token, key.public_key, algorithms=[ALGORITHM], audience=self._audience, issuer=self.base
            )
            return claims
        except jwt.InvalidTokenError:
            return None


def csrf_ok(session: AdminSession, presented: object) -> bool:
    return isinstance(presented, str) and hmac.compare_digest(session.csrf.encode(), presented.encode())
