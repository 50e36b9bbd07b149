"""`python -m servers.elasticsearch` over stdio, as the portal runs it in a subprocess."""

import os
import sys

import anyio
import pytest
from mcp import Client, StdioServerParameters

from demo.elasticsearch import fake as es_fake

pytestmark = pytest.mark.anyio


async def test_the_elasticsearch_server_runs_over_stdio_against_the_fake():
    with es_fake.start() as fake:
        env = {**os.environ, "ELASTICSEARCH_URL": fake.url, "ELASTICSEARCH_API_KEY": es_fake.API_KEY}
        params = StdioServerParameters(command=sys.executable, args=["-m", "servers.elasticsearch"], env=env)
        with anyio.fail_after(20):
            async with Client(params) as client:
                tools = (await client.list_tools()).tools
                result = await client.call_tool("count", {"query": "level:ERROR"})
    assert len(tools) == 8
    assert (result.is_error, result.structured_content) == (False, {"index": "logs-*", "count": 52})
