"""The Prometheus MCP server through the SDK's in-memory client, against a REAL Prometheus.

One Prometheus per module (it takes about 6 s to scrape for the first time). It
scrapes itself, a prometheus_client exporter in this process (as the portal's
/metrics will be scraped) and a closed port (a target that is down).
"""

import socket
import threading
from collections.abc import Iterator

import anyio
import pytest
from mcp import Client
from prometheus_client import CollectorRegistry, Counter, start_http_server
from server_tool_names import TOOL_NAMES

from demo.prometheus.fake import RunningPrometheus, start
from servers.prometheus import Settings, build_server

pytestmark = pytest.mark.anyio

SEEDED = '{tool=~"gitlab.+|prometheus.+"}'  # the two series no test changes


class ScrapeWatch:
    """A collector that counts scrapes, so a test can wait for Prometheus to have seen a change."""

    def __init__(self) -> None:
        self.scrapes = 0
        self._changed = threading.Condition()

    def describe(self) -> list:
        return []

    def collect(self) -> list:
        with self._changed:
            self.scrapes += 1
            self._changed.notify_all()
        return []

    def wait_for(self, scrapes: int, timeout: float) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: self.scrapes >= scrapes, timeout), "no scrape in time"


class Exporter:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.watch = ScrapeWatch()
        self.registry.register(self.watch)  # first: it runs before the counter is read in each scrape
        self.requests = Counter(
            "portal_test_requests", "Tool calls served by the portal (test)", ["tool"], registry=self.registry
        )


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed when the block ends: nothing listens there


@pytest.fixture(scope="module")
def exporter() -> Iterator[Exporter]:
    exporter = Exporter()
    exporter.requests.labels(tool="gitlab.list_projects").inc(3)
    exporter.requests.labels(tool="prometheus.instant_query").inc()
    server, thread = start_http_server(0, addr="127.0.0.1", registry=exporter.registry)
    exporter.address = f"127.0.0.1:{server.server_port}"
    yield exporter
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="module")
def down_target() -> str:
    return f"127.0.0.1:{_closed_port()}"


@pytest.fixture(scope="module")
def prometheus(exporter, down_target) -> Iterator[RunningPrometheus]:
    with start(scrape_targets=[exporter.address, down_target]) as running:
        yield running


@pytest.fixture
def settings(prometheus) -> Settings:
    return Settings(**prometheus.settings, timeout=5)


async def call(settings: Settings, tool: str, **args):
    async with Client(build_server(settings)) as client:
        return await client.call_tool(tool, args)


async def result_of(settings: Settings, tool: str, **args):
    result = await call(settings, tool, **args)
    assert result.is_error is False, result.content[0].text
    return result.structured_content


async def test_the_tool_list_has_every_tool_read_only_with_a_description_and_an_output_schema(settings):
    async with Client(build_server(settings)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert tuple(tools) == TOOL_NAMES["prometheus"]
    for name, tool in tools.items():
        assert len(tool.description or "") > 80, name
        hints = tool.annotations
        assert (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint) == (True, False, True), (
            name
        )
        assert tool.output_schema is not None, name
    assert tools["list_alerts"].input_schema["properties"]["state"]["enum"] == ["firing", "pending", "any"]
    assert tools["list_targets"].input_schema["properties"]["health"]["enum"] == [
        "up",
        "down",
        "unknown",
        "any",
    ]


async def test_instant_query_sees_the_counter_scraped_from_the_exporter(settings):
    result = await result_of(
        settings, "instant_query", query=f"sort_desc(sum by (tool) (portal_test_requests_total{SEEDED}))"
    )
    assert result["result_type"] == "vector"
    assert [(s["metric"], s["value"]) for s in result["samples"]] == [
        ({"tool": "gitlab.list_projects"}, 3.0),
        ({"tool": "prometheus.instant_query"}, 1.0),
    ]
    assert (result["total"], result["truncated"], result["note"]) == (2, False, None)
    assert {s["timestamp"] for s in result["samples"]} == {result["samples"][0]["timestamp"]}


async def test_an_increment_shows_up_in_prometheus_after_the_next_scrape(settings, exporter):
    seen = exporter.watch.scrapes
    exporter.requests.labels(tool="sentry.list_issues").inc(2)
    # The first scrape after the increment carries it; once the one after starts, it is stored.
    await anyio.to_thread.run_sync(exporter.watch.wait_for, seen + 2, 10.0)
    result = await result_of(
        settings, "instant_query", query='portal_test_requests_total{tool="sentry.list_issues"}'
    )
    assert [s["value"] for s in result["samples"]] == [2.0]
    assert result["samples"][0]["metric"]["job"] == "portal"


async def test_instant_query_caps_the_samples_and_says_how_to_see_fewer(settings):
    result = await result_of(settings, "instant_query", query="up", limit=1)
    assert (len(result["samples"]), result["total"], result["truncated"]) == (1, 3, True)
    assert result["note"] == (
        "Showing 1 of 3 samples: aggregate (sum by (job) (...)), add label matchers, "
        "or use topk(5, ...) to see fewer."
    )


async def test_a_query_matching_nothing_says_where_to_find_metric_names(settings):
    result = await result_of(settings, "instant_query", query="portal_no_such_metric_total")
    assert (result["samples"], result["total"]) == ([], 0)
    assert result["note"] == (
        "No series matched: check the metric name with list_metric_names and the label matchers."
    )


async def test_non_finite_scalars_come_back_as_strings(settings):
    result = await result_of(settings, "instant_query", query="1/0")
    assert result["result_type"] == "scalar"
    assert [(s["metric"], s["value"]) for s in result["samples"]] == [({}, "+Inf")]


async def test_instant_query_at_a_relative_time_reports_that_time(settings):
    now = await result_of(settings, "instant_query", query="time()")
    earlier = await result_of(settings, "instant_query", query="time()", time="-1h")
    assert now["samples"][0]["value"] - earlier["samples"][0]["value"] == pytest.approx(3600, abs=5)
    assert earlier["time"].endswith("Z")


async def test_range_query_keeps_the_latest_points_and_marks_the_cut(settings):
    result = await result_of(settings, "range_query", query="vector(1)", start="-10m", step=60, max_points=5)
    [series] = result["series"]
    assert (series["metric"], series["total_points"], len(series["points"])) == ({}, 11, 5)
    assert [v for _, v in series["points"]] == [1.0] * 5
    times = [t for t, _ in series["points"]]
    assert [round(b - a, 3) for a, b in zip(times, times[1:], strict=False)] == [60.0] * 4
    assert (result["step"], result["total_series"], result["truncated"]) == (60.0, 1, True)
    assert result["note"] == "Each series kept its last 5 points; use step >= 300 to cover the range."


async def test_range_query_caps_the_series_in_label_order(settings):
    result = await result_of(
        settings, "range_query", query=f"portal_test_requests_total{SEEDED}", start="-2m", max_series=1
    )
    assert [s["metric"]["tool"] for s in result["series"]] == ["gitlab.list_projects"]
    assert {v for _, v in result["series"][0]["points"]} == {3.0}
    assert (result["total_series"], result["truncated"]) == (2, True)
    assert result["note"].startswith("Showing 1 of 2 series")


async def test_range_query_picks_a_step_that_fits_max_points(settings):
    result = await result_of(settings, "range_query", query="vector(1)", start="-1h", max_points=61)
    assert result["step"] == 60.0
    assert len(result["series"][0]["points"]) == 61
    assert result["truncated"] is False


async def test_list_alerts_shows_the_firing_rule_first_then_the_pending_one(settings):
    result = await result_of(settings, "list_alerts")
    alerts = [(a["name"], a["state"], a["labels"]["severity"]) for a in result["alerts"]]
    assert alerts == [("AlwaysFiring", "firing", "info"), ("AlwaysPending", "pending", "warning")]
    firing = result["alerts"][0]
    assert firing["annotations"] == {"summary": "Acme Shop test alert: Prometheus is up and scraping itself"}
    assert (firing["value"], firing["labels"]["job"]) == (1.0, "prometheus")
    assert (result["total"], result["next_offset"]) == (2, None)


async def test_list_alerts_filters_by_state_and_name(settings):
    pending = await result_of(settings, "list_alerts", state="pending")
    named = await result_of(settings, "list_alerts", name="firing")
    assert [a["name"] for a in pending["alerts"]] == ["AlwaysPending"]
    assert [a["name"] for a in named["alerts"]] == ["AlwaysFiring"]


async def test_list_targets_shows_the_down_target_with_its_scrape_error(
    settings, prometheus, exporter, down_target
):
    result = await result_of(settings, "list_targets")
    own = prometheus.url.removeprefix("http://")
    assert sorted((t["job"], t["instance"], t["health"]) for t in result["targets"]) == sorted(
        [("portal", exporter.address, "up"), ("portal", down_target, "down"), ("prometheus", own, "up")]
    )
    down = await result_of(settings, "list_targets", health="down")
    [target] = down["targets"]
    assert target["scrape_url"] == f"http://{down_target}/metrics"
    assert "connection refused" in target["last_error"]
    assert target["last_scrape"].endswith("Z")


async def test_list_metric_names_filters_by_text_and_pages(settings):
    found = await result_of(settings, "list_metric_names", contains="PORTAL_TEST")
    assert found == {
        "names": ["portal_test_requests_created", "portal_test_requests_total"],
        "total": 2,
        "next_offset": None,
    }
    names, offset = [], 0
    while offset is not None:
        page = await result_of(settings, "list_metric_names", match='{job="portal"}', offset=offset, limit=3)
        names += page["names"]
        offset = page["next_offset"]
    assert names == [
        "job:up:sum",  # the recording rule keeps the job label
        "portal_test_requests_created",
        "portal_test_requests_total",
        "scrape_duration_seconds",
        "scrape_samples_post_metric_relabeling",
        "scrape_samples_scraped",
        "scrape_series_added",
        "up",
    ]


async def test_label_values_lists_jobs_and_the_instances_of_one_job(settings, exporter, down_target):
    jobs = await result_of(settings, "label_values", label="job")
    instances = await result_of(settings, "label_values", label="instance", match='up{job="portal"}')
    assert jobs == {"label": "job", "values": ["portal", "prometheus"], "total": 2, "next_offset": None}
    assert instances["values"] == sorted([exporter.address, down_target])


async def test_an_invalid_label_name_is_refused_before_any_request(settings):
    result = await call(settings, "label_values", label="bad-name")
    assert result.is_error is True


async def test_label_names_metadata_and_series_describe_the_exported_counter(settings):
    labels = await result_of(settings, "list_label_names", match="portal_test_requests_total")
    assert labels["result"] == ["__name__", "instance", "job", "tool"]
    metadata = await result_of(settings, "get_metric_metadata", contains="portal_test")
    assert metadata["result"] == [
        {
            "metric": "portal_test_requests",
            "type": "counter",
            "help": "Tool calls served by the portal (test)",
            "unit": "",
        }
    ]
    series = await result_of(settings, "find_series", match=f"portal_test_requests_total{SEEDED}")
    assert sorted(s["tool"] for s in series["series"]) == ["gitlab.list_projects", "prometheus.instant_query"]
    assert (series["total"], series["truncated"]) == (2, False)


async def test_list_rules_shows_alerting_and_recording_rules(settings):
    rules = (await result_of(settings, "list_rules"))["result"]
    assert [(r["name"], r["type"], r["state"], r["for_s"]) for r in rules] == [
        ("AlwaysFiring", "alerting", "firing", 0.0),
        ("AlwaysPending", "alerting", "pending", 3600.0),
        ("job:up:sum", "recording", None, None),
    ]
    recording = (await result_of(settings, "list_rules", kind="recording"))["result"]
    assert [(r["name"], r["query"], r["health"]) for r in recording] == [
        ("job:up:sum", "sum by (job) (up)", "ok")
    ]


async def test_bad_promql_is_a_tool_error_that_explains_the_fix(settings):
    result = await call(settings, "instant_query", query="rate(portal_test_requests_total)")
    assert result.is_error is True
    assert result.content[0].text == (
        "Error executing tool instant_query: Invalid PromQL: 1:6: parse error: expected type range vector "
        'in call to function "rate", got instant vector. Fix: this function takes a range vector: '
        "add a range to the selector, e.g. rate(http_requests_total[5m])"
    )


async def test_an_unclosed_parenthesis_points_at_line_and_column(settings):
    result = await call(settings, "range_query", query="sum(up")
    assert result.content[0].text == (
        "Error executing tool range_query: Invalid PromQL: 1:7: parse error: unclosed left parenthesis. "
        "Fix: the 'line:column' before the message points at the problem in the expression"
    )


async def test_many_to_many_matching_is_explained_as_an_execution_error(settings):
    result = await call(
        settings, "instant_query", query="portal_test_requests_total + on() portal_test_requests_total"
    )
    text = result.content[0].text
    assert result.is_error is True
    assert text.startswith(
        "Error executing tool instant_query: Prometheus could not evaluate the PromQL (execution error): "
        "found duplicate series for the match group {}"
    )
    assert text.endswith(
        "Fix: both sides have several series per match group: aggregate one side first (sum by (job) (...)) "
        "or name the matching labels with on(...) or ignoring(...) and add group_left/group_right"
    )


async def test_too_many_points_per_series_says_to_raise_step(settings):
    result = await call(settings, "range_query", query="up", start="-1d", step=1)
    assert result.content[0].text == (
        "Error executing tool range_query: Prometheus rejected the arguments of the range query (bad_data): "
        "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution "
        "(?step=XX). Fix: too many points per series (the limit is 11,000): raise step"
    )


async def test_an_unreadable_time_is_a_tool_error_listing_the_accepted_forms(settings):
    result = await call(settings, "range_query", query="up", start="last tuesday")
    assert result.content[0].text == (
        "Error executing tool range_query: Cannot read start='last tuesday': use RFC3339 like "
        "2026-02-13T10:00:00Z, unix seconds, 'now', or a relative time like -1h or now-30m"
    )


async def test_a_url_with_a_wrong_path_prefix_is_a_404_that_says_how_to_fix_the_url(prometheus):
    settings = Settings(url=f"{prometheus.url}/prometheus", timeout=5)
    result = await call(settings, "list_alerts")
    assert result.content[0].text == (
        "Error executing tool list_alerts: Prometheus answered 404 for the alert list: no such API path; "
        "check that PROMETHEUS_URL is the server root including any path prefix "
        "(such as /prometheus), without /api/v1"
    )


async def test_a_prometheus_that_is_down_is_a_prompt_tool_error():
    port = _closed_port()
    result = await call(Settings(url=f"http://127.0.0.1:{port}", timeout=2), "instant_query", query="up")
    assert result.content[0].text == (
        "Error executing tool instant_query: Cannot connect to Prometheus: "
        "check PROMETHEUS_URL and that Prometheus is up"
    )
