"""Prometheus metrics of the portal, served at ``/metrics``.

Labels carry namespaces, tool names and outcomes only: never a user, never code.
Each app gets its own registry so several portals (tests, benchmarks) can live
in one process.
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request

import sandbox
from portal.registry import Registry

__all__ = ["CONTENT_TYPE_LATEST", "PortalMetrics", "ScrapeGate"]

# A request relayed by a proxy on this host arrives from loopback: these headers say it did.
_FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip", "x-forwarded-host")

_SECONDS_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


@dataclass
class PortalMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.executions = Counter(
            "portal_executions",
            "Code Mode executions by outcome (ok or the error type).",
            ["outcome"],
            registry=self.registry,
        )
        self.execution_seconds = Histogram(
            "portal_execution_duration_seconds",
            "Wall time of one execution.",
            buckets=_SECONDS_BUCKETS,
            registry=self.registry,
        )
        self.tool_calls = Counter(
            "portal_tool_calls",
            "Tool calls made from code, by namespace, tool and outcome.",
            ["namespace", "tool", "outcome"],
            registry=self.registry,
        )
        self.searches = Counter("portal_searches", "Tool searches served.", registry=self.registry)
        self.upstream_up = Gauge(
            "portal_upstream_up",
            "1 when an upstream server is connected, else 0.",
            ["namespace"],
            registry=self.registry,
        )
        self.upstream_tools = Gauge(
            "portal_upstream_tools",
            "Tools an upstream server lists.",
            ["namespace"],
            registry=self.registry,
        )

    def record_execution(self, result: sandbox.ExecutionResult) -> None:
        self.executions.labels(
            outcome="ok" if result.ok else result.error.type if result.error else "error"
        ).inc()
        self.execution_seconds.observe(result.duration_ms / 1000)
        for call in result.tool_calls:
            namespace, _, tool = call.name.partition(".")
            self.tool_calls.labels(namespace=namespace, tool=tool, outcome="ok" if call.ok else "error").inc()

    def render(self, upstreams: Registry) -> bytes:
        """The exposition text, with upstream gauges refreshed at scrape time."""
        for status in upstreams.statuses():
            self.upstream_up.labels(namespace=status.namespace).set(1 if status.state == "ready" else 0)
            self.upstream_tools.labels(namespace=status.namespace).set(status.tool_count)
        return generate_latest(self.registry)


@dataclass(frozen=True)
class ScrapeGate:
    """Who may read /metrics: the holder of the scrape token, or, with none set, only this host.

    The counters are labelled with namespaces and tool names, so a public listener must not serve
    them to anybody. Without a token only a direct loopback connection is served (never one relayed
    by a proxy, which also arrives from loopback); with a token, every scraper must present it.
    """

    token: str | None = None

    def allows(self, request: Request) -> bool:
        if self.token is not None:
            presented = request.headers.get("authorization", "")
            return hmac.compare_digest(presented.encode(), f"Bearer {self.token}".encode())
        if any(name in request.headers for name in _FORWARDING_HEADERS):
            return False
        return _is_loopback(request.client.host if request.client else None)


def _is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
