"""Errors a model can act on (issue 12), held for every bundled server at once.

A backend that is down is the failure every server meets first; its message must
name the setting to fix, never the address (a model cannot fix it, and must not
learn internal hosts), and must not repeat the tool's name (the portal adds it).
"""

from __future__ import annotations

import importlib
import socket
from pathlib import Path

import pytest
from mcp import Client

pytestmark = pytest.mark.anyio

SERVERS = sorted(p.parent.name for p in (Path(__file__).parents[2] / "servers").glob("*/server.py"))


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed when the block ends: nothing listens there


@pytest.mark.parametrize("package", SERVERS)
async def test_a_backend_that_is_down_is_an_error_naming_the_setting_not_the_address(package):
    module = importlib.import_module(f"servers.{package}")
    prefix = module.Settings.model_config["env_prefix"]
    port = closed_port()
    required = [name for name, field in module.Settings.model_fields.items() if field.is_required()]
    url = f"http://admin:hunter2@127.0.0.1:{port}"  # credentials in the URL, to see they never show
    settings = module.Settings(**{name: "x" for name in required} | {"url": url, "timeout": 2})
    async with Client(module.build_server(settings)) as client:
        tools = (await client.list_tools()).tools
        tool = next(t for t in tools if not t.input_schema.get("required"))
        result = await client.call_tool(tool.name, {})
    text = result.content[0].text
    said = text.removeprefix(f"Error executing tool {tool.name}: ")
    assert result.is_error is True
    assert said.startswith("Cannot connect to ")
    assert f"{prefix}URL" in said
    assert [leak for leak in ("127.0.0.1", str(port), "hunter2", "admin", "http") if leak in said] == []
    assert not said.startswith(tool.name)
