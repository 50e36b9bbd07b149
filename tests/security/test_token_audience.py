"""Issue 10, item 5: a ``portal token`` minted without the serving port was refused with a generic 401.

The token's audience is the portal's ``/mcp`` URL, so a token minted for the
config file's port 8000 is worthless at a portal served with ``--port 8123``.
The refusal now says so (portal/oauth/tokens.py, portal/oauth/bearer.py), for
tokens the portal itself signed only: a forged token learns nothing and is not
echoed. ``portal token`` takes ``--port`` and ``--url`` as ``serve`` does.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric import ec
from oauth_app import USER, OAuthApp, oauth_app
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from portal.oauth import mint_dev_token

pytestmark = pytest.mark.anyio

SERVED = "http://127.0.0.1:8123/mcp"
GENERIC = "The access token is invalid, expired or revoked"


async def _inner(scope: Scope, receive: Receive, send: Send) -> None:
    await PlainTextResponse("mcp")(scope, receive, send)


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[OAuthApp]:
    with oauth_app(tmp_path) as app:
        yield app


async def _call_mcp(portal: OAuthApp, token: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=portal.auth.protect(_inner))
    async with httpx.AsyncClient(transport=transport, base_url=portal.base) as http:
        return await http.post("/mcp", headers={"Authorization": f"Bearer {token}"})


def _challenge(response: httpx.Response) -> dict[str, str]:
    return dict(re.findall(r'(\w+)="([^"]*)"', response.headers["www-authenticate"]))


async def test_token_for_another_port_is_refused_with_a_reason(portal: OAuthApp) -> None:
    minted_for_8000 = mint_dev_token(portal.config.model_copy(update={"port": 8000}), USER, [], 600)
    response = await _call_mcp(portal, minted_for_8000)
    reason = (
        f"token audience http://127.0.0.1:8000/mcp is not this portal's {SERVED}: "
        "mint it with `portal token --port <this portal's port>` (or --url)"
    )
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_token", "error_description": reason}
    assert _challenge(response)["error"] == "invalid_token"
    assert _challenge(response)["error_description"] == reason
    # The same token minted for the port the portal serves on is accepted.
    assert (await _call_mcp(portal, mint_dev_token(portal.config, USER, [], 600))).status_code == 200


async def test_a_forged_token_gets_no_reason_and_is_not_echoed(portal: OAuthApp) -> None:
    evil_audience = 'https://evil.example/"' + "x" * 5000
    kid = jwt.get_unverified_header(mint_dev_token(portal.config, USER, [], 600))["kid"]
    forged = jwt.encode(
        {"aud": evil_audience, "iss": portal.base, "sub": "s", "client_id": "portal-dev-token"},
        ec.generate_private_key(ec.SECP256R1()),
        algorithm="ES256",
        headers={"kid": kid, "typ": "at+jwt"},
    )
    response = await _call_mcp(portal, forged)
    assert (response.status_code, response.json()["error_description"]) == (401, GENERIC)
    assert "evil.example" not in response.headers["www-authenticate"]


def _cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portal.cli", "token", "--user", USER, "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def config_file(portal: OAuthApp, tmp_path: Path) -> Path:
    """The portal's config file, which says port 8000; the portal above is served on 8123."""
    path = tmp_path / "portal.yaml"
    path.write_text(yaml.safe_dump({"state_dir": str(portal.config.state_dir), "port": 8000, "servers": []}))
    return path


async def test_portal_token_port_mints_for_the_port_the_portal_serves_on(
    portal: OAuthApp, config_file: Path
) -> None:
    done = _cli(config_file, "--port", "8123")
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert jwt.decode(token, options={"verify_signature": False})["aud"] == SERVED
    assert f"token for {SERVED}" in done.stderr
    assert (await _call_mcp(portal, token)).status_code == 200
    without = _cli(config_file)
    assert without.returncode == 0, without.stderr
    assert (await _call_mcp(portal, without.stdout.strip())).status_code == 401


def test_portal_token_url_mints_for_the_external_url(config_file: Path) -> None:
    done = _cli(config_file, "--url", "https://portal.example/")
    assert done.returncode == 0, done.stderr
    claims = jwt.decode(done.stdout.strip(), options={"verify_signature": False})
    assert (claims["aud"], claims["iss"]) == ("https://portal.example/mcp", "https://portal.example")


@pytest.mark.parametrize(
    "args", [["--url", "javascript:alert(1)"], ["--url", "https://portal.example/?x=1"], ["--port", "0"]]
)
def test_portal_token_refuses_a_bad_port_or_url(config_file: Path, args: list[str]) -> None:
    done = _cli(config_file, *args)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("error: --")
