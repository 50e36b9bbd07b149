"""`python -m servers.backstage` over stdio, as the portal runs it in a subprocess."""

import os
import sys

import anyio
import pytest
from mcp import Client, StdioServerParameters

from demo.backstage import fake as backstage_fake

pytestmark = pytest.mark.anyio


async def test_the_backstage_server_runs_over_stdio_against_the_fake():
    with backstage_fake.start(catalog_files=[]) as running:
        params = StdioServerParameters(
            command=sys.executable,
            args=["-m", "servers.backstage"],
            env={**os.environ, "BACKSTAGE_URL": running.url, "BACKSTAGE_TOKEN": running.settings["token"]},
        )
        with anyio.fail_after(20):
            async with Client(params) as client:
                tools = (await client.list_tools()).tools
                result = await client.call_tool("get_owner", {"ref": "component:default/web-frontend"})
    assert len(tools) == 9
    assert (result.is_error, result.structured_content["email"]) == (False, "team-web@acme.example")
