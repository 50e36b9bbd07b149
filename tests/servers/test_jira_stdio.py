"""`python -m servers.jira` over stdio, as the portal runs it in a subprocess."""

import os
import sys

import anyio
import pytest
from mcp import Client, StdioServerParameters

from demo.jira import fake as jira_fake

pytestmark = pytest.mark.anyio


async def test_the_jira_server_runs_over_stdio_against_the_fake():
    with jira_fake.start() as jira:
        params = StdioServerParameters(
            command=sys.executable,
            args=["-m", "servers.jira"],
            env={**os.environ, "JIRA_URL": jira.url, "JIRA_TOKEN": jira.settings["token"]},
        )
        with anyio.fail_after(20):
            async with Client(params) as client:
                tools = (await client.list_tools()).tools
                result = await client.call_tool("get_issue", {"key": "API-12"})
    assert len(tools) == 11
    assert (result.is_error, result.structured_content["status"]) == (False, "In Progress")
