"""`python -m servers.gitlab` over stdio, as the portal runs it in a subprocess."""

import os
import sys

import anyio
import pytest
from mcp import Client, StdioServerParameters

pytestmark = pytest.mark.anyio


async def test_the_gitlab_server_runs_over_stdio_against_the_fake(gitlab):
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "servers.gitlab"],
        env={**os.environ, "GITLAB_URL": gitlab.url, "GITLAB_TOKEN": gitlab.settings["token"]},
    )
    with anyio.fail_after(20):
        async with Client(params) as client:
            tools = (await client.list_tools()).tools
            result = await client.call_tool("get_project", {"project": "data/etl"})
    assert len(tools) == 19
    assert (result.is_error, result.structured_content["id"]) == (False, 4477)
