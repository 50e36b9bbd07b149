"""OpenTelemetry: one span per execute, a child per inner tool call, traceparent in the upstream's _meta.

Through the real MCP path in memory (the SDK's client against the portal's MCP server), with the
SDK's InMemorySpanExporter collecting what the portal traced.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import mcp_types as types
import pytest
from mcp import Client
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from portal import tracing
from portal.config import ConfigError, PortalConfig, TracingConfig, load_config
from portal.identity import USER_META_KEY
from portal.mcp_server import build_mcp_server
from portal.runtime import open_runtime

pytestmark = pytest.mark.anyio

ECHO = {"namespace": "echo", "transport": {"type": "module", "module": "echo_meta_server"}}
THREE_CALLS = "seen = [echo.whoami() for _ in range(3)]\nseen"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use_provider(provider)
    try:
        yield exporter
    finally:
        tracing.use_provider(None)
        provider.shutdown()


def _config(tmp_path: Path) -> PortalConfig:
    return PortalConfig.model_validate({"state_dir": str(tmp_path), "servers": [ECHO]})


async def _execute(
    tmp_path: Path, code: str, meta: dict[str, str] | None = None
) -> tuple[types.CallToolResult, str]:
    async with open_runtime(_config(tmp_path)) as runtime:
        server = build_mcp_server(True, runtime.registry, runtime.catalog, runtime.codemode)
        async with Client(server) as client:
            result = await client.call_tool("portal_codemode_execute", {"code": code}, meta=meta)  # type: ignore[arg-type]
        return result, runtime.codemode.user_id(None)


def _text(result: types.CallToolResult) -> dict:
    block = result.content[0]
    assert isinstance(block, types.TextContent)
    return json.loads(block.text)


def _by_name(exporter: InMemorySpanExporter) -> tuple[ReadableSpan, list[ReadableSpan]]:
    finished = exporter.get_finished_spans()
    (execute,) = [s for s in finished if s.name == "portal.execute"]
    calls = sorted((s for s in finished if s.name == "portal.tool_call"), key=lambda s: s.start_time or 0)
    assert len(finished) == 1 + len(calls)
    return execute, calls


async def test_one_execute_with_three_inner_calls_is_one_trace_of_four_spans(
    tmp_path: Path, spans: InMemorySpanExporter
) -> None:
    result, user_id = await _execute(tmp_path, THREE_CALLS)
    assert result.is_error is False
    execute, calls = _by_name(spans)
    code = THREE_CALLS.encode()

    assert execute.kind == SpanKind.INTERNAL
    assert execute.parent is None
    assert execute.status.status_code == StatusCode.UNSET
    attributes = dict(execute.attributes or {})
    duration = attributes.pop("portal.duration_ms")
    assert isinstance(duration, float) and duration > 0
    assert attributes == {
        "mcp.method.name": "tools/call",
        "gen_ai.tool.name": "portal_codemode_execute",
        "portal.user_id": user_id,
        "portal.code.sha256": hashlib.sha256(code).hexdigest(),
        "portal.code.size": len(code),
        "portal.outcome": "ok",
        "portal.tool_calls": 3,
    }

    assert len(calls) == 3
    trace_id = execute.context.trace_id
    for call in calls:
        assert call.kind == SpanKind.CLIENT
        assert call.context.trace_id == trace_id
        assert call.parent is not None and call.parent.span_id == execute.context.span_id
        assert call.status.status_code == StatusCode.UNSET
        assert dict(call.attributes or {}) == {
            "mcp.method.name": "tools/call",
            "gen_ai.tool.name": "echo.whoami",
            "portal.namespace": "echo",
            "portal.upstream_tool": "whoami",
            "portal.outcome": "ok",
        }
        assert execute.start_time <= call.start_time <= call.end_time <= execute.end_time  # type: ignore[operator]
    assert len({call.context.span_id for call in calls}) == 3


async def test_each_upstream_call_carries_the_traceparent_of_its_own_span_in_meta(
    tmp_path: Path, spans: InMemorySpanExporter
) -> None:
    result, user_id = await _execute(tmp_path, THREE_CALLS)
    seen = _text(result)["value"]
    _, calls = _by_name(spans)
    assert [meta["traceparent"] for meta in seen] == [
        f"00-{call.context.trace_id:032x}-{call.context.span_id:016x}-{call.context.trace_flags:02x}"
        for call in calls
    ]
    assert all(call.context.trace_flags.sampled for call in calls)
    assert [meta[USER_META_KEY] for meta in seen] == [user_id] * 3  # the id still goes alongside


async def test_a_clients_traceparent_makes_the_execute_span_its_child(
    tmp_path: Path, spans: InMemorySpanExporter
) -> None:
    trace_id, parent_id = 0x4BF92F3577B34DA6A3CE929D0E0E4736, 0x00F067AA0BA902B7
    traceparent = f"00-{trace_id:032x}-{parent_id:016x}-01"
    await _execute(tmp_path, "echo.whoami()", meta={"traceparent": traceparent})
    execute, calls = _by_name(spans)
    assert execute.context.trace_id == trace_id
    assert execute.parent is not None and execute.parent.span_id == parent_id
    assert execute.parent.is_remote is True
    assert [call.context.trace_id for call in calls] == [trace_id]


async def test_an_execution_that_fails_marks_its_span_as_an_error_with_the_error_type(
    tmp_path: Path, spans: InMemorySpanExporter
) -> None:
    result, _ = await _execute(tmp_path, "echo.whoami()\n1 / 0")
    assert result.is_error is True
    execute, calls = _by_name(spans)
    assert execute.status.status_code == StatusCode.ERROR
    assert execute.status.description == "ZeroDivisionError"
    assert (execute.attributes or {})["portal.outcome"] == "ZeroDivisionError"
    assert (execute.attributes or {})["portal.tool_calls"] == 1
    assert [c.status.status_code for c in calls] == [StatusCode.UNSET]


async def test_spans_never_hold_the_code_or_what_the_tools_answered(
    tmp_path: Path, spans: InMemorySpanExporter
) -> None:
    code = 'secret_marker = "hunter2-in-code"\necho.whoami()'
    await _execute(tmp_path, code)
    text = json.dumps([span.to_json() for span in spans.get_finished_spans()])
    assert "hunter2-in-code" not in text
    assert USER_META_KEY not in text  # the upstream's answer (the _meta it saw) stays out


async def test_without_tracing_upstreams_get_no_traceparent_and_nothing_is_recorded(tmp_path: Path) -> None:
    result, _ = await _execute(tmp_path, "echo.whoami()")
    assert "traceparent" not in _text(result)["value"]


def test_tracing_is_off_unless_an_otlp_endpoint_is_configured() -> None:
    assert tracing.configure(TracingConfig()) is None


def test_a_configured_otlp_endpoint_gets_an_exporting_provider() -> None:
    provider = tracing.configure(
        TracingConfig(otlp_endpoint="http://127.0.0.1:9/v1/traces", service_name="portal-test")
    )
    try:
        assert isinstance(provider, TracerProvider)
        assert provider.resource.attributes["service.name"] == "portal-test"
    finally:
        tracing.use_provider(None)
        if provider is not None:
            provider.shutdown()


def test_an_otlp_endpoint_that_is_not_http_is_refused_at_load(tmp_path: Path) -> None:
    path = tmp_path / "portal.yaml"
    path.write_text("tracing:\n  otlp_endpoint: collector:4317\n")
    with pytest.raises(ConfigError, match="tracing.otlp_endpoint must be an http:// or https:// URL"):
        load_config(path)
