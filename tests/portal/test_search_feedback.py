"""Learning from use: a tool that worked after a search ranks higher for similar words later."""

from __future__ import annotations

from pathlib import Path

import anyio
import mcp_types as types
import pytest
from portal_testing import demo_servers

import sandbox
from portal.catalog import Catalog, SearchHit
from portal.config import PortalConfig
from portal.registry import UpstreamTool
from portal.runtime import open_runtime
from portal.search_feedback import MAX_LIFT, MAX_TERMS, SearchFeedback


def tool(name: str, description: str) -> UpstreamTool:
    return UpstreamTool("ci", types.Tool(name=name, description=description, input_schema={"type": "object"}))


CATALOG = Catalog(
    lambda: (
        1,
        [
            tool("list_pipelines", "CI pipelines of a project: the runs of a build, failed or passed."),
            tool("list_pipeline_jobs", "The jobs of one build run of a pipeline, failed or passed."),
            tool("get_weather", "Today's weather forecast."),
        ],
    )
)


def search(query: str, limit: int) -> list[SearchHit]:
    return CATALOG.search(query, limit)


def run(ok: bool, *called: str) -> sandbox.ExecutionResult:
    calls = tuple(sandbox.ToolCallRecord(name, 1.0, True) for name in called)
    error = None if ok else sandbox.ErrorInfo("ZeroDivisionError", "division by zero")
    return sandbox.ExecutionResult(ok, None, "", error, calls, 1.0)


def names(hits: list[SearchHit]) -> list[str]:
    return [hit.entry.name for hit in hits]


QUERY = "failed build runs"


def test_a_recorded_use_lifts_the_tool_for_a_later_search_with_similar_words() -> None:
    feedback = SearchFeedback()
    before = names(feedback.ranked("u1", QUERY, 2, search))
    assert before == ["ci.list_pipelines", "ci.list_pipeline_jobs"]
    feedback.learn("u1", run(True, "ci.list_pipeline_jobs"))
    assert names(feedback.ranked("u2", "which build runs failed", 2, search))[0] == "ci.list_pipeline_jobs"


def test_a_failed_execute_or_one_without_a_search_before_teaches_nothing() -> None:
    feedback = SearchFeedback()
    feedback.ranked("u1", QUERY, 2, search)
    feedback.learn("u1", run(False, "ci.list_pipeline_jobs"))
    feedback.learn("u2", run(True, "ci.list_pipeline_jobs"))  # u2 searched for nothing
    assert names(feedback.ranked("u3", QUERY, 2, search))[0] == "ci.list_pipelines"


def test_a_search_older_than_the_pending_window_is_not_credited() -> None:
    now = [0.0]
    feedback = SearchFeedback(clock=lambda: now[0])
    feedback.ranked("u1", QUERY, 2, search)
    now[0] = 10_000.0
    feedback.learn("u1", run(True, "ci.list_pipeline_jobs"))
    assert names(feedback.ranked("u2", QUERY, 2, search))[0] == "ci.list_pipelines"


def test_the_lift_is_bounded_and_never_adds_a_tool_the_search_did_not_find() -> None:
    feedback = SearchFeedback()
    for _ in range(50):
        feedback.ranked("u1", QUERY, 2, search)
        feedback.learn("u1", run(True, "ci.get_weather", "ci.list_pipeline_jobs"))
    plain = {hit.entry.name: hit.score for hit in search(QUERY, 5)}
    lifted = {hit.entry.name: hit.score for hit in feedback.ranked("u2", QUERY, 5, search)}
    assert "ci.get_weather" not in lifted
    assert lifted["ci.list_pipeline_jobs"] <= plain["ci.list_pipeline_jobs"] * (1 + MAX_LIFT) + 1e-9


def test_what_is_learned_stays_within_its_bound_of_words() -> None:
    feedback = SearchFeedback()
    for number in range(MAX_TERMS + 50):
        feedback.ranked("u1", f"word{number}x", 1, search)
        feedback.learn("u1", run(True, "ci.list_pipelines"))
    assert len(feedback._credits) == MAX_TERMS


@pytest.mark.anyio
async def test_a_successful_execute_lifts_the_tool_it_called_in_the_next_search(tmp_path: Path) -> None:
    no_arguments = ("gitlab.list_projects", "jira.list_projects", "sentry.list_projects")
    with demo_servers("gitlab", "jira", "sentry") as servers, anyio.fail_after(60):
        config = PortalConfig.model_validate({"state_dir": str(tmp_path), "servers": servers})
        async with open_runtime(config) as runtime:
            principal = await runtime.principal_for("ann@example.com")
            first = runtime.codemode.search("which projects are there", 5, principal)
            chosen = [hit for hit in first if hit.entry.name in no_arguments][-1]
            assert chosen.score * (1 + MAX_LIFT) > first[0].score, "the test needs a close second"
            assert first[0].entry.name != chosen.entry.name
            outcome = await runtime.codemode.execute(f"{chosen.entry.name}()", principal)
            assert not outcome.is_error
            again = runtime.codemode.search("projects there are", 5, principal)
    assert again[0].entry.name == chosen.entry.name
