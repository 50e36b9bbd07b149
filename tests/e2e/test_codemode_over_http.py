"""End to end: the official MCP client over Streamable HTTP against a real `portal serve`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from portal_testing import RunningPortal, demo_servers, mcp_session, running_portal

from demo.gitlab import fake_data

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPortal]:
    with (
        demo_servers("gitlab") as servers,
        running_portal(tmp_path_factory.mktemp("portal"), {"servers": servers}) as running,
    ):
        yield running


async def execute(portal: RunningPortal, code: str) -> tuple[dict, bool]:
    async with mcp_session(portal) as client:
        result = await client.call_tool("portal_codemode_execute", {"code": code})
    return json.loads(result.content[0].text), bool(result.is_error)


async def test_the_tool_list_is_exactly_the_two_code_mode_tools(portal: RunningPortal) -> None:
    async with mcp_session(portal) as client:
        tools = (await client.list_tools()).tools
    assert sorted(tool.name for tool in tools) == ["portal_codemode_execute", "portal_codemode_search"]
    for tool in tools:
        assert tool.description is not None
        assert "e.g." in tool.description or "Example" in tool.description


async def test_search_ranks_the_job_log_tool_in_the_top_three_for_a_failing_ci_job(
    portal: RunningPortal,
) -> None:
    async with mcp_session(portal) as client:
        result = await client.call_tool(
            "portal_codemode_search", {"query": "why did the CI job fail", "limit": 3}
        )
    lines = result.content[0].text.splitlines()
    assert any(line.startswith("gitlab.get_job_log(project: str, job_id: int") for line in lines[:3])
    assert not result.is_error


async def test_execute_joins_merge_requests_with_their_pipelines_in_one_program(
    portal: RunningPortal,
) -> None:
    code = """
summary = []
for mr in gitlab.list_merge_requests(project="infra/api", state="all"):
    detail = gitlab.get_merge_request(project="infra/api", iid=mr["iid"])
    status = None
    if detail["pipeline_id"]:
        status = gitlab.get_pipeline(project="infra/api", pipeline_id=detail["pipeline_id"])["status"]
    summary.append([mr["iid"], mr["state"], status])
print(len(summary), "merge requests")
sorted(summary)
"""
    answer, is_error = await execute(portal, code)
    seed = fake_data.seed()
    project_id = next(p["id"] for p in seed["projects"].values() if p["path_with_namespace"] == "infra/api")
    expected = sorted(
        [mr["iid"], mr["state"], mr["head_pipeline"]["status"] if mr["head_pipeline"] else None]
        for mr in seed["merge_requests"]
        if mr["project_id"] == project_id
    )
    assert (is_error, answer["error"]) == (False, None)
    assert answer["value"] == expected
    assert answer["stdout"] == f"{len(expected)} merge requests\n"


async def test_a_failing_tool_raises_an_error_the_code_can_catch(portal: RunningPortal) -> None:
    code = """
try:
    gitlab.get_project(project="no/such-project")
    outcome = "no error"
except ToolError as error:
    outcome = str(error)
outcome
"""
    answer, is_error = await execute(portal, code)
    assert not is_error
    assert "404" in answer["value"]
    assert answer["value"].startswith("gitlab.get_project: ")  # the tool, named once


async def test_an_uncaught_tool_error_is_reported_with_its_own_type(portal: RunningPortal) -> None:
    answer, is_error = await execute(portal, 'gitlab.get_project(project="no/such-project")')
    assert is_error
    assert answer["error"]["type"] == "ToolError"


async def test_a_syntax_error_is_a_clear_error_with_its_line(portal: RunningPortal) -> None:
    answer, is_error = await execute(portal, "x = 1\nfor in range(3):\n    pass\n")
    assert is_error
    assert answer["error"]["type"] == "SyntaxError"
    assert "line 2" in answer["error"]["message"].lower()


async def test_a_forbidden_name_is_a_clear_error(portal: RunningPortal) -> None:
    answer, is_error = await execute(portal, "().__class__.__bases__[0].__subclasses__()")
    assert is_error
    assert answer["error"]["type"] == "RestrictedCode"
    assert "__class__" in answer["error"]["message"]


async def test_a_forbidden_import_is_a_clear_error(portal: RunningPortal) -> None:
    answer, is_error = await execute(portal, "import os\nos.environ")
    assert is_error
    assert answer["error"]["type"] == "ForbiddenImport"


async def test_a_large_value_is_kept_behind_a_handle_the_next_execute_reads(portal: RunningPortal) -> None:
    answer, is_error = await execute(portal, '["x" * 1000 for _ in range(100)]')
    assert not is_error and answer["ok"] is True
    assert answer["value"] is None  # never a marker string under ok: true
    kept = answer["truncated"]["value"]
    assert kept["bytes"] > 100_000
    assert len(json.dumps(answer).encode()) <= 24_000
    again, is_error = await execute(portal, f"v = results.get(handle={kept['handle']!r})\n[len(v), v[3][:3]]")
    assert not is_error, again
    assert again["value"] == [100, "xxx"]


async def test_bad_arguments_are_a_tool_error_not_a_crash(portal: RunningPortal) -> None:
    async with mcp_session(portal) as client:
        result = await client.call_tool("portal_codemode_search", {"query": "", "limit": 1000})
    assert result.is_error
    assert "Invalid arguments for portal_codemode_search" in result.content[0].text


def test_no_token_gets_401_with_a_bearer_challenge(portal: RunningPortal) -> None:
    response = httpx.post(portal.mcp_url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, timeout=10)
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge == (
        f'Bearer resource_metadata="{portal.base_url}/.well-known/oauth-protected-resource/mcp", scope="mcp"'
    )


@pytest.mark.parametrize("token", ["not-a-jwt", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."])
def test_a_bad_token_gets_401(portal: RunningPortal, token: str) -> None:
    response = httpx.post(
        portal.mcp_url,
        json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"},
        timeout=10,
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_token_signed_by_another_portal_gets_401(portal: RunningPortal, tmp_path: Path) -> None:
    from portal.config import load_config
    from portal.oauth import mint_dev_token

    other = load_config(portal.config_path).model_copy(update={"state_dir": tmp_path / "other"})
    foreign = mint_dev_token(other, "dev@example.com", [], 60)
    response = httpx.post(
        portal.mcp_url,
        json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
        headers={"Authorization": f"Bearer {foreign}"},
        timeout=10,
    )
    assert response.status_code == 401


async def test_metrics_count_executions_tool_calls_and_upstream_state(portal: RunningPortal) -> None:
    def sample(text: str, name: str) -> float:
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))

    before = httpx.get(f"{portal.base_url}/metrics", timeout=10).text
    await execute(portal, 'gitlab.list_branches(project="infra/api")\n1 / 0')
    after = httpx.get(f"{portal.base_url}/metrics", timeout=10).text
    errors = 'portal_executions_total{outcome="ZeroDivisionError"}'
    calls = 'portal_tool_calls_total{namespace="gitlab",outcome="ok",tool="list_branches"}'
    assert sample(after, errors) == sample(before, errors) + 1
    assert sample(after, calls) == sample(before, calls) + 1
    assert 'portal_upstream_up{namespace="gitlab"} 1.0' in after
    assert "dev@example.com" not in after
