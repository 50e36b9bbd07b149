"""One program, three systems: the newest unresolved Sentry issue, the GitLab commits of its
release, and a Jira ticket filed for it, through portal_codemode_execute over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from portal_testing import RunningPortal, demo_servers, mcp_session, running_portal

from demo.gitlab import fake_data as gitlab_data

pytestmark = pytest.mark.anyio

PROGRAM = """
newest = sentry.list_issues(query="is:unresolved", sort="date", limit=1)["issues"][0]
release = sentry.get_release(version=newest["first_release"])
commit = release["last_commit"]
history = gitlab.list_commits(project=commit["repository"], ref=commit["id"], per_page=5)
lines = [f"- {c['short_id']} {c['title']}" for c in history]
ticket = jira.create_issue(
    project="OPS",
    summary=f"Sentry {newest['short_id']}: {newest['title']}"[:250],
    description=f"First seen in {release['version']}.\\nCommits in the release:\\n" + "\\n".join(lines),
    labels=["sentry", "regression"],
)
created = jira.get_issue(key=ticket["key"])
{"key": created["key"], "summary": created["summary"], "description": created["description"],
 "labels": sorted(created["labels"])}
"""


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPortal]:
    with (
        demo_servers("gitlab", "jira", "sentry") as servers,
        running_portal(tmp_path_factory.mktemp("cross"), {"servers": servers}) as running,
    ):
        yield running


async def test_a_program_joins_sentry_gitlab_and_jira_and_files_the_right_ticket(
    portal: RunningPortal,
) -> None:
    async with mcp_session(portal) as client:
        result = await client.call_tool("portal_codemode_execute", {"code": PROGRAM})
        answer = json.loads(result.content[0].text)
        assert answer["error"] is None, answer
        ticket = answer["value"]
        # Read the ticket back through Jira's own search, in a second execution.
        check = await client.call_tool(
            "portal_codemode_execute",
            {
                "code": 'found = jira.search_issues(jql="project = OPS AND labels = sentry")\n'
                '[i["key"] for i in found["issues"]]'
            },
        )
    assert ticket["key"].startswith("OPS-")
    assert ticket["key"] in json.loads(check.content[0].text)["value"]
    assert ticket["summary"].endswith(
        "InvalidOperation: quantize result has too many digits for current context"
    )
    assert ticket["labels"] == ["regression", "sentry"]
    commits = gitlab_data.seed()["commits"][4201]
    release_commit = next(c for c in commits if c["id"] == "9937cbaee14243fb86d2b552d7fd585eb588987c")
    reachable = [c for c in commits if c["committed_date"] <= release_commit["committed_date"]][:5]
    assert "First seen in orders-api@1.8.0." in ticket["description"]
    for commit in reachable:
        assert f"- {commit['short_id']} {commit['title']}" in ticket["description"]
