"""The Sentry MCP server through the SDK's in-memory client, against the fake Sentry."""

from collections.abc import AsyncIterator, Iterator

import pytest
from mcp import Client
from server_tool_names import TOOL_NAMES

from demo.sentry import fake as sentry_fake
from servers.sentry import Settings, build_server

pytestmark = pytest.mark.anyio

REQUIRED = {
    "list_projects",
    "list_issues",
    "get_issue",
    "get_latest_event",
    "list_issue_events",
    "resolve_issue",
    "list_releases",
}


@pytest.fixture
def sentry() -> Iterator[sentry_fake.RunningSentry]:
    with sentry_fake.start() as running:
        yield running


@pytest.fixture
def settings(sentry: sentry_fake.RunningSentry) -> Settings:
    return Settings(**sentry.settings, timeout=5)


@pytest.fixture
async def mcp(settings: Settings) -> AsyncIterator[Client]:
    """One in-memory MCP session per test: building a server costs ~0.3 s of schema generation."""
    async with Client(build_server(settings)) as client:
        yield client


async def call(client: Client, tool: str, **args):
    result = await client.call_tool(tool, args)
    assert result.is_error is False, result.content
    return result.structured_content


async def test_the_tool_list_has_every_tool_with_a_description_schema_and_deliberate_annotations(mcp):
    tools = {t.name: t for t in (await mcp.list_tools()).tools}
    assert (
        set(tools) == REQUIRED | {"get_event", "list_issue_tags", "get_release"} == set(TOOL_NAMES["sentry"])
    )
    for name, tool in tools.items():
        assert len(tool.description or "") > 80, name
        assert tool.output_schema is not None, name
        hints = tool.annotations
        expected = (name != "resolve_issue", False, True)
        assert (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint) == expected, name
    assert tools["list_issues"].input_schema["properties"]["sort"]["enum"] == ["date", "freq", "new"]
    assert tools["list_issues"].input_schema["properties"]["query"]["default"] == "is:unresolved"


async def test_list_projects_gives_the_four_services(mcp):
    page = await call(mcp, "list_projects")
    assert [(p["slug"], p["platform"]) for p in page["projects"]] == [
        ("auth-service", "python"),
        ("etl-exporter", "python"),
        ("orders-api", "python"),
        ("web-frontend", "javascript-react"),
    ]


async def test_the_newest_unresolved_issue_leads_to_its_release_and_commit(mcp):
    newest = (await call(mcp, "list_issues", limit=1))["issues"][0]
    issue = await call(mcp, "get_issue", issue_id=newest["short_id"])
    release = await call(mcp, "get_release", version=issue["first_release"])
    assert (newest["title"], newest["project"], newest["first_release"]) == (
        "InvalidOperation: quantize result has too many digits for current context",
        "orders-api",
        "orders-api@1.8.0",
    )
    assert (issue["type"], issue["value"], issue["is_unhandled"], issue["last_release"]) == (
        "InvalidOperation",
        "quantize result has too many digits for current context",
        True,
        "orders-api@1.8.0",
    )
    assert (release["last_commit"]["id"], release["last_commit"]["repository"]) == (
        "9937cbaee14243fb86d2b552d7fd585eb588987c",
        "infra/api",
    )


async def test_the_latest_event_of_the_web_crash_is_capped_to_its_innermost_frames(mcp):
    event = await call(mcp, "get_latest_event", issue_id="WEB-FRONTEND-5K", max_frames=3)
    [exception] = event["exceptions"]
    assert [(f["filename"], f["function"], f["lineno"], f["in_app"]) for f in exception["frames"]] == [
        ("src/App.tsx", "App", 2, True),
        ("src/orders/OrdersPage.tsx", "OrdersPage", 18, True),
        ("src/orders/OrdersTable.tsx", "OrdersTable", 31, True),
    ]
    assert exception["frames"][-1]["context_line"] == "      {orders.items.map((order) => ("
    assert (exception["type"], exception["frames_omitted"], event["release"]) == (
        "TypeError",
        5,
        "web-frontend@2.4.0",
    )


async def test_events_are_listed_newest_first_and_one_is_read_by_its_id(mcp):
    page = await call(mcp, "list_issue_events", issue_id="6230500611", limit=2)
    first = await call(mcp, "list_issue_events", issue_id="6230500611", cursor=page["next_cursor"])
    [oldest] = first["events"]
    event = await call(mcp, "get_event", issue_id="6230500611", event_id=oldest["event_id"])
    assert [e["date_created"] for e in page["events"] + first["events"]] == [
        "2026-02-26T03:05:12Z",
        "2026-02-25T22:05:12Z",
        "2026-02-20T03:01:07Z",
    ]
    assert first["next_cursor"] is None
    assert (event["event_id"], event["title"], event["exceptions"][0]["frames"][1]["function"]) == (
        oldest["event_id"],
        "MemoryError",
        "export",
    )


async def test_issue_tags_show_which_releases_an_issue_hits(mcp):
    tags = await call(mcp, "list_issue_tags", issue_id="ORDERS-API-38", keys=["release"])
    assert tags["result"] == [
        {
            "key": "release",
            "total_values": 3,
            "top_values": [
                {"value": "orders-api@1.7.2", "count": 2},
                {"value": "orders-api@1.8.0", "count": 1},
            ],
        }
    ]


async def test_a_resolved_issue_leaves_the_unresolved_list_and_resolving_again_changes_nothing(mcp):
    first = await call(mcp, "resolve_issue", issue_id="ORDERS-API-3B")
    again = await call(mcp, "resolve_issue", issue_id="6230500201")
    unresolved = await call(mcp, "list_issues", limit=1, include_first_release=False)
    resolved = await call(mcp, "list_issues", query="is:resolved", project="orders-api")
    assert (
        first
        == again
        == {
            "id": "6230500201",
            "short_id": "ORDERS-API-3B",
            "title": "InvalidOperation: quantize result has too many digits for current context",
            "status": "resolved",
            "permalink": "https://acme.sentry.io/issues/6230500201/",
        }
    )
    assert unresolved["issues"][0]["short_id"] == "ETL-EXPORTER-Z"
    assert [(i["short_id"], i["status"]) for i in resolved["issues"]] == [
        ("ORDERS-API-3B", "resolved"),
        ("ORDERS-API-2Q", "resolved"),
    ]


async def test_paging_list_issues_with_the_cursor_walks_every_unresolved_issue(mcp):
    pages, cursor = [], None
    for _ in range(5):
        args = {"limit": 2, "include_first_release": False} | ({"cursor": cursor} if cursor else {})
        page = await call(mcp, "list_issues", **args)
        pages.append([i["short_id"] for i in page["issues"]])
        if not (cursor := page["next_cursor"]):
            break
    assert pages == [
        ["ORDERS-API-3B", "ETL-EXPORTER-Z"],
        ["WEB-FRONTEND-5K", "ORDERS-API-38"],
        ["AUTH-SERVICE-1F"],
    ]


async def test_search_syntax_filters_by_level_and_free_text(mcp):
    fatal = await call(mcp, "list_issues", query="level:fatal", include_first_release=False)
    text = await call(mcp, "list_issues", query='"Signature has expired"', include_first_release=False)
    ignored = await call(mcp, "list_issues", query="is:ignored Signature")
    assert [i["short_id"] for i in fatal["issues"]] == ["ETL-EXPORTER-Z"]
    assert [i["short_id"] for i in text["issues"]] == ["AUTH-SERVICE-1D"]  # a query replaces is:unresolved
    assert [(i["short_id"], i["first_release"]) for i in ignored["issues"]] == [
        ("AUTH-SERVICE-1D", "auth-service@3.2.1")
    ]


async def test_list_releases_filters_by_version_text(mcp):
    page = await call(mcp, "list_releases", query="web-frontend@")
    assert [(r["version"], r["new_groups"], r["projects"]) for r in page["releases"]] == [
        ("web-frontend@2.4.0", 1, ["web-frontend"]),
        ("web-frontend@2.3.1", 1, ["web-frontend"]),
    ]


async def test_a_query_sentry_cannot_parse_is_a_tool_error_quoting_sentrys_reason(mcp):
    result = await mcp.call_tool("list_issues", {"query": "is:bogus"})
    assert result.is_error is True
    assert result.content[0].text.startswith(
        "Error executing tool list_issues: Sentry refused the request for the issues of organisation 'acme' "
        '(400: Error parsing search query: Invalid value for "is" search'
    )


async def test_an_unknown_issue_is_a_tool_error_pointing_at_list_issues(mcp):
    result = await mcp.call_tool("get_latest_event", {"issue_id": "ORDERS-API-999"})
    assert result.is_error is True
    assert result.content[0].text == (
        "Error executing tool get_latest_event: Sentry answered 404 for event 'latest' of issue "
        "'ORDERS-API-999': list the issue's events with list_issue_events('ORDERS-API-999'), or find valid "
        "ids (numeric, or short ids like ORDERS-API-3B) with list_issues()"
    )


async def test_an_issue_id_with_a_path_in_it_is_refused_before_any_request(mcp):
    result = await mcp.call_tool("get_issue", {"issue_id": "../projects"})
    assert result.is_error is True
    assert "pattern" in result.content[0].text
