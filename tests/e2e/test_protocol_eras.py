"""Both protocol eras on one /mcp: the stateless 2026-07-28 revision and the initialize handshake."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Literal

import httpx2
import pytest
from conformance_run import FIXTURE_UPSTREAM
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS
from portal_testing import RunningPortal, running_portal

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPortal]:
    config = {"codemode": False, "servers": [FIXTURE_UPSTREAM]}
    with running_portal(tmp_path_factory.mktemp("eras"), config) as running:
        yield running


@asynccontextmanager
async def connect(portal: RunningPortal, mode: Literal["legacy", "auto"]) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {portal.token()}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(60.0)) as http,
        Client(streamable_http_client(portal.mcp_url, http_client=http), mode=mode) as client,
    ):
        yield client


@pytest.mark.parametrize(
    ("mode", "versions"), [("legacy", HANDSHAKE_PROTOCOL_VERSIONS), ("auto", MODERN_PROTOCOL_VERSIONS)]
)
async def test_each_era_lists_calls_reads_and_prompts_through_the_portal(
    portal: RunningPortal, mode: Literal["legacy", "auto"], versions: tuple[str, ...]
) -> None:
    async with connect(portal, mode) as client:
        version = client.protocol_version
        tools = {tool.name for tool in (await client.list_tools()).tools}
        called = await client.call_tool("test_simple_text", {})
        read = await client.read_resource("test://static-text")
        prompt = await client.get_prompt("test_simple_prompt")
    assert version in versions
    assert "test_simple_text" in tools
    assert called.content[0].text == "This is a simple text response for testing."  # type: ignore[union-attr]
    assert read.contents[0].text == "This is the content of the static text resource."  # type: ignore[union-attr]
    assert prompt.messages[0].content.text == "This is a simple prompt for testing."  # type: ignore[union-attr]


async def test_the_default_negotiation_picks_the_stateless_revision(portal: RunningPortal) -> None:
    async with connect(portal, "auto") as client:
        assert client.protocol_version == "2026-07-28"
    async with connect(portal, "legacy") as client:
        assert client.protocol_version == "2025-11-25"
