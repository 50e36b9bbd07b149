"""`python -m servers.prometheus` over stdio, as the portal runs it, against a real Prometheus."""

import os
import sys

import anyio
import pytest
from mcp import Client, StdioServerParameters
from server_tool_names import TOOL_NAMES

from demo.prometheus.fake import start

pytestmark = pytest.mark.anyio


async def test_the_prometheus_server_runs_over_stdio_against_a_real_prometheus():
    # No need to wait for the first scrape (5 s): vector(42) needs no scraped data.
    with start(wait_for_scrape=False) as prometheus:
        params = StdioServerParameters(
            command=sys.executable,
            args=["-m", "servers.prometheus"],
            env={**os.environ, "PROMETHEUS_URL": prometheus.url, "PROMETHEUS_TIMEOUT": "5"},
        )
        with anyio.fail_after(20):
            async with Client(params) as client:
                tools = (await client.list_tools()).tools
                result = await client.call_tool("instant_query", {"query": "vector(42)"})
    assert tuple(t.name for t in tools) == TOOL_NAMES["prometheus"]
    assert result.is_error is False
    assert [(s["metric"], s["value"]) for s in result.structured_content["samples"]] == [({}, 42.0)]
