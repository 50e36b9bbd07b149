"""Confused deputy with delegated login: silent SSO at an OIDC provider, and an identity-aware proxy.

These are the two modes where, before the consent step, the browser bounced
``/authorize -> /login -> IdP -> /login/callback -> attacker`` without showing a
single page: the test provider logs its user in without asking (a live session),
and the proxy's JWT rides along with every request. The portal must stop on its
own consent page, and an approval must still finish the login.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from oauth_testing import authorize_url, consent_ticket, decide, follow, pkce, redirect_query, register
from oidc_provider import CLIENT_ID, CLIENT_SECRET, IdpUser, OidcProvider, running_oidc_provider
from portal_testing import RunningPortal, running_portal

PROXY_HEADER = "Cf-Access-Jwt-Assertion"
PROXY_AUDIENCE = "portal-behind-access"
ATTACKER_URI = "https://attacker.example/cb"


@pytest.fixture(scope="module")
def idp() -> Iterator[OidcProvider]:
    with running_oidc_provider(IdpUser("olga@example.com", ["platform"])) as provider:
        yield provider


@pytest.fixture(scope="module")
def portals(
    idp: OidcProvider, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, RunningPortal]]:
    oidc = {"issuer": idp.url, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    proxy = {"header": PROXY_HEADER, "jwks_url": f"{idp.url}/jwks", "audience": PROXY_AUDIENCE,
             "issuer": idp.url}  # fmt: skip
    with (
        running_portal(tmp_path_factory.mktemp("oidc"), {"auth": {"mode": "oidc", "oidc": oidc}}) as sso,
        running_portal(tmp_path_factory.mktemp("proxy"), {"auth": {"mode": "proxy", "proxy": proxy}}) as iap,
    ):
        idp.redirect_uris[:] = [f"{sso.base_url}/login/callback"]
        yield {"oidc": sso, "proxy": iap}


def browser_for(mode: str, idp: OidcProvider) -> httpx.Client:
    """A victim's browser: in proxy mode the proxy adds its signed assertion to every request."""
    if mode == "oidc":
        return httpx.Client(timeout=10)
    now = int(time.time())
    claims = {"iss": idp.url, "aud": PROXY_AUDIENCE, "email": "pia@example.com", "iat": now, "exp": now + 300}
    return httpx.Client(timeout=10, headers={PROXY_HEADER: idp.sign(claims)})


@pytest.mark.parametrize("mode", ["oidc", "proxy"])
def test_dynamic_client_cannot_get_a_code_without_consent(
    portals: dict[str, RunningPortal], idp: OidcProvider, mode: str
) -> None:
    portal = portals[mode]
    client = register(portal.base_url, client_name="Helpful Assistant", redirect_uris=[ATTACKER_URI]).json()
    _, challenge = pkce()
    link = authorize_url(portal.base_url, client["client_id"], challenge, redirect_uri=ATTACKER_URI)
    with browser_for(mode, idp) as victim:
        landed = follow(victim, victim.get(link))
        location = landed.headers.get("location", "")
        assert not location.startswith(ATTACKER_URI), f"the attacker got a code: {location}"
        assert landed.status_code == 200 and consent_ticket(landed) is not None
        assert urlsplit(str(landed.url)).netloc == urlsplit(portal.base_url).netloc
        assert "Helpful Assistant" in landed.text and "attacker.example" in landed.text


@pytest.mark.parametrize("mode", ["oidc", "proxy"])
def test_an_approval_on_the_consent_page_finishes_a_delegated_login(
    portals: dict[str, RunningPortal], idp: OidcProvider, mode: str
) -> None:
    portal = portals[mode]
    client = register(portal.base_url).json()
    _, challenge = pkce()
    with browser_for(mode, idp) as browser:
        page = follow(browser, browser.get(authorize_url(portal.base_url, client["client_id"], challenge)))
        ticket = consent_ticket(page)
        assert ticket is not None
        query = redirect_query(decide(browser, portal.base_url, ticket))
        again = follow(browser, browser.get(authorize_url(portal.base_url, client["client_id"], challenge)))
    assert query["code"] and (query["state"], query["iss"]) == ("st-1", portal.base_url)
    assert redirect_query(again)["code"]  # approved once: the next silent login goes straight back
