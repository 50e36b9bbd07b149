"""The Prometheus MCP server: tool definitions over `PrometheusClient`. No I/O at construction.

Queries are PromQL. Times accept RFC3339 (`2026-02-13T10:00:00Z`), unix
seconds, `now`, or relative times (`-1h`, `now-30m`). List tools page with
`offset` and `limit` and return `total` and `next_offset` (null on the last page).
"""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from servers._toolkit import READ, page_size, tool_registrar

from . import models as m
from .client import BackendError, PrometheusClient
from .settings import Settings
from .timeparse import TimeFormatError

__all__ = ["build_server"]


PromQL = Annotated[str, Field(min_length=1, max_length=20_000, description="A PromQL expression")]
Selector = Annotated[
    str | None,
    Field(
        description="Series selector limiting the answer, e.g. '{job=\"orders-api\"}' or 'up{env=\"prod\"}'"
    ),
]
Contains = Annotated[
    str | None, Field(description="Keep only entries containing this text (case-insensitive)")
]
Offset = Annotated[int, Field(ge=0, description="Entries to skip: the next_offset of the previous page")]
Limit = Annotated[
    int | None, Field(ge=1, le=1000, description="Page size; default PROMETHEUS_PAGE_SIZE (100)")
]
LabelName = Annotated[
    str, Field(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$", description="Label name, e.g. 'job' or 'instance'")
]


def build_server(settings: Settings) -> MCPServer:
    prom = PrometheusClient(settings)
    server = MCPServer(
        name="prometheus",
        instructions=(
            "Prometheus: metrics, monitoring and alerting. Run PromQL (instant_query, range_query) for "
            "usage, rates, latency and time series; see firing alerts, alerting rules, scrape targets, "
            "metric and label names. Find metric names with list_metric_names before querying."
        ),
    )

    # Every tool reads; each is registered with our own errors turned into the SDK's ToolError.
    tool = tool_registrar(server, BackendError, TimeFormatError)(READ)

    @tool
    def instant_query(
        query: PromQL,
        time: Annotated[str | None, Field(description="Evaluation time; default now. E.g. '-1h'")] = None,
        limit: Annotated[int | None, Field(ge=1, le=500, description="Max samples; default 20")] = None,
    ) -> m.InstantQueryResult:
        """Evaluate PromQL at one moment and return the current value of each matching series.

        Example: query='sum by (job) (rate(http_requests_total{code=~"5.."}[5m]))' gives each job's
        5xx rate per second now. Each sample: metric (its labels, __name__ included when kept),
        value (float; "NaN", "+Inf" or "-Inf" as strings) and timestamp (unix seconds).
        result_type is vector (samples), scalar (one sample with no labels), string, or matrix
        (a range selector like up[5m]: raw samples in `series`). At most `limit` samples
        (truncated=true and total say how many there were); note hints when nothing matched.
        Counters only grow: wrap them in rate() or increase() to get a per-second rate or a count.
        """
        return prom.instant_query(query, time, limit or settings.max_series, settings.max_points)

    @tool
    def range_query(
        query: PromQL,
        start: Annotated[str, Field(description="Range start, e.g. '-1h' or '2026-02-13T10:00:00Z'")] = "-1h",
        end: Annotated[str, Field(description="Range end, default 'now'")] = "now",
        step: Annotated[
            float | None,
            Field(gt=0, le=86_400, description="Seconds between points; default fits max_points"),
        ] = None,
        max_series: Annotated[int | None, Field(ge=1, le=200, description="Default 20")] = None,
        max_points: Annotated[int | None, Field(ge=2, le=1000, description="Per series; default 120")] = None,
    ) -> m.RangeQueryResult:
        """Evaluate PromQL every `step` seconds from start to end: a graph of each series over time.

        Example: query='rate(http_requests_total{job="orders-api"}[5m])', start='-6h', step=300.
        Each series: metric (labels), points as [unix_seconds, value] oldest first, total_points.
        Without step, one is chosen so each series has at most max_points points. Series beyond
        max_series are dropped and longer series keep their latest max_points points; then
        truncated=true and note says how to see the rest (aggregate with sum by (...), add
        matchers, or raise step). Prefer aggregated queries: fewer series, clearer answers.
        """
        return prom.range_query(
            query,
            start,
            end,
            step,
            max_series or settings.max_series,
            max_points or settings.max_points,
        )

    @tool
    def list_alerts(
        state: Literal["firing", "pending", "any"] = "any",
        name: Annotated[str | None, Field(description="Text in the alert name, e.g. 'Latency'")] = None,
        offset: Offset = 0,
        limit: Limit = None,
    ) -> m.AlertPage:
        """Active alerts from Prometheus's alerting rules, firing ones first.

        Each alert: name (alertname), state (firing = condition held for the rule's `for` time;
        pending = condition true, waiting), labels (severity, job, instance, ...), annotations
        (summary, description, runbook_url; long texts cut with …), active_at (RFC3339, when the
        condition became true), value (the expression's value then). Resolved alerts are not listed.
        """
        return prom.alerts(state, name, offset, page_size(limit, settings.page_size))

    @tool
    def list_targets(
        health: Literal["up", "down", "unknown", "any"] = "any",
        job: Annotated[str | None, Field(description="Only this scrape job, e.g. 'orders-api'")] = None,
        offset: Offset = 0,
        limit: Limit = None,
    ) -> m.TargetPage:
        """The endpoints Prometheus scrapes and whether the last scrape worked, by job then instance.

        Each target: job, instance (host:port), health (up, down, or unknown = not scraped yet),
        last_error (why the last scrape failed, e.g. 'connection refused'; null when fine),
        last_scrape (RFC3339), last_scrape_duration_s, scrape_url, and its other labels.
        A down target also shows as up{job="...", instance="..."} == 0 in instant_query.
        """
        return prom.targets(health, job, offset, page_size(limit, settings.page_size))

    @tool
    def list_metric_names(
        match: Selector = None, contains: Contains = None, offset: Offset = 0, limit: Limit = None
    ) -> m.NamePage:
        """Metric names Prometheus has, sorted; find the right name before writing PromQL.

        Example: contains='http_request' finds http_requests_total and
        http_request_duration_seconds_bucket; match='{job="orders-api"}' keeps the metrics of
        one job. Suffixes tell the type: _total (counter: use rate), _bucket/_sum/_count
        (histogram: use histogram_quantile), none (usually a gauge). get_metric_metadata explains one.
        """
        return prom.metric_names(match, contains, offset, page_size(limit, settings.page_size))

    @tool
    def label_values(
        label: LabelName,
        match: Selector = None,
        contains: Contains = None,
        offset: Offset = 0,
        limit: Limit = None,
    ) -> m.LabelValuePage:
        """The values a label takes, sorted, e.g. label='job' lists every scrape job.

        With match='up' only values on series of that metric, with match='{job="orders-api"}'
        only that job's. An unknown label gives an empty list. Use the values in matchers:
        instant_query('up{job="orders-api"}').
        """
        return prom.label_values(label, match, contains, offset, page_size(limit, settings.page_size))

    @tool
    def list_label_names(match: Selector = None) -> list[str]:
        """All label names (job, instance, code, ...), sorted; with match only those on matching series.
        Pass a name to label_values to see its values."""
        return prom.label_names(match)

    @tool
    def get_metric_metadata(
        metric: Annotated[str | None, Field(description="Exact metric name; omit to list many")] = None,
        contains: Contains = None,
        limit: Annotated[int, Field(ge=1, le=500, description="Max metrics returned")] = 50,
    ) -> list[m.MetricMetadata]:
        """What metrics mean: type (counter, gauge, histogram, summary, unknown), help text and unit,
        as the scraped applications declare them. Example: metric='up' or contains='duration'.
        Histograms are listed by base name (http_request_duration_seconds, not ..._bucket)."""
        return prom.metadata(metric, contains, limit)

    @tool
    def find_series(
        match: Annotated[str, Field(min_length=1, description="Series selector, e.g. 'up{job=~\"api.*\"}'")],
        start: Annotated[str | None, Field(description="Default '-1h'")] = None,
        end: Annotated[str | None, Field(description="Default 'now'")] = None,
        limit: Annotated[int | None, Field(ge=1, le=1000, description="Max series; default 100")] = None,
    ) -> m.SeriesPage:
        """The label sets of series matching a selector that had data between start and end
        (no values). Use it to see which label combinations exist before aggregating, e.g.
        match='http_requests_total{job="orders-api"}'. truncated=true when more than `limit` matched."""
        return prom.series(match, start, end, page_size(limit, settings.page_size))

    @tool
    def list_rules(kind: Literal["alerting", "recording", "any"] = "any") -> list[m.Rule]:
        """Configured rules by group: alerting rules (the condition behind each alert: query, for_s
        seconds it must hold, labels such as severity, current state) and recording rules
        (precomputed series named like job:http_requests:rate5m, queryable by that name).
        health 'err' with last_error means the rule fails to evaluate."""
        return prom.rules(kind)

    return server
