"""OpenTelemetry traces: one span per Code Mode execution, a child span per tool call it makes.

Each upstream call carries the W3C ``traceparent`` of its span in the request's
``_meta``, so an upstream server that traces too continues the same trace.
Spans name tools, namespaces and outcomes, the caller's anonymous id and the
code's digest: never the code, its arguments or results, never an email.

Nothing is traced until `configure` installs a provider, which the app does
only when ``tracing.otlp_endpoint`` is set (the OTLP exporter is imported only
then); tests install their own with `use_provider` (an in-memory exporter).
The provider is this module's, not OpenTelemetry's process-wide global, so a
portal never captures spans of libraries it was not asked to trace.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final

import mcp_types as types
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

import sandbox
from portal import __version__
from portal.config import TracingConfig

__all__ = [
    "EXECUTE_SPAN",
    "TOOL_CALL_SPAN",
    "configure",
    "describe_execution",
    "execute_span",
    "traced_tool_call",
    "use_provider",
]

EXECUTE_SPAN: Final = "portal.execute"
TOOL_CALL_SPAN: Final = "portal.tool_call"
_propagator: Final = TraceContextTextMapPropagator()
_provider: TracerProvider | None = None


def use_provider(provider: TracerProvider | None) -> None:
    """Trace with this provider from now on (None: stop tracing)."""
    global _provider
    _provider = provider


def configure(config: TracingConfig) -> TracerProvider | None:
    """A provider exporting over OTLP/HTTP when an endpoint is configured; else tracing stays off."""
    if config.otlp_endpoint is None:
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBasedTraceIdRatio

    resource = Resource.create({"service.name": config.service_name, "service.version": __version__})
    provider = TracerProvider(resource=resource, sampler=ParentBasedTraceIdRatio(config.sample_ratio))
    headers = {key: value.get_secret_value() for key, value in config.otlp_headers.items()}
    exporter = OTLPSpanExporter(endpoint=config.otlp_endpoint, headers=headers, timeout=10)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    use_provider(provider)
    return provider


def _tracer() -> Tracer:
    return _provider.get_tracer("portal", __version__) if _provider else trace.NoOpTracer()


@contextmanager
def execute_span(user_id: str, code: str) -> Iterator[Span]:
    """The span around one execution; `describe_execution` adds what it did once it is done."""
    raw = code.encode("utf-8", "surrogatepass")
    attributes: dict[str, AttributeValue] = {
        "mcp.method.name": "tools/call",
        "gen_ai.tool.name": "portal_codemode_execute",
        "portal.user_id": user_id,  # the anonymous id (portal/identity.py), as in the audit trail
        "portal.code.sha256": hashlib.sha256(raw).hexdigest(),
        "portal.code.size": len(raw),
    }
    with _tracer().start_as_current_span(
        EXECUTE_SPAN, kind=SpanKind.INTERNAL, attributes=attributes, set_status_on_exception=False
    ) as span:
        yield span


def describe_execution(span: Span, result: sandbox.ExecutionResult) -> None:
    outcome = "ok" if result.ok else (result.error.type if result.error else "error")
    span.set_attribute("portal.outcome", outcome)
    span.set_attribute("portal.tool_calls", len(result.tool_calls))
    span.set_attribute("portal.duration_ms", round(result.duration_ms, 3))
    if not result.ok:
        span.set_status(Status(StatusCode.ERROR, outcome))


async def traced_tool_call(
    name: str,
    namespace: str,
    upstream_tool: str,
    meta: dict[str, Any],
    call: Callable[[dict[str, Any]], Awaitable[types.CallToolResult]],
) -> types.CallToolResult:
    """``call(meta)`` inside a child span, with that span's ``traceparent`` added to ``meta``."""
    attributes: dict[str, AttributeValue] = {
        "mcp.method.name": "tools/call",
        "gen_ai.tool.name": name,
        "portal.namespace": namespace,
        "portal.upstream_tool": upstream_tool,
    }
    with _tracer().start_as_current_span(
        TOOL_CALL_SPAN,
        kind=SpanKind.CLIENT,
        attributes=attributes,
        record_exception=False,  # exception texts may name upstream addresses
        set_status_on_exception=False,
    ) as span:
        _propagator.inject(meta)  # sets meta["traceparent"] (and "tracestate" when there is one)
        try:
            result = await call(meta)
        except Exception as exc:
            span.set_attribute("portal.outcome", "unavailable")
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise
        span.set_attribute("portal.outcome", "error" if result.is_error else "ok")
        if result.is_error:
            span.set_status(Status(StatusCode.ERROR, "the tool answered an error"))
        return result
