"""The whole OAuth flow with the SDK's OAuthClientProvider against a real portal, nothing mocked.

Discovery (401 challenge, RFC 9728, RFC 8414), dynamic registration, PKCE, the
development login page, the consent page, the code exchange, a tool call; then refresh rotation
and a key rotation across a restart, which must log nobody out.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx
import httpx2
import jwt
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from oauth_testing import (
    Browser,
    MemoryTokenStorage,
    authorize_url,
    decode_unverified,
    oauth_provider,
    pkce,
    register,
)
from portal_testing import RunningPortal, demo_servers, running_portal

pytestmark = pytest.mark.anyio

USERS = [{"email": "ann@example.com", "groups": ["dev", "ops"]}, {"email": "bob@example.com", "groups": []}]


@pytest.fixture
def config() -> Iterator[dict]:
    """The portal's config, its GitLab server against a fake started for the test."""
    with demo_servers("gitlab") as servers:
        yield {"servers": servers, "auth": {"dev": {"users": USERS}}}


@asynccontextmanager
async def oauth_session(portal: RunningPortal, browser: Browser, storage: MemoryTokenStorage | None = None
                        ) -> AsyncIterator[tuple[Client, MemoryTokenStorage]]:  # fmt: skip
    auth, storage = oauth_provider(portal.mcp_url, browser, storage)
    async with (
        httpx2.AsyncClient(auth=auth, timeout=60) as http,
        Client(streamable_http_client(portal.mcp_url, http_client=http)) as client,
    ):
        yield client, storage


async def test_a_fresh_client_registers_logs_in_at_the_dev_page_and_calls_both_tools(
    tmp_path: Path, config: dict
) -> None:
    with running_portal(tmp_path, config) as portal:
        browser = Browser(login_as="ann@example.com")
        with anyio.fail_after(60):
            async with oauth_session(portal, browser) as (client, storage):
                found = await client.call_tool("portal_codemode_search", {"query": "job log", "limit": 3})
                ran = await client.call_tool(
                    "portal_codemode_execute", {"code": "len(gitlab.list_projects())"}
                )
        assert not found.is_error and "gitlab.get_job_log" in found.content[0].text
        assert json.loads(ran.content[0].text)["value"] == 4
        assert any("/login?request=" in url for url in browser.visited)  # the page was shown and submitted
        assert browser.consent_pages == 1  # then the consent page, approved
        assert storage.tokens is not None and storage.tokens.refresh_token
        claims = decode_unverified(storage.tokens.access_token)
        assert (claims["sub"], claims["groups"], claims["aud"], claims["iss"]) == (
            portal.user_id("ann@example.com"),
            ["dev", "ops"],
            portal.mcp_url,
            portal.base_url,
        )
        assert "ann@example.com" not in json.dumps(claims)


async def test_key_rotation_and_a_restart_log_nobody_out(tmp_path: Path, config: dict) -> None:
    with running_portal(tmp_path, config) as portal:
        async with oauth_session(portal, Browser(login_as="bob@example.com")) as (client, storage):
            await client.list_tools()
    assert storage.tokens is not None and storage.client_info is not None
    old_kid = _header(storage.tokens.access_token)["kid"]
    rotated = subprocess.run(
        [sys.executable, "-m", "portal.cli", "keys", "rotate", "--config", str(portal.config_path)],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert rotated.returncode == 0, rotated.stderr
    # The same state folder and port (so the same issuer and audience), a new process, a new active key.
    with running_portal(tmp_path, config, port=portal.port) as again:
        published = {
            key["kid"] for key in httpx.get(f"{again.base_url}/.well-known/jwks.json").json()["keys"]
        }
        assert old_kid in published and len(published) == 2
        async with oauth_session(again, Browser(login_as=None), storage) as (client, _):
            assert len((await client.list_tools()).tools) == 2  # the old access token still works
        refreshed = httpx.post(
            f"{again.base_url}/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": storage.tokens.refresh_token,
                "client_id": storage.client_info.client_id,
                "client_secret": storage.client_info.client_secret,
            },
        )
        assert refreshed.status_code == 200, refreshed.text
        new_kid = _header(refreshed.json()["access_token"])["kid"]
        assert new_kid != old_kid and new_kid in published


async def test_a_user_who_denies_the_consent_page_sends_the_client_access_denied(
    tmp_path: Path, config: dict
) -> None:
    with running_portal(tmp_path, config) as portal:
        client = register(portal.base_url).json()
        browser = Browser(login_as="ann@example.com", deny=True)
        with anyio.fail_after(30):
            landed = await browser.open(authorize_url(portal.base_url, client["client_id"], pkce()[1]))
    query = parse_qs(urlsplit(str(landed)).query)
    assert (query["error"], query["iss"], browser.consent_pages) == (["access_denied"], [portal.base_url], 1)
    assert "code" not in query


def _header(token: str) -> dict:
    return jwt.get_unverified_header(token)
