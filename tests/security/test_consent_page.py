"""Confused deputy (issue 10, item 1): no client gets a code for a user without the user's consent.

Any client can register itself with any https redirect URI and send a logged-in
user one ``/authorize`` link. Each test here is an attack on the consent step of
a real portal in development mode (the login page, and ``auto_login``, which
shows the user nothing): the portal must show its own page naming the client
before a first code, and only a POST from that page in that browser may approve.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from oauth_testing import (
    CONSENT_PATH,
    REDIRECT_URI,
    authorize_url,
    consent_ticket,
    decide,
    follow,
    pkce,
    redirect_query,
    register,
)
from portal_testing import RunningPortal, running_portal

ANN, BOB = "ann@example.com", "bob@example.com"
USERS = [{"email": ANN, "groups": ["dev"]}, {"email": BOB, "groups": []}]
ATTACKER_URI = "https://attacker.example/cb?next=%2Fhome"
EVIL_NAME = "<script>alert(1)</script> Claude \"Desktop\" & 'friends'"


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPortal]:
    with running_portal(tmp_path_factory.mktemp("consent"), {"auth": {"dev": {"users": USERS}}}) as running:
        yield running


@pytest.fixture(scope="module")
def auto_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPortal]:
    """auto_login without skip_consent: the login shows nothing, so the consent page is all there is."""
    auth = {"dev": {"users": USERS, "auto_login": ANN}}
    with running_portal(tmp_path_factory.mktemp("consent-auto"), {"auth": auth}) as running:
        yield running


def new_client(portal: RunningPortal, **metadata: object) -> dict:
    response = register(portal.base_url, **metadata)
    assert response.status_code == 201, response.text
    return response.json()


def start(http: httpx.Client, portal: RunningPortal, client: dict, user: str | None = ANN, **extra: str
          ) -> httpx.Response:  # fmt: skip
    """/authorize, then the login (the dev page as ``user``, or auto_login): where the browser lands."""
    _, challenge = pkce()
    landed = follow(http, http.get(authorize_url(portal.base_url, client["client_id"], challenge, **extra)))
    sealed = re.search(r"name='request' value='([^']+)'", landed.text)
    if sealed is not None and user is not None:
        landed = follow(http, http.post(f"{portal.base_url}/login", data={"request": sealed.group(1),
                                                                         "email": user}))  # fmt: skip
    return landed


def lands_at_client(response: httpx.Response) -> bool:
    return response.is_redirect and response.headers["location"].startswith(REDIRECT_URI)


@pytest.mark.parametrize("login", ["dev page", "auto_login"])
def test_dynamic_client_cannot_get_a_code_without_consent(
    portal: RunningPortal, auto_portal: RunningPortal, login: str
) -> None:
    target = portal if login == "dev page" else auto_portal
    client = new_client(target, client_name="Totally the IDE")
    with httpx.Client(timeout=10) as browser:
        landed = start(browser, target, client)
    assert not lands_at_client(landed), "a code went to the client without the user being asked"
    assert landed.status_code == 200 and consent_ticket(landed) is not None
    assert urlsplit(str(landed.url)).netloc == urlsplit(target.base_url).netloc  # the portal's own page


def test_consent_page_names_the_client_and_redirect_host(portal: RunningPortal) -> None:
    client = new_client(portal, client_name=EVIL_NAME, redirect_uris=[ATTACKER_URI],
                        client_uri="https://attacker.example/about")  # fmt: skip
    with httpx.Client(timeout=10) as browser:
        page = start(browser, portal, client, redirect_uri=ATTACKER_URI)
    text = page.text
    assert page.status_code == 200 and consent_ticket(page) is not None
    assert "<script>" not in text and html.escape(EVIL_NAME, quote=True) in text  # named, and escaped
    assert "Unverified" in text
    assert "https://<strong class='host'>attacker.example</strong>/cb?next=%2Fhome" in text  # full URI
    assert "<code>mcp</code>" in text and f"{portal.base_url}/mcp" in text  # the scopes and the resource
    assert client["client_id"] in text and "https://attacker.example/about" in text and ANN in text


def test_consent_cannot_be_approved_with_a_get(portal: RunningPortal) -> None:
    client = new_client(portal)
    with httpx.Client(timeout=10) as browser:
        ticket = consent_ticket(start(browser, portal, client))
        assert ticket is not None
        params = {"consent_ticket": ticket, "decision": "approve"}
        by_link = browser.get(f"{portal.base_url}{CONSENT_PATH}", params=params)
        assert (by_link.status_code, by_link.headers.get("location")) == (405, None)
        again = start(browser, portal, client)  # nothing was approved: the next login asks again
    assert not lands_at_client(again) and consent_ticket(again) is not None


def test_consent_post_without_the_csrf_token_is_refused(portal: RunningPortal) -> None:
    client = new_client(portal)
    with httpx.Client(timeout=10) as victim, httpx.Client(timeout=10) as attacker:
        ticket = consent_ticket(start(victim, portal, client))
        own_ticket = consent_ticket(start(attacker, portal, client, user=BOB))  # the attacker's own login
        assert ticket is not None and own_ticket is not None
        header, payload, signature = ticket.split(".")
        forged = f"{header}.{payload}.{signature[:-4]}AAAA"
        cross_site = {"Origin": "https://attacker.example", "Sec-Fetch-Site": "cross-site"}
        refusals = {
            "no ticket": (victim.post(f"{portal.base_url}{CONSENT_PATH}", data={"decision": "approve"}), 400),
            "forged ticket": (decide(victim, portal.base_url, forged), 400),
            "ticket without its cookie": (
                httpx.post(f"{portal.base_url}{CONSENT_PATH}", data={"consent_ticket": ticket,
                                                                     "decision": "approve"}),
                403,
            ),
            "another login's ticket": (decide(victim, portal.base_url, own_ticket), 403),
            "posted from another site": (
                victim.post(f"{portal.base_url}{CONSENT_PATH}", headers=cross_site,
                            data={"consent_ticket": ticket, "decision": "approve"}),
                403,
            ),
        }  # fmt: skip
        for case, (response, status) in refusals.items():
            assert (case, response.status_code, lands_at_client(response)) == (case, status, False)
        approved = decide(victim, portal.base_url, ticket)  # the page's own POST, from its browser
    assert lands_at_client(approved) and redirect_query(approved)["code"]


def test_consent_page_cannot_be_framed(portal: RunningPortal) -> None:
    with httpx.Client(timeout=10) as browser:
        page = start(browser, portal, new_client(portal))
    assert consent_ticket(page) is not None
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    cookie = SimpleCookie(page.headers["set-cookie"])
    (morsel,) = cookie.values()
    assert (morsel["httponly"], morsel["samesite"], morsel["path"]) == (True, "strict", CONSENT_PATH)


def test_denied_consent_redirects_with_access_denied_and_iss(portal: RunningPortal) -> None:
    client = new_client(portal)
    with httpx.Client(timeout=10) as browser:
        ticket = consent_ticket(start(browser, portal, client))
        assert ticket is not None
        denied = decide(browser, portal.base_url, ticket, "deny")
        query = redirect_query(denied)
        assert (query["error"], query["state"], query["iss"]) == ("access_denied", "st-1", portal.base_url)
        assert "code" not in query
        again = start(browser, portal, client)  # a denial is not remembered as an approval
    assert consent_ticket(again) is not None


def test_second_login_for_an_approved_client_skips_the_page(portal: RunningPortal) -> None:
    other_uri = "http://127.0.0.1:53682/other"
    client = new_client(portal, redirect_uris=[REDIRECT_URI, other_uri])
    with httpx.Client(timeout=10) as browser:
        ticket = consent_ticket(start(browser, portal, client))
        assert ticket is not None and lands_at_client(decide(browser, portal.base_url, ticket))
        second = start(browser, portal, client)
        assert lands_at_client(second) and redirect_query(second)["code"]
        # The approval is for this user, this client and this redirect URI only.
        assert consent_ticket(start(browser, portal, client, user=BOB)) is not None
        elsewhere = start(browser, portal, client, redirect_uri=other_uri)
    assert consent_ticket(elsewhere) is not None
    assert parse_qs(urlsplit(second.headers["location"]).query)["iss"] == [portal.base_url]


def test_a_consent_ticket_is_not_an_access_token(portal: RunningPortal) -> None:
    with httpx.Client(timeout=10) as browser:
        ticket = consent_ticket(start(browser, portal, new_client(portal)))
    assert ticket is not None  # signed by the portal's key, naming the user: still not a bearer token
    headers = {"Authorization": f"Bearer {ticket}", "Accept": "application/json, text/event-stream"}
    response = httpx.post(portal.mcp_url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers=headers)
    assert response.status_code == 401 and 'error="invalid_token"' in response.headers["www-authenticate"]
