"""The Jira MCP server through the SDK's in-memory client, against the fake Jira."""

import socket
from collections.abc import Iterator

import pytest
from mcp import Client
from server_tool_names import TOOL_NAMES

from demo.jira import fake as jira_fake
from demo.jira.fake import TOKEN, RunningJira
from servers.jira import Settings, build_server

pytestmark = pytest.mark.anyio

REQUIRED = {
    "search_issues",
    "get_issue",
    "create_issue",
    "update_issue",
    "add_comment",
    "list_comments",
    "list_transitions",
    "transition_issue",
    "assign_issue",
    "list_projects",
}
# (readOnlyHint, destructiveHint, idempotentHint)
HINTS = {
    "create_issue": (False, False, False),
    "add_comment": (False, False, False),
    "update_issue": (False, True, True),
    "assign_issue": (False, True, True),
    "transition_issue": (False, True, False),
}


@pytest.fixture
def jira() -> Iterator[RunningJira]:
    with jira_fake.start() as running:
        yield running


@pytest.fixture
def settings(jira: RunningJira) -> Settings:
    return Settings(**jira.settings, timeout=5)


async def call(settings: Settings, tool: str, **args):
    async with Client(build_server(settings)) as client:
        return await client.call_tool(tool, args)


async def data(settings: Settings, tool: str, **args):
    result = await call(settings, tool, **args)
    assert result.is_error is False, result.content
    return result.structured_content


async def test_the_tool_list_has_every_tool_with_a_description_schema_and_deliberate_hints(settings):
    async with Client(build_server(settings)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == REQUIRED | {"find_users"} == set(TOOL_NAMES["jira"])
    for name, tool in tools.items():
        a = tool.annotations
        assert len(tool.description or "") > 80, name
        assert tool.output_schema is not None, name
        assert (a.read_only_hint, a.destructive_hint, a.idempotent_hint) == HINTS.get(
            name, (True, False, True)
        )
    assert tools["update_issue"].input_schema["properties"]["priority"]["anyOf"][0]["enum"] == [
        "Highest",
        "High",
        "Medium",
        "Low",
        "Lowest",
    ]
    assert tools["search_issues"].input_schema["properties"]["max_results"]["anyOf"][0]["maximum"] == 100


async def test_search_issues_pages_through_a_project_with_start_at(settings):
    jql = "project = DATA ORDER BY created DESC"
    first = await data(settings, "search_issues", jql=jql, max_results=2)
    second = await data(settings, "search_issues", jql=jql, start_at=first["next_start_at"], max_results=2)
    assert [i["key"] for i in first["issues"]] == ["DATA-22", "DATA-21"]
    assert (first["total"], first["next_start_at"]) == (3, 2)
    assert [i["key"] for i in second["issues"]] == ["DATA-19"]
    assert second["next_start_at"] is None


async def test_search_issues_uses_the_default_page_size_from_settings(jira):
    settings = Settings(**jira.settings, max_results=3)
    result = await data(settings, "search_issues", jql="")
    assert (result["total"], result["max_results"], len(result["issues"]), result["next_start_at"]) == (
        17,
        3,
        3,
        3,
    )


async def test_get_issue_returns_the_seeded_bug_with_its_details(jira, settings):
    issue = await data(settings, "get_issue", key="API-12")
    assert issue == {
        "key": "API-12",
        "summary": "Order totals off by one cent",
        "status": "In Progress",
        "issue_type": "Bug",
        "priority": "High",
        "assignee": "alice@acme.example",
        "labels": ["billing", "rounding"],
        "created": "2026-02-11T09:14:00.000+0000",
        "updated": "2026-02-13T15:20:00.000+0000",
        "project": "API",
        "description": (
            "Order totals with 20% VAT are sometimes one cent lower than the cart shows "
            "(cart 53.98, order 53.97).\norder_total() in src/api/orders.py truncates instead of rounding.\n"
            "Fix under way in infra/api MR !1 (Round order totals to cents), commit 9937cbae "
            "(Add rounding to totals)."
        ),
        "reporter": "bob@acme.example",
        "assignee_name": "Alice Moreau",
        "resolution": None,
        "resolved": None,
        "comment_count": 2,
        "url": f"{jira.url}/browse/API-12",
    }


async def test_a_created_issue_gets_the_next_key_and_is_found_by_search(settings):
    created = await data(
        settings,
        "create_issue",
        project="ops",
        summary="Check backup restore drill",
        description="Quarterly drill.",
        priority="High",
        labels=["backups"],
        assignee="frank@acme.example",
    )
    assert {k: created[k] for k in ("key", "status", "issue_type", "priority", "assignee", "reporter")} == {
        "key": "OPS-33",
        "status": "To Do",
        "issue_type": "Task",
        "priority": "High",
        "assignee": "frank@acme.example",
        "reporter": "portal-bot@acme.example",
    }
    found = await data(settings, "search_issues", jql="labels = backups")
    assert [(i["key"], i["summary"]) for i in found["issues"]] == [("OPS-33", "Check backup restore drill")]


async def test_update_issue_overwrites_the_given_fields_and_keeps_the_others(settings):
    updated = await data(
        settings,
        "update_issue",
        key="API-12",
        priority="Highest",
        add_labels=["vat"],
        remove_labels=["rounding"],
    )
    assert (updated["priority"], updated["labels"], updated["summary"]) == (
        "Highest",
        ["billing", "vat"],
        "Order totals off by one cent",
    )
    assert (await data(settings, "get_issue", key="API-12"))["priority"] == "Highest"


async def test_update_issue_without_any_field_is_an_error_saying_what_to_give(settings):
    result = await call(settings, "update_issue", key="API-12")
    assert result.is_error is True
    assert result.content[0].text == (
        "Error executing tool update_issue: Nothing to update: "
        "give summary, description, priority, labels, add_labels or remove_labels"
    )


async def test_a_comment_added_shows_up_last_in_list_comments(settings):
    added = await data(settings, "add_comment", key="API-12", body="Pipeline green; merging.")
    assert (added["author"], added["body"], added["created"]) == (
        "portal-bot@acme.example",
        "Pipeline green; merging.",
        "2026-03-02T12:00:00.000+0000",
    )
    page = await data(settings, "list_comments", key="API-12")
    assert [(c["author"], c["body"]) for c in page["comments"]] == [
        ("bob@acme.example", "Seen on 14 orders since Feb 9, all with 20% VAT."),
        ("alice@acme.example", "Fix in infra/api MR !1, commit 9937cbae (Add rounding to totals)."),
        ("portal-bot@acme.example", "Pipeline green; merging."),
    ]
    assert (await data(settings, "get_issue", key="API-12"))["comment_count"] == 3


async def test_list_comments_pages_with_start_at(settings):
    first = await data(settings, "list_comments", key="DATA-21", max_results=1)
    second = await data(settings, "list_comments", key="DATA-21", start_at=1, max_results=1)
    assert ([c["author"] for c in first["comments"]], first["next_start_at"]) == (["heidi@acme.example"], 1)
    assert [c["author_name"] for c in second["comments"]] == ["Grace Kim"]


async def test_transitions_follow_the_workflow_to_done_and_back(settings):
    assert (await data(settings, "list_transitions", key="API-12"))["result"] == [
        {"id": "21", "name": "Stop Progress", "to_status": "To Do"},
        {"id": "31", "name": "Done", "to_status": "Done"},
    ]
    moved = await data(
        settings, "transition_issue", key="API-12", transition="done", comment="Fixed in 9937cbae."
    )
    assert moved["status"] == "Done"
    issue = await data(settings, "get_issue", key="API-12")
    assert (issue["resolution"], issue["resolved"], issue["comment_count"]) == (
        "Done",
        "2026-03-02T12:00:00.000+0000",
        3,
    )
    assert (await data(settings, "list_transitions", key="API-12"))["result"] == [
        {"id": "41", "name": "Reopen", "to_status": "To Do"}
    ]


async def test_a_transition_can_be_named_by_its_target_status_or_id(settings):
    assert (await data(settings, "transition_issue", key="API-13", transition="In Progress"))[
        "status"
    ] == "In Progress"
    assert (await data(settings, "transition_issue", key="API-13", transition="31"))["status"] == "Done"


async def test_an_unavailable_transition_is_an_error_listing_the_available_ones(settings):
    result = await call(settings, "transition_issue", key="API-14", transition="Done")
    assert result.is_error is True
    assert result.content[0].text == (
        "Error executing tool transition_issue: Issue API-14 has no transition 'Done' from its current "
        "status; available now: 'Start Progress' (to In Progress)"
    )


async def test_assign_issue_sets_and_clears_the_assignee(settings):
    assigned = await data(settings, "assign_issue", key="OPS-31", assignee="alice@acme.example")
    assert assigned["assignee"] == "alice@acme.example"
    mine = await data(settings, "search_issues", jql='assignee = "alice@acme.example" ORDER BY key ASC')
    assert [i["key"] for i in mine["issues"]] == ["API-12", "OPS-31"]
    cleared = await data(settings, "assign_issue", key="OPS-31", assignee=None)
    assert cleared["assignee"] is None


async def test_assigning_to_an_unknown_person_says_how_to_find_one(settings):
    result = await call(settings, "assign_issue", key="OPS-31", assignee="zed@acme.example")
    assert result.is_error is True
    assert result.content[0].text == (
        "Error executing tool assign_issue: Jira could not complete assigning issue 'OPS-31' to "
        "'zed@acme.example': No matching user found for: 'zed@acme.example'; give the person's email, "
        "e.g. alice@acme.example; find_users(query=...) lists matching accounts"
    )


async def test_list_projects_returns_the_five_projects_with_their_leads(settings):
    projects = (await data(settings, "list_projects"))["result"]
    assert [(p["key"], p["name"], p["lead"]) for p in projects] == [
        ("API", "Orders API", "alice@acme.example"),
        ("WEB", "Web Frontend", "carol@acme.example"),
        ("AUTH", "Auth Service", "erin@acme.example"),
        ("DATA", "ETL Exporter", "grace@acme.example"),
        ("OPS", "Operations", "frank@acme.example"),
    ]


async def test_find_users_matches_the_start_of_a_name(settings):
    assert (await data(settings, "find_users", query="gr"))["result"] == [
        {"username": "grace", "email": "grace@acme.example", "display_name": "Grace Kim", "active": True}
    ]


async def test_an_unknown_issue_is_a_404_tool_error_pointing_at_search(settings):
    result = await call(settings, "get_issue", key="API-99")
    assert result.is_error is True
    assert result.content[0].text == (
        "Error executing tool get_issue: Jira answered 404 for issue 'API-99': no such issue, or the account "
        "cannot see it; find keys with search_issues(jql='project = KEY')"
    )


async def test_a_bad_jql_query_is_a_tool_error_listing_the_clauses_that_work(settings):
    result = await call(settings, "search_issues", jql="sprint in openSprints()")
    assert result.is_error is True
    text = result.content[0].text
    assert "(400: Field 'sprint' does not exist or you do not have permission to view it.)" in text
    assert 'Clauses that work: project = KEY; status = "To Do"' in text


async def test_a_bad_token_is_a_401_tool_error_that_does_not_echo_the_token(jira):
    settings = Settings(url=jira.url, token="wrong-secret-4242", timeout=5)
    result = await call(settings, "list_projects")
    assert result.is_error is True
    assert result.content[0].text == (
        "Error executing tool list_projects: Jira rejected the credentials (401 Unauthorized): set "
        "JIRA_TOKEN to a valid personal access token (Jira Server/Data Center) or API token, with "
        "JIRA_EMAIL set to its account (Jira Cloud)"
    )
    assert "wrong-secret-4242" not in result.model_dump_json()


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (
            {"status": 403, "path": "/rest/api/2/issue/API-12"},
            ["403 Forbidden for issue 'API-12'", "permission"],
        ),
        (
            {"status": 429, "headers": {"Retry-After": "7"}},
            ["429 Too Many Requests", "wait 7 s (Retry-After)"],
        ),
        ({"status": 500}, ["Jira failed with 500 on issue 'API-12'", "retry later"]),
        (
            {"status": 503, "path": "/rest/api/2/issue"},
            ["Jira failed with 503 on issue 'API-12'", "retry later"],
        ),
        ({"body": "{not json"}, ["answered issue 'API-12' with malformed JSON", "check that JIRA_URL"]),
        ({"body": "<html>", "path": "/rest/api/2/issue"}, ["malformed JSON"]),
    ],
)
async def test_each_backend_failure_is_a_tool_error_with_cause_and_fix(jira, settings, fault, words):
    jira.fail_next(**fault)
    result = await call(settings, "get_issue", key="API-12")
    assert result.is_error is True
    for word in words:
        assert word in result.content[0].text
    assert TOKEN not in result.model_dump_json()


async def test_a_slow_jira_is_a_timeout_tool_error_naming_the_setting(jira):
    jira.delay_next(10, path="/rest/api/2/search")
    settings = Settings(**jira.settings, timeout=0.3)
    result = await call(settings, "search_issues", jql="project = API")
    assert result.is_error is True
    assert result.content[0].text == (
        "Error executing tool search_issues: Jira did not answer within 0.3 s "
        "(the JQL query 'project = API'): retry later, narrow the query, or raise JIRA_TIMEOUT"
    )


async def test_a_jira_that_is_down_is_a_prompt_tool_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = Settings(url=f"http://127.0.0.1:{port}", token=TOKEN, timeout=1)
    result = await call(settings, "list_transitions", key="API-12")
    assert result.is_error is True
    assert result.content[0].text == (
        "Error executing tool list_transitions: Cannot connect to Jira: "
        "check JIRA_URL and that the server is up"
    )
