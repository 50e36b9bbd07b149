"""The GitLab MCP server through the SDK's in-memory client, against the fake GitLab."""

import socket

import pytest
from mcp import Client

from demo.gitlab.fake import TOKEN
from servers.gitlab import Settings, build_server

pytestmark = pytest.mark.anyio

REQUIRED = {
    "list_projects",
    "get_project",
    "list_merge_requests",
    "get_merge_request",
    "get_merge_request_changes",
    "list_merge_request_notes",
    "create_merge_request_note",
    "list_pipelines",
    "get_pipeline",
    "list_pipeline_jobs",
    "get_job_log",
    "get_file_content",
    "list_commits",
    "list_branches",
    "search_code",
    "list_issues",
    "create_issue",
}
WRITES = {"create_merge_request_note", "create_issue"}


async def call(settings: Settings, tool: str, **args):
    async with Client(build_server(settings)) as client:
        return await client.call_tool(tool, args)


async def test_the_tool_list_has_every_required_tool_with_a_description_and_annotations(gitlab_settings):
    async with Client(build_server(gitlab_settings)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == REQUIRED | {"get_commit", "get_issue"}
    for name, tool in tools.items():
        assert len(tool.description or "") > 40, name
        assert tool.annotations.read_only_hint is (name not in WRITES), name
        assert tool.output_schema is not None, name
    assert tools["create_issue"].annotations.destructive_hint is False
    assert tools["list_merge_requests"].input_schema["properties"]["state"]["enum"] == [
        "opened",
        "closed",
        "merged",
        "all",
    ]


async def test_list_merge_requests_returns_the_open_ones_newest_first(gitlab_settings):
    result = await call(gitlab_settings, "list_merge_requests", project="infra/api")
    mrs = result.structured_content["result"]
    assert [(m["iid"], m["title"], m["draft"]) for m in mrs] == [
        (3, "Draft: Add idempotency keys to POST /orders", True),
        (1, "Round order totals to cents", False),
    ]


async def test_paging_walks_the_projects_two_at_a_time(gitlab_settings):
    first = await call(gitlab_settings, "list_projects", page=1, per_page=2)
    second = await call(gitlab_settings, "list_projects", page=2, per_page=2)
    third = await call(gitlab_settings, "list_projects", page=3, per_page=2)
    assert [p["path"] for p in first.structured_content["result"]] == ["data/etl", "platform/auth"]
    assert [p["path"] for p in second.structured_content["result"]] == ["infra/web", "infra/api"]
    assert third.structured_content["result"] == []


async def test_a_failed_pipeline_leads_to_the_failing_job_and_its_pytest_log(gitlab_settings):
    mr = (await call(gitlab_settings, "get_merge_request", project="infra/api", iid=1)).structured_content
    assert (mr["pipeline_id"], mr["pipeline_status"]) == (77001, "failed")
    jobs = await call(
        gitlab_settings, "list_pipeline_jobs", project="infra/api", pipeline_id=77001, scope="failed"
    )
    assert [(j["id"], j["name"], j["failure_reason"]) for j in jobs.structured_content["result"]] == [
        (770012, "pytest", "script_failure")
    ]
    log = await call(gitlab_settings, "get_job_log", project="infra/api", job_id=770012, tail_lines=2)
    assert log.structured_content["result"] == (
        "Cleaning up project directory and file based variables\nERROR: Job failed: exit code 1"
    )


async def test_the_oom_killed_export_shows_exit_code_137_in_its_log(gitlab_settings):
    pipelines = await call(gitlab_settings, "list_pipelines", project="data/etl", status="failed")
    assert [p["id"] for p in pipelines.structured_content["result"]] == [77030]
    pipeline = await call(gitlab_settings, "get_pipeline", project="data/etl", pipeline_id=77030)
    assert pipeline.structured_content["duration"] == 1834
    log = await call(gitlab_settings, "get_job_log", project="data/etl", job_id=770301, tail_lines=1)
    assert log.structured_content["result"] == (
        "ERROR: Job failed: command terminated with exit code 137 "
        "(OOMKilled: container memory limit 4Gi exceeded)"
    )


async def test_merge_request_changes_carry_the_unified_diff(gitlab_settings):
    result = await call(gitlab_settings, "get_merge_request_changes", project="infra/web", iid=1)
    assert result.structured_content["result"] == [
        {
            "old_path": "package.json",
            "new_path": "package.json",
            "new_file": False,
            "deleted_file": False,
            "renamed_file": False,
            "diff": '@@ -1,3 +1,3 @@\n-    "react": "^18.3.1",\n+    "react": "^19.0.0",\n',
        }
    ]


async def test_a_note_posted_on_a_merge_request_shows_up_in_its_notes(gitlab_settings):
    created = await call(
        gitlab_settings,
        "create_merge_request_note",
        project="infra/api",
        iid=1,
        body="Fixed with ROUND_HALF_UP.",
    )
    assert created.structured_content["author"] == "portal-bot"
    notes = await call(gitlab_settings, "list_merge_request_notes", project="infra/api", iid=1)
    assert [(n["author"], n["body"]) for n in notes.structured_content["result"]] == [
        ("bob", "Shouldn't this use ROUND_HALF_UP? The test expects 53.98."),
        ("alice", "Good catch, fixing."),
        ("portal-bot", "Fixed with ROUND_HALF_UP."),
    ]


async def test_a_created_issue_is_listed_and_readable_afterwards(gitlab_settings):
    created = await call(
        gitlab_settings,
        "create_issue",
        project="platform/auth",
        title="Audit refresh tokens",
        description="Check reuse detection.",
        labels=["security", "audit"],
    )
    assert (created.structured_content["iid"], created.structured_content["state"]) == (2, "opened")
    issues = await call(gitlab_settings, "list_issues", project="platform/auth", labels=["security"])
    assert [(i["iid"], i["title"]) for i in issues.structured_content["result"]] == [
        (2, "Audit refresh tokens"),
        (1, "Rotate signing keys every 90 days"),
    ]
    issue = await call(gitlab_settings, "get_issue", project="4310", iid=2)
    assert issue.structured_content["description"] == "Check reuse detection."


async def test_file_content_defaults_to_the_default_branch(gitlab_settings):
    result = await call(
        gitlab_settings, "get_file_content", project="platform/auth", file_path="auth/tokens.py"
    )
    assert result.structured_content["ref"] == "main"
    assert result.structured_content["content"].startswith("ACCESS_TOKEN_TTL_SECONDS = 900\n")


async def test_code_search_finds_the_matching_line_with_its_line_number(gitlab_settings):
    result = await call(gitlab_settings, "search_code", query="RETRY_BUDGET", project="infra/api")
    assert result.structured_content["result"] == [
        {
            "project_id": 4201,
            "path": "src/api/settings.py",
            "ref": "main",
            "startline": 1,
            "data": "RETRY_BUDGET = 3\nREQUEST_TIMEOUT_SECONDS = 5\n",
        }
    ]


async def test_commits_and_branches_of_a_project_are_listed(gitlab_settings):
    commits = await call(gitlab_settings, "list_commits", project="infra/api", per_page=2)
    branches = await call(gitlab_settings, "list_branches", project="infra/api")
    assert [c["title"] for c in commits.structured_content["result"]] == [
        "Add rounding to totals",
        "Fix flaky retry test",
    ]
    assert [(b["name"], b["default"]) for b in branches.structured_content["result"]] == [
        ("main", True),
        ("feature/rounding", False),
        ("idempotency-keys", False),
        ("timeout-5s", False),
    ]


async def test_get_commit_returns_the_full_message_parents_and_line_counts(gitlab_settings):
    listed = await call(gitlab_settings, "list_commits", project="infra/api", per_page=1)
    head = listed.structured_content["result"][0]
    commit = await call(gitlab_settings, "get_commit", project="infra/api", sha=head["short_id"])
    detail = commit.structured_content
    assert (detail["id"], detail["title"], detail["message"]) == (
        head["id"],
        head["title"],
        f"{head['title']}\n",
    )
    assert len(detail["parent_ids"]) == 1
    assert (detail["additions"], detail["deletions"]) == (38, 12)


async def test_an_unknown_project_is_a_tool_error_that_says_how_to_find_it(gitlab_settings):
    result = await call(gitlab_settings, "list_pipelines", project="infra/ap")
    assert result.is_error is True
    assert result.content[0].text == (
        "Error executing tool list_pipelines: GitLab has no project 'infra/ap' (404): "
        "list candidates with list_projects(search='ap')"
    )
    candidates = await call(gitlab_settings, "list_projects", search="ap")
    assert "infra/api" in [p["path"] for p in candidates.structured_content["result"]]


async def test_an_unknown_merge_request_is_a_tool_error_pointing_at_the_list(gitlab_settings):
    result = await call(gitlab_settings, "get_merge_request", project="infra/api", iid=99)
    assert result.content[0].text == (
        "Error executing tool get_merge_request: GitLab found no merge request !99 in 'infra/api' (404): "
        "list its merge requests with list_merge_requests(project='infra/api', state='all')"
    )


async def test_a_bad_token_is_a_tool_error_that_does_not_echo_the_token(gitlab):
    settings = Settings(url=gitlab.url, token="glpat-wrong-secret-123", timeout=5)
    result = await call(settings, "list_projects")
    assert result.is_error is True
    assert result.content[0].text == (
        "Error executing tool list_projects: GitLab rejected the token (401 Unauthorized): "
        "set GITLAB_TOKEN to a valid token with read_api scope"
    )
    assert "glpat-wrong-secret-123" not in result.model_dump_json()


async def test_a_backend_that_is_down_is_a_prompt_tool_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = Settings(url=f"http://127.0.0.1:{port}", token=TOKEN, timeout=1)
    result = await call(settings, "get_project", project="infra/api")
    assert result.is_error is True
    assert result.content[0].text == (
        "Error executing tool get_project: Cannot connect to GitLab: "
        "check GITLAB_URL and that the server is up"
    )
    assert str(port) not in result.content[0].text
