"""Every class of Sentry failure reaches the model as a tool error that says the cause and the fix,
and never carries the token. The fake misbehaves on demand (fail_next / delay_next)."""

import socket
from collections.abc import Iterator

import pytest
from mcp import Client

from demo.sentry import fake as sentry_fake
from servers.sentry import Settings, build_server

pytestmark = pytest.mark.anyio


@pytest.fixture
def sentry() -> Iterator[sentry_fake.RunningSentry]:
    with sentry_fake.start() as running:
        yield running


async def error_of(settings: Settings, tool: str, **args) -> str:
    """The tool error text; asserts the call failed and that no token leaked into the result."""
    async with Client(build_server(settings)) as client:
        result = await client.call_tool(tool, args)
    dump = result.model_dump_json()
    assert result.is_error is True
    assert sentry_fake.TOKEN not in dump and settings.token.get_secret_value() not in dump
    return result.content[0].text


def settings_for(sentry: sentry_fake.RunningSentry, **overrides) -> Settings:
    return Settings(**{**sentry.settings, "timeout": 5, **overrides})


async def test_a_bad_token_is_401_and_says_to_fix_the_token_setting(sentry):
    text = await error_of(settings_for(sentry, token="sntryu_wrong_secret_123"), "list_projects")
    assert text == (
        "Error executing tool list_projects: Sentry rejected the token (401: Invalid token): set "
        "SENTRY_TOKEN to a valid auth token with the org:read, project:read and event:read scopes"
    )


async def test_a_read_only_token_gets_403_when_resolving(sentry):
    settings = settings_for(sentry, token=sentry_fake.READ_ONLY_TOKEN)
    text = await error_of(settings, "resolve_issue", issue_id="ORDERS-API-3B")
    assert text == (
        "Error executing tool resolve_issue: Sentry answered 403 for issue 'ORDERS-API-3B': the token "
        "lacks permission (reads need org:read, project:read, event:read; resolve_issue needs event:write)"
    )


async def test_a_forbidden_read_is_a_403_tool_error(sentry):
    sentry.fail_next(403)
    text = await error_of(settings_for(sentry), "list_releases")
    assert text.startswith("Error executing tool list_releases: Sentry answered 403 for the releases of ")


async def test_an_unknown_issue_is_404_and_names_the_tool_that_lists_ids(sentry):
    text = await error_of(settings_for(sentry), "get_issue", issue_id="9999999999")
    assert text == (
        "Error executing tool get_issue: Sentry answered 404 for issue '9999999999': find valid ids "
        "(numeric, or short ids like ORDERS-API-3B) with list_issues()"
    )


async def test_an_unknown_release_is_404_and_points_at_list_releases(sentry):
    text = await error_of(settings_for(sentry), "get_release", version="orders-api@9.9.9")
    assert text == (
        "Error executing tool get_release: Sentry answered 404 for release 'orders-api@9.9.9': "
        "list valid versions with list_releases()"
    )


async def test_a_rate_limit_says_how_many_seconds_to_wait(sentry):
    sentry.fail_next(429, headers={"Retry-After": "7"})
    text = await error_of(settings_for(sentry), "list_issues")
    assert text == (
        "Error executing tool list_issues: Sentry is rate-limiting this token (429 Too Many Requests): "
        "wait 7 seconds, then retry"
    )


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_a_server_error_says_sentry_is_failing_and_to_retry_later(sentry, status):
    sentry.fail_next(status)
    text = await error_of(settings_for(sentry), "get_latest_event", issue_id="6230500201")
    assert text == (
        f"Error executing tool get_latest_event: Sentry failed with {status} on event 'latest' of issue "
        "'6230500201': a server-side error, retry later"
    )


async def test_a_slow_sentry_is_a_timeout_naming_the_timeout_setting(sentry):
    sentry.delay_next(10)  # released when the fake stops; the client gives up after 0.3 s
    text = await error_of(settings_for(sentry, timeout=0.3), "list_projects")
    assert text == (
        "Error executing tool list_projects: Sentry did not answer within 0.3 s: "
        "retry later, or raise SENTRY_TIMEOUT"
    )


async def test_malformed_json_is_a_tool_error_not_a_crash(sentry):
    sentry.fail_next(200, body="{not json")
    text = await error_of(settings_for(sentry), "list_issue_events", issue_id="6230500201")
    assert text == (
        "Error executing tool list_issue_events: Sentry answered the events of issue "
        "'6230500201' with malformed JSON: check that SENTRY_URL points at Sentry, then retry later"
    )


async def test_a_refused_connection_says_to_check_the_url_setting():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there
    settings = Settings(url=f"http://127.0.0.1:{port}", token=sentry_fake.TOKEN, org="acme", timeout=2)
    text = await error_of(settings, "get_release", version="orders-api@1.8.0")
    assert text == (
        "Error executing tool get_release: Cannot connect to Sentry: "
        "check SENTRY_URL and that the server is up"
    )


async def test_after_a_failure_the_next_call_succeeds(sentry):
    sentry.fail_next(500)
    settings = settings_for(sentry)
    async with Client(build_server(settings)) as client:
        failed = await client.call_tool("get_issue", {"issue_id": "ETL-EXPORTER-Z"})
        worked = await client.call_tool("get_issue", {"issue_id": "ETL-EXPORTER-Z"})
    assert (failed.is_error, worked.is_error, worked.structured_content["title"]) == (
        True,
        False,
        "MemoryError",
    )
