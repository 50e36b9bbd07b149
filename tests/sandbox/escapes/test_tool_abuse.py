"""Attacks on the tool callables: their internals, their arguments and the call budget.

Tool namespaces and functions are the only worker objects that hold the
channel to the host; reading their attributes must lead nowhere, calls must
carry only JSON keyword arguments, and the host must stay in charge of which
tools exist and how many calls one run may make.
"""

from __future__ import annotations

from typing import Any

import pytest
from escape_corpus import Payload, assert_stopped, blocked, harmless, params

from sandbox import Limits, run

pytestmark = pytest.mark.anyio

TOOLS = {"t": ["echo", "fail"]}
INTERNALS = "attacks on the tool objects: reach the channel, the bridge or host globals"

TOOL_INTERNALS = [
    blocked("tool_function_channel_is_restricted", INTERNALS, "t.echo._channel", "RestrictedCode"),
    blocked(
        "tool_function_channel_through_getattr_is_denied",
        INTERNALS,
        "getattr(t.echo, '_channel')",
        "ForbiddenAttribute",
    ),
    blocked("tool_namespace_channel_is_denied", INTERNALS, "getattr(t, '_channel')", "ForbiddenAttribute"),
    blocked("tool_namespace_tool_list_is_denied", INTERNALS, "getattr(t, '_tools')", "ForbiddenAttribute"),
    blocked("tool_function_closure_is_restricted", INTERNALS, "t.echo.__closure__", "RestrictedCode"),
    blocked(
        "tool_function_call_method_is_denied", INTERNALS, "getattr(t.echo, '__call__')", "ForbiddenAttribute"
    ),
    blocked(
        "tool_function_globals_through_call_are_denied",
        INTERNALS,
        "getattr(getattr(t.echo, '__call__'), '__globals__')",
        "ForbiddenAttribute",
    ),
    blocked("tool_namespace_slots_are_denied", INTERNALS, "getattr(t, '__slots__')", "ForbiddenAttribute"),
    blocked(
        "tool_error_class_globals_are_denied",
        INTERNALS,
        "getattr(ToolError, '__init__')",
        "ForbiddenAttribute",
    ),
    harmless("tool_namespace_repr_names_only_the_tools", INTERNALS, "repr(t)", "<tools t: echo, fail>"),
    harmless("tool_function_repr_names_only_the_tool", INTERNALS, "repr(t.echo)", "<tool t.echo>"),
    harmless(
        "attribute_error_of_an_unknown_tool_carries_only_the_namespace",
        "CVE-2024-47532 style: AttributeError.obj from the namespace",
        "try:\n    t.nope\nexcept AttributeError as e:\n    r = repr(e.obj)\nr",
        "<tools t: echo, fail>",
    ),
    harmless(
        "tool_error_exposes_only_message_and_tool_name",
        "reading the attributes of a caught ToolError",
        "try:\n    t.fail()\nexcept ToolError as e:\n    r = [str(e), e.tool, e.args]\nr",
        ["denied", "t.fail", ["denied"]],
    ),
]

TOOL_CALLS = [
    blocked(
        "calling_an_undefined_tool_is_an_attribute_error",
        "calling tools not granted",
        "t.nope()",
        "AttributeError",
    ),
    blocked(
        "calling_an_ungranted_namespace_is_a_name_error",
        "calling tools not granted",
        "admin.delete()",
        "NameError",
    ),
    blocked("positional_arguments_are_refused", "tool calls with positional args", "t.echo(1)", "TypeError"),
    blocked("set_argument_is_not_json", "non-JSON args", "t.echo(x={1, 2})", "TypeError"),
    blocked("function_argument_is_not_json", "non-JSON args: a callable", "t.echo(x=len)", "TypeError"),
    blocked("nan_argument_is_not_json", "non-JSON args: NaN", "t.echo(x=float('nan'))", "TypeError"),
    blocked(
        "recursive_argument_is_refused",
        "recursive structures",
        "a = []\na.append(a)\nt.echo(x=a)",
        "TypeError",
    ),
    blocked(
        "deeply_nested_argument_is_refused",
        "recursive structures: 10 000 levels",
        "a = []\nfor i in range(10000):\n    a = [a]\nt.echo(x=a)",
        "RecursionLimitExceeded",
    ),
    blocked(
        "non_string_keyword_names_are_refused",
        "keyword names that are not strings",
        "t.echo(**{1: 2})",
        "TypeError",
    ),
    blocked(
        "oversized_arguments_fail_as_a_tool_error",
        "huge args: a 20 MB argument exceeds the 16 MiB frame",
        "t.echo(x='a' * 20_000_000)",
        "ToolError",
    ),
    harmless(
        "an_argument_named_like_the_protocol_stays_an_argument",
        "protocol confusion: arguments named name/type",
        "t.echo(name='admin.delete', type='done')",
        {"name": "admin.delete", "type": "done"},
    ),
    blocked(
        "monkeypatching_a_tool_is_denied",
        "monkeypatching a namespace attribute",
        "t.echo = len",
        "ForbiddenAttribute",
    ),
    blocked(
        "setattr_on_a_namespace_is_denied",
        "monkeypatching through setattr",
        "setattr(t, 'echo', len)",
        "ForbiddenAttribute",
    ),
    blocked(
        "delattr_on_a_namespace_is_denied",
        "monkeypatching through delattr",
        "delattr(t, 'echo')",
        "ForbiddenAttribute",
    ),
    blocked(
        "attribute_on_a_tool_function_is_denied",
        "monkeypatching a tool function",
        "t.echo.name = 'admin.delete'",
        "ForbiddenAttribute",
    ),
    blocked(
        "rebinding_tool_error_does_not_change_how_failures_are_reported",
        "overwriting builtins: ToolError = ValueError",
        "ToolError = ValueError\ntry:\n    t.fail()\nexcept ValueError:\n    pass",
        "ToolError",
    ),
]

BUDGET = [
    blocked(
        "a_loop_of_calls_stops_at_the_budget",
        "exhausting the tool-call budget",
        "for i in range(20):\n    t.echo(x=i)",
        "ToolCallLimitExceeded",
    ),
    blocked(
        "catching_the_budget_error_does_not_hide_it",
        "exhausting the budget while swallowing ToolError",
        "for i in range(20):\n    try:\n        t.echo(x=i)\n    except ToolError:\n        pass\n'done'",
        "ToolCallLimitExceeded",
    ),
    blocked(
        "catching_every_exception_does_not_hide_the_budget",
        "exhausting the budget while swallowing BaseException",
        "for i in range(20):\n    try:\n        t.echo(x=i)\n    except BaseException:\n        pass\n'done'",
        "ToolCallLimitExceeded",
    ),
]


def _bridge(fake_bridge: Any) -> Any:
    return fake_bridge(t__echo=lambda **arguments: arguments, t__fail=fake_bridge.failing("denied"))


@pytest.mark.parametrize("payload", params(TOOL_INTERNALS))
async def test_tool_objects_hide_their_channel(payload: Payload, fake_bridge: Any) -> None:
    assert_stopped(await run(payload.code, tools=TOOLS, bridge=_bridge(fake_bridge)), payload)


@pytest.mark.parametrize("payload", params(TOOL_CALLS))
async def test_tool_calls_carry_only_json_to_granted_tools(payload: Payload, fake_bridge: Any) -> None:
    bridge = _bridge(fake_bridge)
    assert_stopped(await run(payload.code, tools=TOOLS, bridge=bridge), payload)
    assert {name for name, _ in bridge.calls} <= {"t.echo", "t.fail"}


@pytest.mark.parametrize("payload", params(BUDGET))
async def test_the_host_enforces_the_tool_call_budget(payload: Payload, fake_bridge: Any) -> None:
    bridge = _bridge(fake_bridge)
    result = await run(payload.code, tools=TOOLS, bridge=bridge, limits=Limits(max_tool_calls=3))
    assert_stopped(result, payload)
    assert len(bridge.calls) == 3


async def test_a_tool_that_never_answers_ends_in_a_timeout(fake_bridge: Any, blocker: Any) -> None:
    bridge = fake_bridge(t__block=blocker)
    result = await run("t.block()", tools={"t": ["block"]}, bridge=bridge, limits=Limits(wall_seconds=1))
    assert result.error is not None and result.error.type == "Timeout"
