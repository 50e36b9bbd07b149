"""Issue 10, item 4: a malformed ``/authorize`` 302'd at once to the client's registered URI, without ``iss``.

Anyone can register a client with any https redirect URI, so an immediate
error redirect made the portal an open redirector (RFC 9700 §4.11.2). Now
``/authorize`` never redirects an error: it shows a page on the portal
(portal/oauth/authorize.py). Every redirect that does go back to a client,
a code or an error after the login, carries ``iss`` (RFC 9207).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
import pytest
from oauth_app import REDIRECT_URI, OAuthApp, oauth_app
from oauth_testing import pkce

from portal.oauth.consent import APPROVE, CONSENT_PATH, DENY

pytestmark = pytest.mark.anyio

AUTO_LOGIN = {
    "dev": {"users": [{"email": "ann@example.com", "groups": ["dev"]}], "auto_login": "ann@example.com"}
}
TICKET = re.compile(r"name=['\"]consent_ticket['\"] value=['\"]([^'\"]+)['\"]")
ERROR_ON_PAGE = re.compile(r"Error: ([a-z_]+)[ .]")

# case: (changes to a good request, the error the page names)
MALFORMED: dict[str, tuple[dict[str, str | None], str]] = {
    "no code_challenge": ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
    "plain PKCE": ({"code_challenge_method": "plain"}, "invalid_request"),
    "malformed challenge": ({"code_challenge": "short"}, "invalid_request"),
    "implicit flow": ({"response_type": "token"}, "unsupported_response_type"),
    "no response_type": ({"response_type": None}, "invalid_request"),
    "unknown scope": ({"scope": "mcp admin"}, "invalid_scope"),
    "wrong resource": ({"resource": "https://other.example/mcp"}, "invalid_target"),
    "unregistered redirect URI": ({"redirect_uri": "http://127.0.0.1:9/steal"}, "invalid_request"),
    "unknown client": ({"client_id": "no-such-client"}, "invalid_request"),
}


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[OAuthApp]:
    with oauth_app(tmp_path, AUTO_LOGIN) as app:
        yield app


async def _client_id(portal: OAuthApp) -> str:
    registered = await portal.register(token_endpoint_auth_method="none")
    assert registered.status_code == 201, registered.text
    return str(registered.json()["client_id"])


def _authorize_url(portal: OAuthApp, registered: str, **changes: str | None) -> str:
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": registered,
        "redirect_uri": REDIRECT_URI,
        "state": "st-1",
        "scope": "mcp",
        "resource": f"{portal.base}/mcp",
        "code_challenge": pkce()[1],
        "code_challenge_method": "S256",
    }
    params.update(changes)
    return f"{portal.base}/authorize?{urlencode({k: v for k, v in params.items() if v is not None})}"


def _to_a_client(portal: OAuthApp, response: httpx.Response) -> bool:
    return response.is_redirect and not urljoin(portal.base, response.headers["location"]).startswith(
        portal.base + "/"
    )


async def _walk(portal: OAuthApp, url: str, decision: str | None = None) -> list[httpx.Response]:
    """What a browser sees from ``url`` until it leaves the portal: redirects, the consent form posted."""
    seen: list[httpx.Response] = []
    async with portal.client("127.0.0.1") as http:
        response = await http.get(url)
        for _ in range(10):
            seen.append(response)
            ticket = TICKET.search(response.text) if response.status_code == 200 else None
            if response.is_redirect and not _to_a_client(portal, response):
                response = await http.get(urljoin(str(response.url), response.headers["location"]))
            elif ticket is not None and decision is not None:
                form = {"consent_ticket": html.unescape(ticket.group(1)), "decision": decision}
                response = await http.post(CONSENT_PATH, data=form)
            else:
                return seen
    raise AssertionError(f"too many hops: {[r.url for r in seen]}")


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
async def test_malformed_authorize_shows_a_page_instead_of_redirecting(portal: OAuthApp, case: str) -> None:
    changes, error = MALFORMED[case]
    client_id = await _client_id(portal)
    async with portal.client() as http:
        for response in (
            await http.get(_authorize_url(portal, client_id, **changes)),
            await http.post(
                "/authorize", data=parse_qs(urlsplit(_authorize_url(portal, client_id, **changes)).query)
            ),
        ):
            assert response.status_code == 400, response.headers.get("location")
            assert "location" not in response.headers
            assert response.headers["content-type"].startswith("text/html")
            assert response.headers["x-frame-options"] == "DENY"
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
            assert response.headers["cache-control"] == "no-store"
            found = ERROR_ON_PAGE.search(response.text)
            assert found is not None and found.group(1) == error, response.text
            assert REDIRECT_URI not in response.text or case == "unregistered redirect URI"


async def test_a_page_bounds_what_it_repeats_of_the_request(portal: OAuthApp) -> None:
    async with portal.client() as http:
        response = await http.get(_authorize_url(portal, "<script>" + "x" * 5000, code_challenge=None))
    assert response.status_code == 400
    assert "<script>" not in response.text and len(response.text) < 2000


async def test_every_redirect_to_a_client_carries_iss(tmp_path: Path) -> None:
    redirects: list[httpx.Response] = []
    for auth, decision in ((AUTO_LOGIN, APPROVE), (AUTO_LOGIN, DENY), (_skipping_consent(), None)):
        with oauth_app(tmp_path / f"{decision}-{len(redirects)}", auth) as portal:
            client_id = await _client_id(portal)
            urls = [_authorize_url(portal, client_id)] + [
                _authorize_url(portal, client_id, **changes) for changes, _ in MALFORMED.values()
            ]
            for url in urls:
                redirects += [r for r in await _walk(portal, url, decision) if _to_a_client(portal, r)]
            for response in redirects:
                query = parse_qs(urlsplit(response.headers["location"]).query)
                assert query.get("iss") == [portal.base], response.headers["location"]
    outcomes = sorted({"code" if "code=" in r.headers["location"] else "error" for r in redirects})
    assert outcomes == ["code", "error"]  # a granted code and a denied login both went back, each with iss


def _skipping_consent() -> dict[str, Any]:
    return {"dev": {**AUTO_LOGIN["dev"], "skip_consent": True}}
