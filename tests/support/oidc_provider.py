"""A small OpenID Connect provider for tests, on Starlette, served by uvicorn on 127.0.0.1.

Discovery, JWKS (one RS256 key), ``/authorize`` that logs the configured user in
without asking (PKCE S256 required, redirect URI checked), ``/token`` with
client authentication and the PKCE check, and an id_token carrying the nonce.
``misbehave`` makes it lie in one way (issuer, audience, nonce, signature,
unverified email) so tests can watch the portal refuse it. The same key signs
the assertions of the identity-aware-proxy tests (`sign`).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CLIENT_ID = "mcp-portal"
CLIENT_SECRET = "portal-secret-for-tests"
KID = "test-idp-key"


@dataclass
class IdpUser:
    email: str
    groups: list[str]
    email_verified: bool = True


@dataclass
class OidcProvider:
    url: str
    user: IdpUser
    redirect_uris: list[str] = field(default_factory=list)
    misbehave: str | None = None  # "issuer", "audience", "nonce", "signature", "deny"
    key: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: int = 0

    def sign(self, claims: dict[str, Any], key: rsa.RSAPrivateKey | None = None) -> str:
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": KID})

    def jwks(self) -> dict[str, Any]:
        public = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**public, "kid": KID, "use": "sig", "alg": "RS256"}]}

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/jwks", lambda _: JSONResponse(self.jwks())),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
            ]
        )

    async def discovery(self, _: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.url,
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            }
        )

    async def authorize(self, request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != CLIENT_ID or q.get("redirect_uri") not in self.redirect_uris:
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge") or not q.get("nonce"):
            return JSONResponse({"error": "invalid_request", "error_description": "PKCE and nonce"}, 400)
        if self.misbehave == "deny":
            query = urlencode({"error": "access_denied", "state": q.get("state", "")})
            return RedirectResponse(f"{q['redirect_uri']}?{query}", status_code=302)
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "challenge": q["code_challenge"],
            "nonce": q["nonce"],
            "redirect_uri": q["redirect_uri"],
        }
        query = urlencode({"code": code, "state": q.get("state", "")})
        return RedirectResponse(f"{q['redirect_uri']}?{query}", status_code=302)

    async def token(self, request: Request) -> Response:
        self.token_requests += 1
        form = await request.form()
        if not self._client_authenticated(request, form):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = self.codes.pop(str(form.get("code")), None)
        if grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        digest = hashlib.sha256(str(form.get("code_verifier", "")).encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant["challenge"]:
            return JSONResponse({"error": "invalid_grant", "error_description": "PKCE"}, status_code=400)
        return JSONResponse(
            {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 300,
             "id_token": self._id_token(grant["nonce"])}
        )  # fmt: skip

    def _client_authenticated(self, request: Request, form: Any) -> bool:
        header = request.headers.get("authorization", "")
        if header.startswith("Basic "):
            return base64.b64decode(header[6:]).decode() == f"{CLIENT_ID}:{CLIENT_SECRET}"
        return form.get("client_id") == CLIENT_ID and form.get("client_secret") == CLIENT_SECRET

    def _id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims = {
            "iss": "https://evil.example" if self.misbehave == "issuer" else self.url,
            "aud": "someone-else" if self.misbehave == "audience" else CLIENT_ID,
            "sub": "idp-subject-1",
            "email": self.user.email,
            "email_verified": self.user.email_verified,
            "groups": self.user.groups,
            "nonce": "another-nonce" if self.misbehave == "nonce" else nonce,
            "iat": now,
            "exp": now + 300,
        }
        forged_key = rsa.generate_private_key(65537, 2048) if self.misbehave == "signature" else None
        return self.sign(claims, forged_key)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_oidc_provider(user: IdpUser) -> Iterator[OidcProvider]:
    port = _free_port()
    provider = OidcProvider(f"http://127.0.0.1:{port}", user)
    server = uvicorn.Server(uvicorn.Config(provider.app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test OIDC provider did not start")
        time.sleep(0.01)  # uvicorn in a thread offers no readiness event; bounded by the deadline
    try:
        yield provider
    finally:
        server.should_exit = True
        thread.join(timeout=10)
