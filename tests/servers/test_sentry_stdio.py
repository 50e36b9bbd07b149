"""`python -m servers.sentry` over stdio, as the portal runs it in a subprocess."""

import os
import sys
from collections.abc import Iterator

import anyio
import pytest
from mcp import Client, StdioServerParameters

from demo.sentry import fake as sentry_fake

pytestmark = pytest.mark.anyio


@pytest.fixture
def sentry() -> Iterator[sentry_fake.RunningSentry]:
    with sentry_fake.start() as running:
        yield running


async def test_the_sentry_server_runs_over_stdio_against_the_fake(sentry):
    env = {
        **os.environ,
        "SENTRY_URL": sentry.url,
        "SENTRY_TOKEN": sentry.settings["token"],
        "SENTRY_ORG": sentry.settings["org"],
    }
    params = StdioServerParameters(command=sys.executable, args=["-m", "servers.sentry"], env=env)
    with anyio.fail_after(20):
        async with Client(params) as client:
            tools = (await client.list_tools()).tools
            result = await client.call_tool("list_issues", {"limit": 1})
    assert len(tools) == 10
    newest = result.structured_content["issues"][0]
    assert (result.is_error, newest["short_id"], newest["first_release"]) == (
        False,
        "ORDERS-API-3B",
        "orders-api@1.8.0",
    )
