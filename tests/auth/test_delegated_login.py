"""Login delegated to an OIDC provider (a real one on 127.0.0.1) and to an identity-aware proxy's JWT.

Each runs the SDK's OAuthClientProvider end to end: registration, /authorize,
the upstream login, the code exchange, a tool call with the token's subject the
user's anonymous id and its groups from the configured claim. Then each way an
upstream answer can be wrong is refused.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from oauth_testing import (
    Browser,
    authorize_url,
    decode_unverified,
    oauth_provider,
    pkce,
    redirect_query,
    register,
)
from oidc_provider import CLIENT_ID, CLIENT_SECRET, IdpUser, OidcProvider, running_oidc_provider
from portal_testing import RunningPortal, running_portal

pytestmark = pytest.mark.anyio

PROXY_HEADER = "Cf-Access-Jwt-Assertion"
PROXY_AUDIENCE = "portal-behind-access"


@pytest.fixture(scope="module")
def idp() -> Iterator[OidcProvider]:
    with running_oidc_provider(IdpUser("olga@example.com", ["platform", "sre"])) as provider:
        yield provider


@pytest.fixture(scope="module")
def oidc_portal(idp: OidcProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPortal]:
    oidc = {
        "issuer": idp.url,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "groups_claim": "groups",
    }
    config = {"auth": {"mode": "oidc", "oidc": oidc}}
    with running_portal(tmp_path_factory.mktemp("oidc"), config) as portal:
        idp.redirect_uris[:] = [f"{portal.base_url}/login/callback"]
        yield portal


@pytest.fixture(scope="module")
def proxy_portal(idp: OidcProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPortal]:
    proxy = {
        "header": PROXY_HEADER,
        "jwks_url": f"{idp.url}/jwks",
        "audience": PROXY_AUDIENCE,
        "issuer": idp.url,
        "groups_claim": "groups",
    }
    with running_portal(
        tmp_path_factory.mktemp("proxy"), {"auth": {"mode": "proxy", "proxy": proxy}}
    ) as portal:
        yield portal


@pytest.fixture(autouse=True)
def honest_idp(idp: OidcProvider) -> Iterator[None]:
    idp.misbehave = None
    yield
    idp.misbehave = None


async def call_both_tools(portal: RunningPortal, browser: Browser) -> dict:
    auth, storage = oauth_provider(portal.mcp_url, browser)
    with anyio.fail_after(60):
        async with (
            httpx2.AsyncClient(auth=auth, timeout=60) as http,
            Client(streamable_http_client(portal.mcp_url, http_client=http)) as client,
        ):
            found = await client.call_tool("portal_codemode_search", {"query": "anything", "limit": 1})
            ran = await client.call_tool("portal_codemode_execute", {"code": "6 * 7"})
    assert not found.is_error and json.loads(ran.content[0].text)["value"] == 42
    assert storage.tokens is not None
    return decode_unverified(storage.tokens.access_token)


async def test_oidc_login_gives_a_token_for_the_users_anonymous_id_and_groups(
    oidc_portal: RunningPortal, idp: OidcProvider
) -> None:
    browser = Browser()
    claims = await call_both_tools(oidc_portal, browser)
    assert (claims["sub"], claims["groups"]) == (oidc_portal.user_id("olga@example.com"), ["platform", "sre"])
    assert any(url.startswith(f"{idp.url}/authorize?") and "nonce=" in url for url in browser.visited)
    assert any("code_challenge_method=S256" in url for url in browser.visited if url.startswith(idp.url))


def start_login(portal: RunningPortal, headers: dict[str, str] | None = None) -> httpx.Response:
    """Register a client and follow /authorize through the upstream login with a cookie jar."""
    client = register(portal.base_url).json()
    _, challenge = pkce()
    with httpx.Client(headers=headers or {}, timeout=10) as browser:
        response = browser.get(authorize_url(portal.base_url, client["client_id"], challenge))
        while response.is_redirect and not response.headers["location"].startswith("http://127.0.0.1:53682"):
            response = browser.get(response.headers["location"])
    return response


@pytest.mark.parametrize("lie", ["issuer", "audience", "nonce", "signature"])
def test_an_id_token_that_does_not_verify_is_refused(
    oidc_portal: RunningPortal, idp: OidcProvider, lie: str
) -> None:
    idp.misbehave = lie
    response = start_login(oidc_portal)
    assert response.status_code == 400
    assert "Login failed" in response.text


def test_a_login_the_provider_denies_goes_back_to_the_client_as_access_denied(
    oidc_portal: RunningPortal, idp: OidcProvider
) -> None:
    idp.misbehave = "deny"
    query = redirect_query(start_login(oidc_portal))
    assert (query["error"], query["state"]) == ("access_denied", "st-1")


def test_an_unverified_email_is_refused(oidc_portal: RunningPortal, idp: OidcProvider) -> None:
    idp.user.email_verified = False
    try:
        assert start_login(oidc_portal).status_code == 403
    finally:
        idp.user.email_verified = True


def test_a_callback_without_the_login_cookie_is_refused(oidc_portal: RunningPortal) -> None:
    response = httpx.get(f"{oidc_portal.base_url}/login/callback", params={"code": "x", "state": "forged"})
    assert response.status_code == 400


def proxy_assertion(idp: OidcProvider, **changes: object) -> str:
    now = int(time.time())
    claims = {"iss": idp.url, "aud": PROXY_AUDIENCE, "email": "pia@example.com", "groups": ["sre"],
              "iat": now, "exp": now + 300}  # fmt: skip
    claims.update(changes)
    return idp.sign({k: v for k, v in claims.items() if v is not None})


async def test_the_proxy_jwt_logs_the_user_in(proxy_portal: RunningPortal, idp: OidcProvider) -> None:
    claims = await call_both_tools(proxy_portal, Browser(headers={PROXY_HEADER: proxy_assertion(idp)}))
    assert (claims["sub"], claims["groups"]) == (proxy_portal.user_id("pia@example.com"), ["sre"])


@pytest.mark.parametrize(
    "changes",
    [
        {"aud": "another-app"},
        {"iss": "https://evil.example"},
        {"exp": int(time.time()) - 600},
        {"email": None},
    ],
    ids=["wrong-audience", "wrong-issuer", "expired", "no-email"],
)
def test_a_bad_proxy_jwt_is_refused(proxy_portal: RunningPortal, idp: OidcProvider, changes: dict) -> None:
    response = start_login(proxy_portal, {PROXY_HEADER: proxy_assertion(idp, **changes)})
    assert response.status_code == (403 if "email" in changes else 401)


def test_a_missing_or_forged_proxy_jwt_is_refused(proxy_portal: RunningPortal, idp: OidcProvider) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    forged = idp.sign({"iss": idp.url, "aud": PROXY_AUDIENCE, "email": "pia@example.com",
                       "iat": int(time.time()), "exp": int(time.time()) + 300},
                      rsa.generate_private_key(65537, 2048))  # fmt: skip
    assert start_login(proxy_portal).status_code == 401
    assert start_login(proxy_portal, {PROXY_HEADER: forged}).status_code == 401
    assert start_login(proxy_portal, {"X-Email": "pia@example.com"}).status_code == 401
