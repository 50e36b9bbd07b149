"""Issue 10, item 4: ``ms-msdt:``, ``search-ms:``, ``chrome:``, ``view-source:`` were accepted redirect URIs.

A browser that follows the portal's redirect to such a URI hands it to whatever
the system registered for the scheme (ms-msdt: ran code on Windows,
CVE-2022-30190). Only https, http on loopback, and an app's private-use scheme in
reverse-domain form (RFC 8252 §7.1) are accepted (portal/oauth/registration.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from oauth_app import oauth_app

pytestmark = pytest.mark.anyio

DANGEROUS = [
    "ms-msdt:/id PCWDiagnostic /skip force /param IT_RebrowseForFile=x",
    "search-ms:query=invoice&crumb=location:\\\\attacker.example\\share",
    "ms-settings:privacy",
    "ms-word:ofe|u|https://attacker.example/x.docx",
    "chrome://settings/passwords",
    "view-source:https://app.example/cb",
    "javascript:alert(document.domain)",
    "data:text/html,<script>alert(1)</script>",
    "file:///etc/passwd",
    "vbscript:msgbox(1)",
    "shell:startup",
    "intent://scan/#Intent;scheme=zxing;end",
    "myapp:/callback",  # a private-use scheme, but not in reverse-domain form
    "x-apple.systempreferences:com.apple.preference.security",
    "microsoft.windows.camera:",
]


@pytest.mark.parametrize("uri", DANGEROUS)
async def test_dangerous_redirect_schemes_are_refused(tmp_path: Path, uri: str) -> None:
    with oauth_app(tmp_path) as portal:
        answer = await portal.register(redirect_uris=[uri])
        assert (answer.status_code, answer.json()["error"]) == (400, "invalid_redirect_uri"), answer.text
        assert portal.rows()["clients"] == 0


async def test_one_dangerous_uri_refuses_the_whole_registration(tmp_path: Path) -> None:
    with oauth_app(tmp_path) as portal:
        answer = await portal.register(redirect_uris=["https://app.example/cb", "search-ms:query=x"])
        assert (answer.status_code, answer.json()["error"]) == (400, "invalid_redirect_uri")


@pytest.mark.parametrize(
    ("accepted", "bare"),
    [
        ("com.example.app:/oauth2redirect", "app:/oauth2redirect"),
        ("io.github.someone.mcp-client:/cb", "mcpclient:/cb"),
        ("com.example.app://callback", "example://callback"),
    ],
)
async def test_reverse_domain_private_scheme_is_accepted(tmp_path: Path, accepted: str, bare: str) -> None:
    with oauth_app(tmp_path) as portal:
        answer = await portal.register(redirect_uris=[accepted], token_endpoint_auth_method="none")
        assert answer.status_code == 201, answer.text
        assert answer.json()["redirect_uris"] == [accepted]
        # The same app's scheme without the dots is somebody's, maybe the system's: refused.
        refused = await portal.register(redirect_uris=[bare], token_endpoint_auth_method="none")
        assert (refused.status_code, refused.json()["error"]) == (400, "invalid_redirect_uri")


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example/cb",
        "http://127.0.0.1:53682/callback",
        "http://localhost:8787/callback",
        "http://[::1]:8787/callback",
        # Cursor registers this beside its https and loopback URIs: a named exception, not a pattern.
        "cursor://anysphere.cursor-mcp/oauth/callback",
    ],
)
async def test_web_and_loopback_redirects_are_still_accepted(tmp_path: Path, uri: str) -> None:
    with oauth_app(tmp_path) as portal:
        answer = await portal.register(redirect_uris=[uri])
        assert answer.status_code == 201, answer.text
