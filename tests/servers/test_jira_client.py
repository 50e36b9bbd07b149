"""The real `jira` library, through our client.py, against the fake Jira."""

import socket
from collections.abc import Iterator

import pytest

from demo.jira import fake as jira_fake
from demo.jira.fake import TOKEN, RunningJira
from servers.jira import Settings
from servers.jira.client import JQL_HINT, BackendError, JiraClient, status_message


@pytest.fixture
def jira() -> Iterator[RunningJira]:
    """A fresh fake Jira per test, so writes never leak between tests."""
    with jira_fake.start() as running:
        yield running


@pytest.fixture
def client(jira: RunningJira) -> JiraClient:
    return JiraClient(Settings(**jira.settings, timeout=5))


def keys(client: JiraClient, jql: str, max_results: int = 50) -> list[str]:
    return [i["key"] for i in client.search_issues(jql, 0, max_results)["issues"]]


def test_the_client_makes_no_request_until_the_first_call_and_then_reads_server_info(jira):
    client = JiraClient(Settings(**jira.settings))
    assert jira.requests == []
    client.get_issue("API-12")
    assert jira.requests == [
        ("GET", "/rest/api/2/serverInfo"),
        ("GET", "/rest/api/2/issue/API-12"),
    ]


def test_a_search_returns_one_page_with_the_total_and_the_next_start(client):
    first = client.search_issues("project = API ORDER BY created ASC", 0, 2)
    second = client.search_issues("project = API ORDER BY created ASC", 2, 2)
    assert (first["total"], first["next_start_at"]) == (4, 2)
    assert [i["key"] for i in first["issues"]] == ["API-10", "API-12"]
    assert (second["start_at"], second["next_start_at"]) == (2, None)
    assert [i["key"] for i in second["issues"]] == ["API-13", "API-14"]


def test_a_search_result_carries_the_compact_fields_of_each_issue(client):
    result = client.search_issues('summary ~ "cent"', 0, 20)
    assert result["issues"] == [
        {
            "key": "API-12",
            "summary": "Order totals off by one cent",
            "status": "In Progress",
            "issue_type": "Bug",
            "priority": "High",
            "assignee": "alice@acme.example",
            "labels": ["billing", "rounding"],
            "created": "2026-02-11T09:14:00.000+0000",
            "updated": "2026-02-13T15:20:00.000+0000",
        }
    ]


@pytest.mark.parametrize(
    ("jql", "expected"),
    [
        ('status = "In Progress"', ["OPS-30", "DATA-21", "AUTH-5", "WEB-7", "API-12"]),
        ("project = API AND status != Done ORDER BY created DESC", ["API-14", "API-13", "API-12"]),
        ('assignee = "alice@acme.example"', ["API-12"]),
        ("labels = billing", ["WEB-8", "API-12"]),
        ('text ~ "oom"', ["DATA-21"]),
        ("assignee is EMPTY", ["OPS-31", "API-14"]),
        ("project = OPS AND priority = Highest", ["OPS-31"]),
        (
            'status in ("To Do", "In Progress") AND labels = security ORDER BY priority DESC',
            ["AUTH-5", "AUTH-3"],
        ),
        (
            'created >= "2026-02-24" ORDER BY created ASC',
            ["OPS-30", "DATA-21", "DATA-22", "OPS-31", "OPS-32"],
        ),
        ("project = API AND labels != billing", ["API-14", "API-13", "API-10"]),
        ("type = Incident AND status = Done", ["OPS-29"]),
    ],
)
def test_the_fake_understands_the_documented_jql_subset(client, jql, expected):
    assert keys(client, jql) == expected


def test_a_long_query_is_sent_as_a_post_and_still_answers(jira, client):
    jql = "project = DATA AND " + 'text ~ "e" AND ' * 120 + "status = Done"
    assert len(jql) > 1500
    assert keys(client, jql) == ["DATA-19"]
    assert jira.requests[-1] == ("POST", "/rest/api/2/search")


def test_current_user_is_the_account_of_the_email_in_basic_auth(jira):
    as_alice = JiraClient(Settings(**jira.settings, email="alice@acme.example"))
    as_bot = JiraClient(Settings(**jira.settings))
    assert keys(as_alice, "assignee = currentUser()") == ["API-12"]
    assert keys(as_bot, "assignee = currentUser()") == []


def test_jql_outside_the_subset_is_jiras_400_translated_into_the_clauses_that_work(client):
    with pytest.raises(BackendError) as caught:
        client.search_issues("project = API OR project = WEB", 0, 20)
    assert str(caught.value) == (
        "Jira refused the JQL query 'project = API OR project = WEB' (400: Error in the JQL Query: "
        "Expecting 'AND' but got 'OR'. This Jira supports only clauses joined by AND (no OR, NOT or "
        f"parentheses).): {JQL_HINT}"
    )


def test_an_unknown_project_in_jql_names_the_value_jira_does_not_know(client):
    with pytest.raises(BackendError) as caught:
        client.search_issues("project = SHOP", 0, 20)
    assert "(400: The value 'SHOP' does not exist for the field 'project'.)" in str(caught.value)


def test_an_edit_is_a_put_on_the_issue_and_returns_the_reloaded_issue(jira, client):
    issue = client.update_issue("API-12", {"summary": "Order totals off by one cent (VAT)"}, [{"add": "vat"}])
    assert (issue["summary"], issue["labels"]) == (
        "Order totals off by one cent (VAT)",
        ["billing", "rounding", "vat"],
    )
    assert ("PUT", "/rest/api/2/issue/10101") in jira.requests


def test_assigning_goes_through_the_user_search_and_the_latest_assignee_endpoint(jira, client):
    assert client.assign_issue("OPS-31", "frank@acme.example")["assignee"] == "frank@acme.example"
    assert ("GET", "/rest/api/2/user/search") in jira.requests
    assert ("PUT", "/rest/api/latest/issue/OPS-31/assignee") in jira.requests


def test_creating_with_an_unknown_assignee_fails_before_anything_is_created(jira, client):
    with pytest.raises(BackendError) as caught:
        client.create_issue("OPS", "Check backups", "Task", None, None, [], "nobody@acme.example")
    assert str(caught.value) == (
        "No single Jira user matches 'nobody@acme.example': give the person's email, e.g. "
        "alice@acme.example; find_users(query=...) lists matching accounts"
    )
    assert not any(method == "POST" for method, _ in jira.requests)


def test_a_long_description_is_cut_with_a_marker(client):
    client.update_issue("WEB-5", {"description": "x" * 4100}, [])
    assert client.get_issue("WEB-5")["description"] == "x" * 4000 + "… [truncated: 100 more characters]"


def test_a_refused_connection_becomes_a_backend_error_naming_the_setting_not_the_address():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed as soon as the block ends: nothing listens there
    client = JiraClient(Settings(url=f"http://127.0.0.1:{port}", token=TOKEN, timeout=2))
    with pytest.raises(BackendError) as caught:
        client.list_projects()
    assert str(caught.value) == "Cannot connect to Jira: check JIRA_URL and that the server is up"


@pytest.mark.parametrize(
    ("code", "retry_after", "expected"),
    [
        (403, None, "Jira answered 403 Forbidden for issue 'X-1': the account behind JIRA_TOKEN lacks the "
         "permission for this; ask a Jira admin or the project lead to grant it"),
        (404, None, "Jira answered 404 for issue 'X-1': hint"),
        (429, "7", "Jira is rate-limiting this account (429 Too Many Requests): "
         "wait 7 s (Retry-After), then retry"),
        (429, None, "Jira is rate-limiting this account (429 Too Many Requests): wait a minute, then retry"),
        (502, None, "Jira failed with 502 on issue 'X-1': a server-side error, retry later"),
        (None, None, "Jira could not complete issue 'X-1': boom; hint"),
    ],
)  # fmt: skip
def test_each_http_status_maps_to_a_message_with_cause_and_fix(code, retry_after, expected):
    assert status_message(code, "boom", "issue 'X-1'", "hint", retry_after) == expected
