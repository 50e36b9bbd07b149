"""Tool calls from code: the round trip through the bridge, and its failures."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox import Limits, run

pytestmark = pytest.mark.anyio

TOOLS = {"gitlab": ["list_projects", "get_job_log"]}


async def test_tool_call_round_trips_through_the_bridge(fake_bridge: Any) -> None:
    bridge = fake_bridge(gitlab__list_projects=lambda search: [{"name": search, "id": 7}])
    result = await run("gitlab.list_projects(search='api')[0]['id']", tools=TOOLS, bridge=bridge)
    assert result.value == 7
    assert bridge.calls == [("gitlab.list_projects", {"search": "api"})]
    assert [(c.name, c.ok) for c in result.tool_calls] == [("gitlab.list_projects", True)]


async def test_tool_error_is_catchable_as_tool_error(fake_bridge: Any) -> None:
    bridge = fake_bridge(gitlab__get_job_log=fake_bridge.failing("job 5 not found"))
    code = "try:\n    gitlab.get_job_log(job=5)\nexcept ToolError as e:\n    msg = str(e)\nmsg"
    result = await run(code, tools=TOOLS, bridge=bridge)
    assert result.ok and result.value == "job 5 not found"
    assert [c.ok for c in result.tool_calls] == [False]


async def test_tool_error_is_catchable_as_exception(fake_bridge: Any) -> None:
    bridge = fake_bridge(gitlab__get_job_log=fake_bridge.failing("boom"))
    code = "try:\n    gitlab.get_job_log(job=5)\n    r = 'no'\nexcept Exception:\n    r = 'caught'\nr"
    assert (await run(code, tools=TOOLS, bridge=bridge)).value == "caught"


async def test_uncaught_tool_failure_is_a_tool_error(fake_bridge: Any) -> None:
    bridge = fake_bridge(gitlab__get_job_log=fake_bridge.failing("job 5 not found"))
    result = await run("x = 1\ngitlab.get_job_log(job=5)", tools=TOOLS, bridge=bridge)
    assert result.error is not None and result.error.type == "ToolError"
    assert "job 5 not found" in result.error.message and result.error.message.startswith("Line 2:")


async def test_positional_arguments_are_rejected_with_a_hint_to_use_keywords(fake_bridge: Any) -> None:
    bridge = fake_bridge(gitlab__list_projects=lambda **kw: [])
    result = await run("gitlab.list_projects('api')", tools=TOOLS, bridge=bridge)
    assert result.error is not None and result.error.type == "TypeError"
    assert "keyword arguments only" in result.error.message
    assert bridge.calls == []


async def test_unknown_tool_names_the_closest_tools(fake_bridge: Any) -> None:
    result = await run("gitlab.list_project()", tools=TOOLS, bridge=fake_bridge())
    assert result.error is not None and result.error.type == "AttributeError"
    assert "list_projects" in result.error.message


async def test_non_json_arguments_are_rejected_before_the_call(fake_bridge: Any) -> None:
    bridge = fake_bridge()
    result = await run("gitlab.list_projects(ids={1, 2})", tools=TOOLS, bridge=bridge)
    assert result.error is not None and result.error.type == "TypeError"
    assert "ids" in result.error.message and bridge.calls == []


async def test_tool_call_limit_stops_the_code_even_if_it_catches_the_error(fake_bridge: Any) -> None:
    bridge = fake_bridge(gitlab__list_projects=lambda **kw: [])
    code = "for i in range(9):\n  try:\n    gitlab.list_projects()\n  except Exception:\n    pass"
    result = await run(code, tools=TOOLS, bridge=bridge, limits=Limits(max_tool_calls=3))
    assert result.error is not None and result.error.type == "ToolCallLimitExceeded"
    assert len(bridge.calls) == 3 and len(result.tool_calls) == 3


async def test_a_broken_bridge_becomes_a_tool_error_without_internals(fake_bridge: Any) -> None:
    def broken(**kw: object) -> None:
        raise RuntimeError("secret-token-123 leaked in a stack trace")

    bridge = fake_bridge(gitlab__list_projects=broken)
    result = await run("gitlab.list_projects()", tools=TOOLS, bridge=bridge)
    assert result.error is not None and result.error.type == "ToolError"
    assert "secret-token-123" not in result.error.message


async def test_tool_namespace_internals_are_not_reachable(fake_bridge: Any) -> None:
    code = "getattr(gitlab, '_channel')"
    result = await run(code, tools=TOOLS, bridge=fake_bridge())
    assert result.error is not None and result.error.type == "ForbiddenAttribute"
