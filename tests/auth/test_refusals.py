"""Bad tokens and bad requests against a real portal, each refused with the right status and error.

Bearer errors are read from ``WWW-Authenticate``, token and registration errors
from the JSON body, authorization errors from the page the portal shows instead
of redirecting to the client.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx
import jwt
import pytest
from oauth_testing import REDIRECT_URI, authorize_url, pkce, redirect_query, register
from portal_testing import RunningPortal, running_portal

from portal.config import load_config
from portal.oauth import key_set_for
from portal.oauth.keys import SigningKey
from portal.store import open_store
from portal.store.database import sqlite_url

USER = "ann@example.com"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "matrix", "version": "1"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@dataclass
class Ctx:
    portal: RunningPortal
    key: SigningKey
    public: dict  # a registered public client (PKCE only)
    confidential: dict  # a registered client with a secret

    @property
    def base(self) -> str:
        return self.portal.base_url

    def login(self, client: dict | None = None, **extra: str) -> tuple[str, str]:
        """A fresh code (and its verifier) through the development login."""
        client = client or self.public
        verifier, challenge = pkce()
        with httpx.Client(timeout=10) as http:
            to_login = http.get(authorize_url(self.base, client["client_id"], challenge, **extra))
            assert to_login.status_code == 302, to_login.text
            sealed = parse_qs(urlsplit(to_login.headers["location"]).query)["request"][0]
            back = http.post(f"{self.base}/login", data={"request": sealed, "email": USER})
            ticket = re.search(r"name='consent_ticket' value='([^']+)'", back.text)
            if ticket is not None:  # the first login for this client: approve it on the consent page
                decision = {"consent_ticket": ticket.group(1), "decision": "approve"}
                back = http.post(f"{self.base}/login/consent", data=decision)
        return redirect_query(back)["code"], verifier

    def exchange(self, code: str, verifier: str, client: dict | None = None, **extra: str) -> httpx.Response:
        client = client or self.public
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": REDIRECT_URI,
            "client_id": client["client_id"],
            "resource": f"{self.base}/mcp",
        }
        if client.get("client_secret"):
            data["client_secret"] = client["client_secret"]
        data.update(extra)
        return httpx.post(f"{self.base}/token", data={k: v for k, v in data.items() if v is not None})

    def tokens(self) -> dict:
        code, verifier = self.login()
        response = self.exchange(code, verifier)
        assert response.status_code == 200, response.text
        return response.json()

    def refresh(self, refresh_token: str, client: dict | None = None) -> httpx.Response:
        client = client or self.public
        data = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client["client_id"],
        }
        return httpx.post(f"{self.base}/token", data=data)

    def call_mcp(self, token: str | None) -> httpx.Response:
        headers = dict(MCP_HEADERS, **({"Authorization": f"Bearer {token}"} if token is not None else {}))
        return httpx.post(self.portal.mcp_url, json=INITIALIZE, headers=headers)

    def forge(
        self, key: object = None, alg: str = "ES256", header: dict | None = None, **changes: object
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": self.base,
            "aud": self.portal.mcp_url,
            "sub": self.portal.user_id(USER),
            "client_id": self.public["client_id"],
            "scope": "mcp",
            "groups": [],
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "jti": "j-1",
        }
        claims.update(changes)
        headers = {"kid": self.key.kid, "typ": "at+jwt", **(header or {})}
        signing = self.key.private_key if key is None else key
        return jwt.encode(
            {k: v for k, v in claims.items() if v is not None}, signing, algorithm=alg, headers=headers
        )


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ctx]:
    auth = {"dev": {"users": [{"email": USER, "groups": ["dev"]}]}}
    with running_portal(tmp_path_factory.mktemp("refusals"), {"auth": auth}) as portal:
        config = load_config(portal.config_path)
        store = open_store(sqlite_url(portal.state_dir))
        keys = key_set_for(config, store)
        keys.load()
        store.close()
        public = register(portal.base_url, token_endpoint_auth_method="none").json()
        confidential = register(portal.base_url, token_endpoint_auth_method="client_secret_post").json()
        yield Ctx(portal, keys.active(), public, confidential)


def bearer_error(response: httpx.Response) -> str | None:
    challenge = response.headers.get("www-authenticate", "")
    assert (
        challenge.startswith("Bearer ") and 'resource_metadata="' in challenge and 'scope="mcp"' in challenge
    )
    return dict(re.findall(r'(\w+)="([^"]*)"', challenge)).get("error")


def body_error(response: httpx.Response) -> str:
    return response.json()["error"]


def redirect_error(response: httpx.Response) -> str:
    return redirect_query(response)["error"]


# --- access tokens at /mcp -------------------------------------------------------------------------


def _public_pem_hs256(c: Ctx) -> str:
    from cryptography.hazmat.primitives import serialization

    pem = c.key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header, payload, _ = c.forge().split(".")
    import base64
    import hashlib
    import hmac

    forged_header = base64.urlsafe_b64encode(
        b'{"alg":"HS256","kid":"%s","typ":"at+jwt"}' % c.key.kid.encode()
    )
    signing_input = forged_header.rstrip(b"=") + b"." + payload.encode()
    mac = hmac.new(pem, signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")).decode()


def _unsigned(c: Ctx) -> str:
    _, payload, _ = c.forge().split(".")
    return "eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0." + payload + "."


def _tampered(c: Ctx) -> str:
    header, payload, signature = c.forge().split(".")
    claims = jwt.utils.base64url_decode(payload).replace(b'"groups":[]', b'"groups":["admin"]')
    return ".".join([header, jwt.utils.base64url_encode(claims).decode(), signature])


def _foreign_key(c: Ctx) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec

    return c.forge(key=ec.generate_private_key(ec.SECP256R1()))


def _revoked(c: Ctx) -> str:
    issued = c.tokens()
    done = httpx.post(
        f"{c.base}/revoke", data={"token": issued["access_token"], "client_id": c.public["client_id"]}
    )
    assert done.status_code == 200
    return issued["access_token"]


def _login_request_as_access_token(c: Ctx) -> str:
    verifier, challenge = pkce()
    to_login = httpx.get(authorize_url(c.base, c.public["client_id"], challenge))
    return parse_qs(urlsplit(to_login.headers["location"]).query)["request"][0]


BEARER_CASES: dict[str, tuple[Callable[[Ctx], str | None], int, str | None]] = {
    "no token": (lambda c: None, 401, None),
    "garbage": (lambda c: "not-a-jwt", 401, "invalid_token"),
    "expired": (
        lambda c: c.forge(exp=int(time.time()) - 120, iat=int(time.time()) - 600),
        401,
        "invalid_token",
    ),
    "not yet valid": (lambda c: c.forge(nbf=int(time.time()) + 600), 401, "invalid_token"),
    "wrong audience": (lambda c: c.forge(aud="http://127.0.0.1:1/mcp"), 401, "invalid_token"),
    "wrong issuer": (lambda c: c.forge(iss="https://evil.example"), 401, "invalid_token"),
    "alg none": (_unsigned, 401, "invalid_token"),
    "HS256 keyed with the public key": (_public_pem_hs256, 401, "invalid_token"),
    "tampered payload": (_tampered, 401, "invalid_token"),
    "unknown kid": (lambda c: c.forge(header={"kid": "no-such-key"}), 401, "invalid_token"),
    "known kid, foreign key": (_foreign_key, 401, "invalid_token"),
    "not an access token (typ)": (lambda c: c.forge(header={"typ": "JWT"}), 401, "invalid_token"),
    "login request JWT as token": (_login_request_as_access_token, 401, "invalid_token"),
    "no subject": (lambda c: c.forge(sub=None), 401, "invalid_token"),
    "revoked": (_revoked, 401, "invalid_token"),
    "scope without mcp": (lambda c: c.forge(scope="offline_access"), 403, "insufficient_scope"),
}


@pytest.mark.parametrize("case", BEARER_CASES, ids=list(BEARER_CASES))
def test_a_bad_bearer_token_is_refused_at_mcp(ctx: Ctx, case: str) -> None:
    make, status, error = BEARER_CASES[case]
    response = ctx.call_mcp(make(ctx))
    assert (response.status_code, bearer_error(response)) == (status, error)


def test_the_good_token_of_the_matrix_is_accepted(ctx: Ctx) -> None:
    assert ctx.call_mcp(ctx.forge()).status_code == 200
    assert ctx.call_mcp(ctx.tokens()["access_token"]).status_code == 200


# --- the token endpoint ----------------------------------------------------------------------------


def _reused_code(c: Ctx) -> httpx.Response:
    code, verifier = c.login()
    first = c.exchange(code, verifier)
    assert first.status_code == 200
    again = c.exchange(code, verifier)
    # RFC 6749 §4.1.2: the replay also revokes what the code issued.
    assert c.call_mcp(first.json()["access_token"]).status_code == 401
    assert c.refresh(first.json()["refresh_token"]).status_code == 400
    return again


def _reused_refresh(c: Ctx) -> httpx.Response:
    issued = c.tokens()
    rotated = c.refresh(issued["refresh_token"])
    assert rotated.status_code == 200 and rotated.json()["refresh_token"] != issued["refresh_token"]
    reused = c.refresh(issued["refresh_token"])
    # Reuse detection: the whole family goes, the rotated successor and its access token too.
    assert c.refresh(rotated.json()["refresh_token"]).status_code == 400
    assert c.call_mcp(rotated.json()["access_token"]).status_code == 401
    return reused


def _revoked_refresh(c: Ctx) -> httpx.Response:
    issued = c.tokens()
    data = {
        "token": issued["refresh_token"],
        "token_type_hint": "refresh_token",
        "client_id": c.public["client_id"],
    }
    assert httpx.post(f"{c.base}/revoke", data=data).status_code == 200
    return c.refresh(issued["refresh_token"])


def _expired_code(c: Ctx) -> httpx.Response:
    from datetime import UTC, datetime, timedelta

    from portal.oauth.storage import hash_secret
    from portal.store import OAuthCode

    code, verifier = c.login()
    store = open_store(sqlite_url(c.portal.state_dir))
    try:
        with store.session() as session:
            row = session.get(OAuthCode, hash_secret(code))
            assert row is not None
            row.expires_at = datetime.now(UTC) - timedelta(seconds=5)
    finally:
        store.close()
    return c.exchange(code, verifier)


TOKEN_CASES: dict[str, tuple[Callable[[Ctx], httpx.Response], int, str]] = {
    "reused code": (_reused_code, 400, "invalid_grant"),
    "wrong verifier": (lambda c: c.exchange(c.login()[0], pkce()[0]), 400, "invalid_grant"),
    "code for another client": (
        lambda c: c.exchange(c.login(c.confidential)[0], "v" * 43, c.public),
        400,
        "invalid_grant",
    ),
    "redirect URI mismatch": (
        lambda c: c.exchange(*c.login(), redirect_uri="http://127.0.0.1:1/other"),
        400,
        "invalid_request",
    ),
    "expired code": (_expired_code, 400, "invalid_grant"),
    "unknown code": (lambda c: c.exchange("no-such-code", pkce()[0]), 400, "invalid_grant"),
    "wrong resource": (
        lambda c: c.exchange(*c.login(), resource="https://elsewhere.example/mcp"),
        400,
        "invalid_target",
    ),
    "refresh token reused": (_reused_refresh, 400, "invalid_grant"),
    "revoked refresh token": (_revoked_refresh, 400, "invalid_grant"),
    "refresh token of another client": (
        lambda c: c.refresh(c.tokens()["refresh_token"], {"client_id": c.confidential["client_id"]}),
        401,
        "invalid_client",
    ),
    "wrong client secret": (
        lambda c: c.exchange(*c.login(c.confidential), client={**c.confidential, "client_secret": "nope"}),
        401,
        "invalid_client",
    ),
    "missing client secret": (
        lambda c: c.exchange(*c.login(c.confidential), client={**c.confidential, "client_secret": None}),
        401,
        "invalid_client",
    ),
    "unknown client": (
        lambda c: c.exchange("x", "y", {"client_id": "no-such-client"}),
        401,
        "invalid_client",
    ),
    "password grant": (
        lambda c: httpx.post(
            f"{c.base}/token",
            data={
                "grant_type": "password",
                "client_id": c.public["client_id"],
                "username": "a",
                "password": "b",
            },
        ),
        400,
        "invalid_request",
    ),
}


@pytest.mark.parametrize("case", TOKEN_CASES, ids=list(TOKEN_CASES))
def test_a_bad_token_request_is_refused(ctx: Ctx, case: str) -> None:
    make, status, error = TOKEN_CASES[case]
    response = make(ctx)
    assert (response.status_code, body_error(response)) == (status, error), response.text


# --- the authorization endpoint --------------------------------------------------------------------


def _authorize(c: Ctx, challenge: str | None = "x" * 43, **extra: str) -> httpx.Response:
    return httpx.get(authorize_url(c.base, c.public["client_id"], challenge, **extra))


AUTHORIZE_CASES: dict[str, tuple[Callable[[Ctx], httpx.Response], str]] = {
    "missing PKCE": (lambda c: _authorize(c, None), "invalid_request"),
    "plain PKCE": (lambda c: _authorize(c, code_challenge_method="plain"), "invalid_request"),
    "malformed challenge": (lambda c: _authorize(c, "short"), "invalid_request"),
    "wrong resource": (lambda c: _authorize(c, resource="https://other.example/mcp"), "invalid_target"),
    "implicit flow": (lambda c: _authorize(c, response_type="token"), "unsupported_response_type"),
    "unregistered scope": (lambda c: _authorize(c, scope="mcp admin"), "invalid_scope"),
    "unregistered redirect URI": (
        lambda c: _authorize(c, redirect_uri="http://127.0.0.1:9/steal"),
        "invalid_request",
    ),
    "unknown client": (
        lambda c: httpx.get(authorize_url(c.base, "no-such-client", "x" * 43)),
        "invalid_request",
    ),
}


@pytest.mark.parametrize("case", AUTHORIZE_CASES, ids=list(AUTHORIZE_CASES))
def test_a_bad_authorization_request_is_refused(ctx: Ctx, case: str) -> None:
    # Never a redirect to the client (RFC 9700 §4.11.2): a page on the portal naming the error.
    make, error = AUTHORIZE_CASES[case]
    response = make(ctx)
    assert (response.status_code, response.headers.get("location")) == (400, None), response.text
    assert response.headers["content-type"].startswith("text/html")
    assert re.search(r"Error: ([a-z_]+)", response.text).group(1) == error  # type: ignore[union-attr]


def test_a_tampered_or_stale_login_request_is_refused(ctx: Ctx) -> None:
    sealed = _login_request_as_access_token(ctx)
    header, payload, signature = sealed.split(".")
    evil = jwt.utils.base64url_decode(payload).replace(REDIRECT_URI.encode(), b"http://127.0.0.1:9/steal!")
    tampered = ".".join([header, jwt.utils.base64url_encode(evil).decode(), signature])
    for request in (tampered, ctx.forge(), "garbage"):
        response = httpx.post(f"{ctx.base}/login", data={"request": request, "email": USER})
        assert response.status_code == 400
    response = httpx.post(f"{ctx.base}/login", data={"request": sealed, "email": "mallory@example.com"})
    assert response.status_code == 403


# --- dynamic client registration ---------------------------------------------------------------------

REGISTRATION_CASES: dict[str, tuple[Callable[[Ctx], httpx.Response], int, str]] = {
    "oversized metadata": (
        lambda c: register(c.base, client_name="x" * 20_000),
        413,
        "invalid_client_metadata",
    ),
    "malformed JSON": (
        lambda c: httpx.post(
            f"{c.base}/register", content=b"{not json", headers={"Content-Type": "application/json"}
        ),
        400,
        "invalid_client_metadata",
    ),
    "no redirect URIs": (lambda c: register(c.base, redirect_uris=[]), 400, "invalid_client_metadata"),
    "javascript: redirect": (
        lambda c: register(c.base, redirect_uris=["javascript:alert(1)"]),
        400,
        "invalid_redirect_uri",
    ),
    "http on a public host": (
        lambda c: register(c.base, redirect_uris=["http://evil.example/cb"]),
        400,
        "invalid_redirect_uri",
    ),
    "fragment in redirect": (
        lambda c: register(c.base, redirect_uris=["https://app.example/cb#x"]),
        400,
        "invalid_redirect_uri",
    ),
    "too many redirect URIs": (
        lambda c: register(c.base, redirect_uris=[f"https://app.example/{i}" for i in range(11)]),
        400,
        "invalid_redirect_uri",
    ),
    "client_credentials grant": (
        lambda c: register(c.base, grant_types=["authorization_code", "client_credentials"]),
        400,
        "invalid_client_metadata",
    ),
    "unknown scope": (lambda c: register(c.base, scope="mcp admin"), 400, "invalid_client_metadata"),
    "private_key_jwt": (
        lambda c: register(c.base, token_endpoint_auth_method="private_key_jwt"),
        400,
        "invalid_client_metadata",
    ),
    "control characters in name": (
        lambda c: register(c.base, client_name="evil\nname"),
        400,
        "invalid_client_metadata",
    ),
    "http logo on a public host": (
        lambda c: register(c.base, logo_uri="http://evil.example/logo.png"),
        400,
        "invalid_client_metadata",
    ),
}


@pytest.mark.parametrize("case", REGISTRATION_CASES, ids=list(REGISTRATION_CASES))
def test_bad_registration_metadata_is_refused(ctx: Ctx, case: str) -> None:
    make, status, error = REGISTRATION_CASES[case]
    response = make(ctx)
    assert (response.status_code, body_error(response)) == (status, error), response.text


def test_registration_stores_only_a_hash_of_the_client_secret(ctx: Ctx) -> None:
    from portal.store import OAuthClient

    store = open_store(sqlite_url(ctx.portal.state_dir))
    try:
        with store.session() as session:
            row = session.get(OAuthClient, ctx.confidential["client_id"])
            assert row is not None and row.client_secret_hash != ctx.confidential["client_secret"]
            assert ctx.confidential["client_secret"] not in str(row.client_metadata)
    finally:
        store.close()


def test_revocation_needs_the_clients_own_credentials(ctx: Ctx) -> None:
    data = {"token": "anything", "client_id": ctx.confidential["client_id"], "client_secret": "wrong"}
    response = httpx.post(f"{ctx.base}/revoke", data=data)
    assert (response.status_code, body_error(response)) == (401, "unauthorized_client")


def test_metadata_documents_describe_the_portal(ctx: Ctx) -> None:
    resource = httpx.get(f"{ctx.base}/.well-known/oauth-protected-resource/mcp").json()
    server = httpx.get(f"{ctx.base}/.well-known/oauth-authorization-server").json()
    jwks = httpx.get(server["jwks_uri"]).json()
    assert resource["resource"] == ctx.portal.mcp_url and resource["authorization_servers"] == [ctx.base]
    assert resource["scopes_supported"] == ["mcp"]
    assert server["issuer"] == ctx.base and server["code_challenge_methods_supported"] == ["S256"]
    assert server["authorization_response_iss_parameter_supported"] is True
    assert {"registration_endpoint", "revocation_endpoint"} <= server.keys()
    assert [key["kid"] for key in jwks["keys"]] == [ctx.key.kid] and "d" not in jwks["keys"][0]


_ = anyio
