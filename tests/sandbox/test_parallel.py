"""parallel(): several tool calls in flight at once, results in order, within the limits."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from sandbox import Limits, run
from sandbox.tools import Channel, Parallel, PendingCall, ToolFunction, ToolNamespace

pytestmark = pytest.mark.anyio

TOOLS = {"gitlab": ["get_project"]}


class Gate:
    """A tool that counts how many calls are inside it at once."""

    def __init__(self, expected: int) -> None:
        self.inside = 0
        self.most = 0
        self.expected = expected
        self.all_in = anyio.Event()

    async def __call__(self, project: str) -> dict[str, str]:
        self.inside += 1
        self.most = max(self.most, self.inside)
        if self.inside >= self.expected:
            self.all_in.set()
        with anyio.fail_after(5):
            await self.all_in.wait()
        self.inside -= 1
        return {"name": project}


async def test_parallel_runs_calls_at_once_and_returns_results_in_order(fake_bridge: Any) -> None:
    gate = Gate(expected=3)
    code = (
        "parallel(gitlab.get_project.bind(project='a'), gitlab.get_project.bind(project='b'), "
        "gitlab.get_project.bind(project='c'))"
    )
    result = await run(code, tools=TOOLS, bridge=fake_bridge(gitlab__get_project=gate))
    assert result.value == [{"name": "a"}, {"name": "b"}, {"name": "c"}]
    assert gate.most == 3 and len(result.tool_calls) == 3


async def test_parallel_accepts_one_list_of_pending_calls(fake_bridge: Any) -> None:
    bridge = fake_bridge(gitlab__get_project=lambda project: project.upper())
    code = "parallel([gitlab.get_project.bind(project=p) for p in 'xyz'])"
    assert (await run(code, tools=TOOLS, bridge=bridge)).value == ["X", "Y", "Z"]


async def test_parallel_never_has_more_calls_in_flight_than_the_limit(fake_bridge: Any) -> None:
    gate = Gate(expected=2)
    code = "parallel([gitlab.get_project.bind(project=str(i)) for i in range(6)])"
    limits = Limits(max_concurrent_tool_calls=2)
    result = await run(code, tools=TOOLS, bridge=fake_bridge(gitlab__get_project=gate), limits=limits)
    assert result.ok and gate.most == 2


async def test_a_failed_call_raises_its_tool_error_after_all_finish(fake_bridge: Any) -> None:
    def get_project(project: str) -> str:
        if project == "b":
            raise fake_bridge.failing("project b not found")()
        return project

    code = "parallel(gitlab.get_project.bind(project='a'), gitlab.get_project.bind(project='b'))"
    result = await run(code, tools=TOOLS, bridge=fake_bridge(gitlab__get_project=get_project))
    assert result.error is not None and result.error.type == "ToolError"
    assert "project b not found" in result.error.message and len(result.tool_calls) == 2


async def test_return_errors_puts_each_tool_error_in_its_slot(fake_bridge: Any) -> None:
    bridge = fake_bridge(gitlab__get_project=fake_bridge.failing("gone"))
    code = (
        "r = parallel(gitlab.get_project.bind(project='a'), return_errors=True)\n"
        "[isinstance(r[0], ToolError), str(r[0])]"
    )
    assert (await run(code, tools=TOOLS, bridge=bridge)).value == [True, "gone"]


async def test_parallel_calls_count_against_the_tool_call_limit(fake_bridge: Any) -> None:
    bridge = fake_bridge(gitlab__get_project=lambda project: project)
    code = "parallel([gitlab.get_project.bind(project=str(i)) for i in range(5)], return_errors=True)"
    result = await run(code, tools=TOOLS, bridge=bridge, limits=Limits(max_tool_calls=3))
    assert result.error is not None and result.error.type == "ToolCallLimitExceeded"
    assert len(bridge.calls) == 3


async def test_parallel_refuses_anything_but_pending_calls(fake_bridge: Any) -> None:
    result = await run("parallel(gitlab.get_project)", tools=TOOLS, bridge=fake_bridge())
    assert result.error is not None and result.error.type == "TypeError"
    assert "bind" in result.error.message


async def test_bind_checks_arguments_before_anything_is_sent(fake_bridge: Any) -> None:
    bridge = fake_bridge()
    result = await run("gitlab.get_project.bind('a')", tools=TOOLS, bridge=bridge)
    assert result.error is not None and result.error.type == "TypeError" and bridge.calls == []


def _reachable(root: object, depth: int = 3) -> list[object]:
    """Objects code can reach from `root` through attributes the guard allows."""
    from sandbox.guards import guarded_getattr

    seen, frontier = [root], [root]
    for _ in range(depth):
        following = []
        for obj in frontier:
            for name in dir(obj):
                try:
                    value = guarded_getattr(obj, name)
                except AttributeError:
                    continue
                if not any(value is s for s in seen):
                    seen.append(value)
                    following.append(value)
        frontier = following
    return seen


def test_the_callables_handed_to_code_reach_nothing_of_the_host() -> None:
    channel = Channel.__new__(Channel)  # never used: only its reachability matters
    namespace = ToolNamespace("gitlab", ["get_project"], channel)
    roots: list[object] = [
        namespace,
        namespace.get_project,
        namespace.get_project.bind(project="a"),
        Parallel(channel),
    ]
    for root in roots:
        for obj in _reachable(root):
            assert obj is not channel
            assert not isinstance(obj, Channel)
            assert not (isinstance(obj, str) and "/" in obj), obj  # no file paths
    assert isinstance(roots[2], PendingCall) and isinstance(roots[1], ToolFunction)


@pytest.mark.parametrize(
    "attribute", ["_channel", "_name", "_arguments", "__closure__", "__globals__", "__dict__"]
)
async def test_tool_objects_keep_their_internals_from_code(fake_bridge: Any, attribute: str) -> None:
    for target in ["gitlab", "gitlab.get_project", "gitlab.get_project.bind(project='a')", "parallel"]:
        result = await run(f"getattr({target}, {attribute!r})", tools=TOOLS, bridge=fake_bridge())
        assert result.error is not None and result.error.type == "ForbiddenAttribute", (target, result)
