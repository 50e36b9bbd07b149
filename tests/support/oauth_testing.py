"""A real OAuth client for tests: the SDK's OAuthClientProvider, and a headless stand-in for the browser.

The stand-in follows the authorization server's redirects with a cookie jar, as
a browser would, submits the development login page when one is shown, answers
the portal's consent page (Approve, or Deny with ``deny=True``) as a person
would, from the same cookie jar, and stops at the client's redirect URI,
handing its ``code``, ``state`` and ``iss`` to the provider's callback: no part
of the portal is mocked.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
import httpx2
import jwt
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

REDIRECT_URI = "http://127.0.0.1:53682/callback"
CONSENT_PATH = "/login/consent"
_MAX_HOPS = 10
_TICKET = re.compile(r"name='consent_ticket' value='([^']+)'")


class MemoryTokenStorage:
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


@dataclass
class Browser:
    """Follows redirects with cookies until the client's redirect URI; picks ``login_as`` on the dev page.

    On the consent page it presses Approve (Deny when ``deny``); ``consent_pages`` counts the pages seen.
    """

    redirect_uri: str = REDIRECT_URI
    login_as: str | None = None
    deny: bool = False
    consent_pages: int = 0
    headers: dict[str, str] = field(default_factory=dict)  # e.g. an identity-aware proxy's assertion
    visited: list[str] = field(default_factory=list)
    result: AuthorizationCodeResult | None = None
    final: httpx2.Response | None = None

    async def open(self, url: str) -> httpx2.URL | str:
        async with httpx2.AsyncClient(follow_redirects=False, timeout=30, headers=self.headers) as http:
            response = await http.get(url)
            for _ in range(_MAX_HOPS):
                self.visited.append(str(response.url))
                if response.is_redirect:
                    target = urljoin(str(response.url), response.headers["location"])
                    if target.startswith(self.redirect_uri):
                        return target
                    response = await http.get(target)
                elif response.status_code == 200 and (ticket := _TICKET.search(response.text)):
                    self.consent_pages += 1
                    decision = "deny" if self.deny else "approve"
                    response = await http.post(
                        urljoin(str(response.url), CONSENT_PATH),
                        data={"consent_ticket": ticket.group(1), "decision": decision},
                    )
                elif response.status_code == 200 and "name='request'" in response.text and self.login_as:
                    sealed = re.search(r"name='request' value='([^']+)'", response.text)
                    assert sealed is not None
                    response = await http.post(
                        urljoin(str(response.url), "/login"),
                        data={"request": sealed.group(1), "email": self.login_as},
                    )
                else:
                    self.final = response
                    return str(response.url)
        raise AssertionError(f"too many redirects: {self.visited}")

    async def redirect_handler(self, url: str) -> None:
        landed = str(await self.open(url))
        if landed.startswith(self.redirect_uri):
            query = parse_qs(urlsplit(landed).query)
            if "error" in query:
                raise AssertionError(f"authorization failed: {query}")
            self.result = AuthorizationCodeResult(
                code=query["code"][0], state=query.get("state", [None])[0], iss=query.get("iss", [None])[0]
            )

    async def callback_handler(self) -> AuthorizationCodeResult:
        if self.result is None:
            detail = self.final.text[:500] if self.final is not None else ""
            raise AssertionError(f"login did not come back to the client: {self.visited} {detail}")
        result, self.result = self.result, None
        return result


def oauth_provider(
    mcp_url: str, browser: Browser, storage: MemoryTokenStorage | None = None, **metadata: object
) -> tuple[OAuthClientProvider, MemoryTokenStorage]:
    storage = storage or MemoryTokenStorage()
    client_metadata = OAuthClientMetadata.model_validate(
        {"client_name": "portal tests", "redirect_uris": [browser.redirect_uri], **metadata}
    )
    provider = OAuthClientProvider(
        mcp_url,
        client_metadata,
        storage,
        redirect_handler=browser.redirect_handler,
        callback_handler=browser.callback_handler,
    )
    return provider, storage


def pkce() -> tuple[str, str]:
    """A verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def register(base_url: str, **metadata: object) -> httpx.Response:
    body = {"client_name": "portal tests", "redirect_uris": [REDIRECT_URI], **metadata}
    return httpx.post(f"{base_url}/register", json=body, timeout=10)


def authorize_url(base_url: str, client_id: str, challenge: str | None, **extra: str) -> str:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "state": "st-1",
        "scope": "mcp",
        "resource": f"{base_url}/mcp",
    }
    if challenge is not None:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    params.update(extra)
    return f"{base_url}/authorize?{urlencode({k: v for k, v in params.items() if v is not None})}"


def redirect_query(response: httpx.Response) -> dict[str, str]:
    """The query of a redirect back to the client (code or error)."""
    location = response.headers.get("location", "")
    assert location.startswith(REDIRECT_URI), (response.status_code, location, response.text[:300])
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def follow(http: httpx.Client, response: httpx.Response) -> httpx.Response:
    """Follow redirects with the client's cookie jar, stopping at a page or at the client's redirect URI.

    A redirect off this machine (an attacker's registered URI) is never followed: tests stay offline.
    """
    for _ in range(_MAX_HOPS):
        location = response.headers.get("location", "") if response.is_redirect else ""
        offline = urlsplit(location).hostname in (None, "127.0.0.1", "localhost")
        if not location or location.startswith(REDIRECT_URI) or not offline:
            return response
        response = http.get(urljoin(str(response.url), response.headers["location"]))
    raise AssertionError(f"too many redirects, last {response.url}")


def consent_ticket(page: httpx.Response) -> str | None:
    """The consent ticket of a consent page, or None when the response is not one."""
    found = _TICKET.search(page.text) if page.status_code == 200 else None
    return found.group(1) if found else None


def decide(http: httpx.Client, base_url: str, ticket: str, decision: str = "approve") -> httpx.Response:
    """Press a button of the consent page, as the browser that was shown it."""
    return http.post(f"{base_url}{CONSENT_PATH}", data={"consent_ticket": ticket, "decision": decision})


def decode_unverified(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})
