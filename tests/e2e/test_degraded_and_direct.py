"""End to end: upstream failures are reported while the rest keeps working; direct mode."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator

import pytest
from portal_testing import RunningPortal, demo_servers, free_port, mcp_session, running_portal

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def gitlab() -> Iterator[dict]:
    """The GitLab server's config entry, against a fake started for this module."""
    with demo_servers("gitlab") as [entry]:
        yield entry


@pytest.fixture(scope="module")
def degraded_portal(tmp_path_factory: pytest.TempPathFactory, gitlab: dict) -> Iterator[RunningPortal]:
    """GitLab works; 'ops' cannot start, 'wiki' does not answer, 'status' has its backend down."""
    closed_port = free_port()
    servers = [
        gitlab,
        {"namespace": "ops", "transport": {"type": "stdio", "command": "/nonexistent/mcp-server"}},
        {"namespace": "wiki", "transport": {"type": "http", "url": f"http://127.0.0.1:{closed_port}/mcp"}},
        {
            "namespace": "status",
            "transport": {
                "type": "module",
                "module": "servers._template",
                "settings": {"url": f"http://127.0.0.1:{closed_port}", "token": "t", "timeout": "2"},
            },
        },
        {
            "namespace": "slow",
            "connect_timeout_seconds": 2,
            "transport": {
                "type": "stdio",
                "command": sys.executable,
                "args": ["-c", "import time; time.sleep(60)"],
            },
        },
    ]
    with running_portal(tmp_path_factory.mktemp("degraded"), {"servers": servers}) as running:
        yield running


def test_health_reports_each_failed_server_with_its_reason(degraded_portal: RunningPortal) -> None:
    health = degraded_portal.health()
    states = {s["namespace"]: (s["state"], s["error"]) for s in health["servers"]}
    assert health["status"] == "degraded"
    assert states["gitlab"] == ("ready", None)
    assert states["status"] == ("ready", None)
    assert states["ops"][0] == "failed" and states["ops"][1]
    assert states["wiki"][0] == "failed" and states["wiki"][1]
    assert states["slow"] == ("failed", "did not answer within 2 s")


async def test_the_working_server_still_answers_while_others_are_down(degraded_portal: RunningPortal) -> None:
    code = "len(gitlab.list_projects())"
    async with mcp_session(degraded_portal) as client:
        result = await client.call_tool("portal_codemode_execute", {"code": code})
        search = await client.call_tool("portal_codemode_search", {"query": "merge request"})
    answer = json.loads(result.content[0].text)
    assert (answer["ok"], answer["value"]) == (True, 4)
    assert "# unavailable now: ops, wiki, slow" in search.content[0].text


async def test_a_server_whose_backend_is_down_gives_a_catchable_error(degraded_portal: RunningPortal) -> None:
    code = """
try:
    status.list_services()
except ToolError as error:
    message = str(error)
message
"""
    async with mcp_session(degraded_portal) as client:
        result = await client.call_tool("portal_codemode_execute", {"code": code})
    answer = json.loads(result.content[0].text)
    assert answer["ok"] is True
    assert answer["value"].startswith("status.list_services: ")  # the tool, named once


async def test_calling_a_failed_server_says_it_is_unavailable(degraded_portal: RunningPortal) -> None:
    async with mcp_session(degraded_portal) as client:
        result = await client.call_tool("portal_codemode_execute", {"code": "ops.anything()"})
    answer = json.loads(result.content[0].text)
    assert result.is_error
    assert answer["error"]["type"] == "NameError"
    assert "ops" in answer["error"]["message"]


@pytest.fixture(scope="module")
def direct_portal(tmp_path_factory: pytest.TempPathFactory, gitlab: dict) -> Iterator[RunningPortal]:
    with running_portal(
        tmp_path_factory.mktemp("direct"), {"servers": [gitlab], "codemode": False}
    ) as running:
        yield running


async def test_direct_mode_lists_every_tool_as_namespace_tool(direct_portal: RunningPortal) -> None:
    async with mcp_session(direct_portal) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
    assert "gitlab_get_job_log" in names
    assert "portal_codemode_execute" not in names
    assert len(names) >= 17


async def test_direct_mode_passes_calls_and_errors_through(direct_portal: RunningPortal) -> None:
    async with mcp_session(direct_portal) as client:
        projects = await client.call_tool("gitlab_list_projects", {})
        missing = await client.call_tool("gitlab_get_project", {"project": "no/such"})
        unknown = await client.call_tool("gitlab_nope", {})
    assert not projects.is_error
    assert len(projects.structured_content["result"]) == 4
    assert missing.is_error and "404" in missing.content[0].text
    assert unknown.is_error and unknown.content[0].text == "Unknown tool 'gitlab_nope'."


@pytest.fixture(scope="module")
def strict_portal(tmp_path_factory: pytest.TempPathFactory, gitlab: dict) -> Iterator[RunningPortal]:
    limits = {"wall_seconds": 3, "cpu_seconds": 2}
    with running_portal(
        tmp_path_factory.mktemp("strict"), {"servers": [gitlab], "sandbox": limits}
    ) as running:
        yield running


async def test_the_portal_keeps_answering_while_a_runaway_execution_is_killed(
    strict_portal: RunningPortal,
) -> None:
    import anyio

    answers: dict[str, dict] = {}

    async def runaway() -> None:
        async with mcp_session(strict_portal) as client:
            result = await client.call_tool("portal_codemode_execute", {"code": "while True:\n    pass"})
        answers["runaway"] = json.loads(result.content[0].text)

    async def bystander() -> None:
        async with mcp_session(strict_portal) as client:
            await client.call_tool("portal_codemode_search", {"query": "job log"})
            result = await client.call_tool(
                "portal_codemode_execute", {"code": "len(gitlab.list_branches(project='infra/api'))"}
            )
        answers["bystander"] = json.loads(result.content[0].text)
        answers["bystander_done_first"] = {"value": "runaway" not in answers}

    with anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            group.start_soon(runaway)
            group.start_soon(bystander)
    assert answers["runaway"]["error"]["type"] in {"CPUTimeExceeded", "Timeout"}
    assert answers["bystander"]["ok"] is True and answers["bystander"]["value"] >= 1
    assert answers["bystander_done_first"]["value"] is True
    assert strict_portal.health()["status"] == "ok"
