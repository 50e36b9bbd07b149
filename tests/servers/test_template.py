"""The template server and its fake: the same contract as every real server."""

import socket

import pytest
from mcp import Client

from demo._template import fake as template_fake
from servers._template import Settings, build_server

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings():
    with template_fake.start() as running:
        yield Settings(**running.settings, timeout=5)


async def test_the_template_serves_three_described_and_annotated_tools(settings):
    async with Client(build_server(settings)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert sorted(tools) == ["create_incident", "get_service", "list_services"]
    assert [tools[n].annotations.read_only_hint for n in sorted(tools)] == [False, True, True]
    assert all(t.description and t.output_schema for t in tools.values())


async def test_list_services_returns_every_service_with_its_status(settings):
    async with Client(build_server(settings)) as client:
        result = await client.call_tool("list_services", {})
    assert [(s["id"], s["status"]) for s in result.structured_content["result"]] == [
        ("api", "degraded"),
        ("web", "operational"),
        ("auth", "operational"),
        ("etl", "major_outage"),
    ]


async def test_get_service_returns_only_the_open_incidents(settings):
    async with Client(build_server(settings)) as client:
        result = await client.call_tool("get_service", {"service_id": "api"})
    assert result.structured_content["status"] == "degraded"
    assert [i["title"] for i in result.structured_content["open_incidents"]] == [
        "Elevated 502 rate on /v2/orders"
    ]


async def test_a_created_incident_shows_up_on_its_service(settings):
    async with Client(build_server(settings)) as client:
        created = await client.call_tool(
            "create_incident", {"service_id": "web", "title": "CDN errors", "impact": "major"}
        )
        service = await client.call_tool("get_service", {"service_id": "web"})
    assert created.structured_content == {
        "id": 4,
        "service_id": "web",
        "title": "CDN errors",
        "status": "investigating",
        "impact": "major",
        "created_at": "2026-03-02T12:00:00Z",
    }
    assert service.structured_content["open_incidents"] == [created.structured_content]


async def test_an_unknown_service_is_a_tool_error_with_the_fix(settings):
    async with Client(build_server(settings)) as client:
        result = await client.call_tool("get_service", {"service_id": "nope"})
    assert result.is_error is True
    assert result.content[0].text == (
        "Error executing tool get_service: The status page answered 404 for "
        "service 'nope': list the valid ids with list_services()"
    )


async def test_a_bad_token_is_a_tool_error_without_the_token(settings):
    bad = Settings(url=settings.url, token="sp-very-secret", timeout=5)
    async with Client(build_server(bad)) as client:
        result = await client.call_tool("list_services", {})
    assert result.content[0].text == (
        "Error executing tool list_services: The status page rejected the token "
        "(401): set TEMPLATE_TOKEN to a valid API token"
    )
    assert "sp-very-secret" not in result.model_dump_json()


async def test_a_status_page_that_is_down_is_a_tool_error_naming_the_setting_not_the_address():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there
    down = Settings(url=f"http://127.0.0.1:{port}", token="t", timeout=2)
    async with Client(build_server(down)) as client:
        result = await client.call_tool("list_services", {})
    assert (result.is_error, result.content[0].text) == (
        True,
        "Error executing tool list_services: Cannot connect to the status page: "
        "check TEMPLATE_URL and that it is up",
    )
