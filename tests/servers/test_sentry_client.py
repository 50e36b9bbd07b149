"""Our httpx client (servers/sentry/client.py) against the fake Sentry over real HTTP."""

import socket
from collections.abc import Iterator

import httpx
import pytest

from demo.sentry import fake as sentry_fake
from servers._toolkit import clip
from servers.sentry import Settings, shapes
from servers.sentry import client as client_module
from servers.sentry.client import BackendError, SentryClient, status_message


@pytest.fixture
def sentry() -> Iterator[sentry_fake.RunningSentry]:
    with sentry_fake.start() as running:
        yield running


@pytest.fixture
def client(sentry: sentry_fake.RunningSentry) -> SentryClient:
    return SentryClient(Settings(**sentry.settings, timeout=5))


def test_the_projects_are_listed_by_slug_with_their_team_and_latest_release(client):
    page = client.list_projects(None)
    assert [(p["slug"], p["teams"], p["latest_release"]) for p in page["projects"]] == [
        ("auth-service", ["team-platform"], "auth-service@3.2.1"),
        ("etl-exporter", ["team-data"], "etl-exporter@0.9.4"),
        ("orders-api", ["team-payments"], "orders-api@1.8.0"),
        ("web-frontend", ["team-web"], "web-frontend@2.4.0"),
    ]
    assert page["next_cursor"] is None


def test_the_newest_unresolved_issue_is_the_rounding_crash_with_its_first_release(client):
    page = client.list_issues("is:unresolved", None, "date", 1, None, with_first_release=True)
    assert page["issues"] == [
        {
            "id": "6230500201",
            "short_id": "ORDERS-API-3B",
            "title": "InvalidOperation: quantize result has too many digits for current context",
            "culprit": "api.orders in order_total",
            "level": "error",
            "status": "unresolved",
            "substatus": "ongoing",
            "count": 342,
            "user_count": 87,
            "first_seen": "2026-02-13T15:02:11Z",
            "last_seen": "2026-02-26T09:41:27Z",
            "project": "orders-api",
            "permalink": "https://acme.sentry.io/issues/6230500201/",
            "first_release": "orders-api@1.8.0",
        }
    ]
    assert page["next_cursor"] == "1:1:0"


def test_a_project_slug_filters_issues_and_the_sort_orders_them(client):
    by_freq = client.list_issues("", "orders-api", "freq", 10, None, with_first_release=False)
    by_new = client.list_issues("", "orders-api", "new", 10, None, with_first_release=False)
    assert [(i["short_id"], i["count"], i["first_release"]) for i in by_freq["issues"]] == [
        ("ORDERS-API-2Q", 1204, None),
        ("ORDERS-API-3B", 342, None),
        ("ORDERS-API-38", 57, None),
    ]
    assert [i["short_id"] for i in by_new["issues"]] == ["ORDERS-API-3B", "ORDERS-API-38", "ORDERS-API-2Q"]


def test_paging_follows_the_link_header_cursor_until_results_is_false(client):
    seen, cursor = [], None
    for _ in range(5):
        page = client.list_issues("is:unresolved", None, "date", 2, cursor, with_first_release=False)
        seen.append([i["short_id"] for i in page["issues"]])
        if not (cursor := page["next_cursor"]):
            break
    assert seen == [
        ["ORDERS-API-3B", "ETL-EXPORTER-Z"],
        ["WEB-FRONTEND-5K", "ORDERS-API-38"],
        ["AUTH-SERVICE-1F"],
    ]


def test_a_short_id_reads_the_same_issue_as_its_numeric_id(client):
    assert client.get_issue("orders-api-3b") == client.get_issue("6230500201")


def test_the_latest_event_keeps_the_innermost_frames_last_with_their_source_lines(client):
    event = client.get_event("6230500201", "latest", max_frames=2)
    [exception] = event["exceptions"]
    assert (exception["type"], exception["module"], exception["frames_omitted"]) == (
        "InvalidOperation",
        "decimal",
        3,
    )
    assert exception["frames"] == [
        {
            "filename": "src/api/routes/orders.py",
            "function": "create_order",
            "lineno": 42,
            "context_line": "    total = order_total(payload.lines)",
            "in_app": True,
        },
        {
            "filename": "src/api/orders.py",
            "function": "order_total",
            "lineno": 7,
            "context_line": "    return (subtotal * Decimal('1.2')).quantize(Decimal('0.01'))",
            "in_app": True,
        },
    ]
    assert (event["release"], event["environment"], event["date_created"]) == (
        "orders-api@1.8.0",
        "production",
        "2026-02-26T09:41:27Z",
    )


def test_a_chained_exception_lists_the_raised_exception_last(client):
    event = client.get_event("ORDERS-API-2Q", "latest", max_frames=1)
    assert [(e["type"], e["module"], e["frames"][0]["function"]) for e in event["exceptions"]] == [
        ("ReadTimeoutError", "urllib3.exceptions", "_raise_timeout"),
        ("ReadTimeout", "requests.exceptions", "send"),
    ]


def test_a_release_carries_its_last_commit_and_the_gitlab_repository(client):
    release = client.get_release("orders-api@1.8.0")
    assert release["last_commit"] == {
        "id": "9937cbaee14243fb86d2b552d7fd585eb588987c",
        "message": "Add rounding to totals",
        "repository": "infra/api",
        "author": "alice@acme.example",
        "date_created": "2026-02-13T13:55:00Z",
    }
    assert release["last_deploy"] == {"environment": "production", "date_finished": "2026-02-13T14:41:00Z"}


def test_releases_of_one_project_come_newest_first(client):
    page = client.list_releases("orders-api", None, 25, None)
    assert [(r["version"], r["last_commit"]["id"][:7]) for r in page["releases"]] == [
        ("orders-api@1.8.0", "9937cba"),
        ("orders-api@1.7.3", "2c9ee17"),
        ("orders-api@1.7.2", "065b3a1"),
    ]


def test_an_unknown_project_slug_says_how_to_list_the_valid_ones(client):
    with pytest.raises(BackendError) as caught:
        client.list_issues("", "orders", "date", 5, None, with_first_release=False)
    assert (
        str(caught.value)
        == "No Sentry project 'orders' in organisation 'acme': list valid slugs with list_projects()"
    )


def test_a_wrong_organisation_slug_points_at_the_org_setting(sentry):
    client = SentryClient(Settings(**{**sentry.settings, "org": "acne"}, timeout=5))
    with pytest.raises(BackendError) as caught:
        client.list_projects(None)
    assert str(caught.value) == (
        "Sentry answered 404 for the projects of organisation 'acne': "
        "no such organisation for this token: check SENTRY_ORG"
    )


def test_credentials_in_the_url_never_reach_a_message():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there
    url = f"http://user:hunter2@127.0.0.1:{port}"
    client = SentryClient(Settings(url=url, token="t", org="acme", timeout=1))
    with pytest.raises(BackendError) as caught:
        client.list_projects(None)
    assert str(caught.value) == "Cannot connect to Sentry: check SENTRY_URL and that the server is up"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (
            401,
            "Sentry rejected the token (401: Invalid token): set SENTRY_TOKEN to a valid auth token "
            "with the org:read, project:read and event:read scopes",
        ),
        (
            403,
            "Sentry answered 403 for issue '1': the token lacks permission "
            "(reads need org:read, project:read, event:read; resolve_issue needs event:write)",
        ),
        (404, "Sentry answered 404 for issue '1': the hint"),
        (429, "Sentry is rate-limiting this token (429 Too Many Requests): wait 7 seconds, then retry"),
        (503, "Sentry failed with 503 on issue '1': a server-side error, retry later"),
        (400, "Sentry refused the request for issue '1' (400: Invalid token): check the arguments"),
    ],
)
def test_each_http_status_maps_to_a_message_with_cause_and_fix(code, expected):
    assert status_message(code, "Invalid token", "issue '1'", "the hint", 7) == expected


def test_without_retry_after_the_wait_comes_from_sentrys_rate_limit_reset(monkeypatch):
    monkeypatch.setattr(client_module.time, "time", lambda: 1_772_000_000.0)
    response = httpx.Response(429, headers={"X-Sentry-Rate-Limit-Reset": "1772000012"})
    assert client_module._retry_after(response) == 12
    assert client_module._retry_after(httpx.Response(429)) is None


def test_a_next_link_without_results_ends_the_paging():
    last = '<http://x/?&cursor=2:2:0>; rel="next"; results="false"; cursor="2:2:0"'
    more = '<http://x/?&cursor=2:1:0>; rel="next"; results="true"; cursor="2:1:0"'
    assert client_module._next_cursor(httpx.Response(200, headers={"Link": last})) is None
    assert client_module._next_cursor(httpx.Response(200, headers={"Link": more})) == "2:1:0"


def test_long_texts_are_cut_with_a_visible_marker():
    assert clip("x" * 501, shapes.MAX_TEXT) == "x" * 500 + "… [truncated: 1 more characters]"
    assert clip("x" * 500, shapes.MAX_TEXT) == "x" * 500
