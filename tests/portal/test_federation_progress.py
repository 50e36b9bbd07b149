"""Code Mode reports its inner calls as progress, relays their logs, and ends when cancelled (audited)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client

from portal.audit import AuditQuery
from portal.config import PortalConfig
from portal.mcp_server import build_mcp_server
from portal.runtime import PortalRuntime, open_runtime

pytestmark = pytest.mark.anyio
FIXTURE = {"namespace": "fixture", "transport": {"type": "module", "module": "conformance_fixture"}}


@asynccontextmanager
async def codemode_client(tmp_path: Path, logs: list[Any]) -> AsyncIterator[tuple[Client, PortalRuntime]]:
    config = PortalConfig.model_validate({"codemode": True, "state_dir": str(tmp_path), "servers": [FIXTURE]})

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logs.append(params)

    async with open_runtime(config) as runtime:
        server = build_mcp_server(True, runtime.registry, runtime.catalog, runtime.codemode)
        async with Client(server, mode="legacy", logging_callback=on_log) as client:
            yield client, runtime


async def execute(client: Client, code: str, **options: Any) -> dict[str, Any]:
    result = await client.call_tool("portal_codemode_execute", {"code": code}, **options)
    return json.loads(result.content[0].text)  # type: ignore[union-attr]


async def test_each_inner_call_is_reported_as_it_starts_and_ends_with_upstream_progress_nested(
    tmp_path: Path,
) -> None:
    reported: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        reported.append((progress, total, message))

    code = "fixture.test_simple_text()\nfixture.test_tool_with_progress()\n'done'"
    async with codemode_client(tmp_path, []) as (client, _):
        answer = await execute(client, code, progress_callback=on_progress)
    assert answer["ok"] is True
    values = [value for value, _, _ in reported]
    assert values == sorted(set(values)), "progress must rise at every notification"
    assert {total for _, total, _ in reported} == {200}  # the execution's max_tool_calls
    messages = [message or "" for _, _, message in reported]
    assert messages[0] == "call 1 of at most 200: fixture.test_simple_text started"
    assert messages[1] == "1 of 1 calls ended: fixture.test_simple_text done"
    assert messages[2] == "call 2 of at most 200: fixture.test_tool_with_progress started"
    assert "call 2 reports fixture: 50/100" in messages
    assert messages[-1] == "2 of 2 calls ended: fixture.test_tool_with_progress done"
    assert values[-1] == 2.0


async def test_upstream_log_lines_during_an_execute_reach_its_caller_tagged_with_the_namespace(
    tmp_path: Path,
) -> None:
    logs: list[types.LoggingMessageNotificationParams] = []
    async with codemode_client(tmp_path, logs) as (client, _):
        await client.set_logging_level("info")
        answer = await execute(client, "fixture.test_tool_with_logging()")
        await client.set_logging_level("error")
        await execute(client, "fixture.test_tool_with_logging()")
    assert answer["ok"] is True
    assert [(log.level, log.logger, log.data) for log in logs] == [
        ("info", "fixture.conformance_fixture", "Tool execution started"),
        ("info", "fixture.conformance_fixture", "Tool processing data"),
        ("info", "fixture.conformance_fixture", "Tool execution completed"),
    ]


async def test_a_cancelled_execute_ends_cancels_its_upstream_call_and_is_audited_as_cancelled(
    tmp_path: Path,
) -> None:
    started = anyio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        if message and message.endswith("fixture.test_slow started"):
            started.set()

    async with codemode_client(tmp_path, []) as (client, runtime):
        with anyio.fail_after(20):
            async with anyio.create_task_group() as group:
                group.start_soon(
                    lambda: execute(client, "fixture.test_slow()", progress_callback=on_progress)
                )
                await started.wait()
                group.cancel_scope.cancel()  # the client sends notifications/cancelled for the execute
            counted, cancelled = 0, []
            while counted == 0 or not cancelled:  # both happen asynchronously; bounded by fail_after
                counted = (await execute(client, "fixture.test_cancelled_count()"))["value"]["count"]
                records = runtime.audit.query(AuditQuery())
                cancelled = [r for r in records if r["outcome"] == "cancelled"]
    assert counted == 1
    assert len(cancelled) == 1, [(r["outcome"], r["tool_calls"]) for r in records]
    assert [c["name"] for c in cancelled[0]["tool_calls"]] == ["fixture.test_slow"]


async def test_an_upstream_log_line_is_dropped_when_calls_of_two_callers_are_in_flight(
    tmp_path: Path,
) -> None:
    """Whose it is cannot be known then; one user's log line must never reach another (portal/relay.py)."""
    from portal.config import ServerConfig
    from portal.registry import Registry

    heard: dict[str, list[str]] = {"ann": [], "bob": []}

    class Sink:
        def __init__(self, who: str) -> None:
            self.who = who

        async def log(self, namespace: str, params: types.LoggingMessageNotificationParams) -> None:
            heard[self.who].append(str(params.data))

    registry = Registry([ServerConfig.model_validate(FIXTURE)])
    upstream = registry._upstreams["fixture"]  # the per-call bookkeeping under test
    line = types.LoggingMessageNotification(
        params=types.LoggingMessageNotificationParams(level="info", data="x")
    )
    upstream.sinks = {1: Sink("ann")}  # type: ignore[dict-item]
    await upstream._on_message(line)
    upstream.sinks = {1: Sink("ann"), 2: Sink("bob")}  # type: ignore[dict-item]
    await upstream._on_message(line)
    assert heard == {"ann": ["x"], "bob": []}
