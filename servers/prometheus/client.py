"""Talks to the Prometheus HTTP API (/api/v1) with httpx. Imports nothing from `mcp`.

Errors: `_request()` is the ONE place where failures become `BackendError`:
httpx timeouts and refused connections, HTTP 401/403/404/429/5xx from
Prometheus or a proxy in front of it, Prometheus's own error JSON
(`{"status": "error", "errorType": "bad_data", "error": "..."}`, explained in
PromQL terms by `api_error_message`), and bodies that are not API JSON. No
message ever contains the token.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import httpx

from servers._toolkit import clip

from . import models as m
from .settings import Settings
from .timeparse import parse_time, rfc3339

__all__ = ["BackendError", "PrometheusClient", "api_error_message", "status_message"]

MAX_ERROR_CHARS = 400  # execution errors can list whole series; the start says what went wrong
MAX_TEXT_CHARS = 300  # annotations and scrape errors
# Auto steps for range_query: the smallest of these giving at most max_points points.
NICE_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)

# What a Prometheus error text means, in PromQL terms, and what to do. First match wins.
PROMQL_HINTS: tuple[tuple[str, str], ...] = (
    (
        "expected type range vector",
        "this function takes a range vector: add a range to the selector, e.g. rate(http_requests_total[5m])",
    ),
    (
        "expected type instant vector",
        "this operator or function takes an instant vector: drop the [range], or reduce it first "
        "with a *_over_time function, e.g. avg_over_time(x[5m])",
    ),
    (
        "ranges only allowed for vector selectors",
        "a [range] may only follow a metric selector; for a range over an expression use a subquery "
        "such as max_over_time(rate(x[5m])[1h:1m])",
    ),
    ("unknown function", "check the function name (rate, increase, sum, avg, topk, histogram_quantile, ...)"),
    (
        "many-to-many matching not allowed",
        "both sides have several series per match group: aggregate one side first (sum by (job) (...)) "
        "or name the matching labels with on(...) or ignoring(...) and add group_left/group_right",
    ),
    (
        "same labelset",
        "the result would hold several series with identical labels (functions drop __name__): "
        "aggregate with sum by (...) or keep a distinguishing label",
    ),
    ("exceeded maximum resolution", "too many points per series (the limit is 11,000): raise step"),
    ("too many samples", "the query touches too many samples: narrow the range, raise step or add matchers"),
    ("invalid label name", "label names match [a-zA-Z_][a-zA-Z0-9_]*; list them with list_label_names"),
    ("parse error", "the 'line:column' before the message points at the problem in the expression"),
)

T = TypeVar("T")


class BackendError(Exception):
    """Prometheus failed us; the message is safe to show a model (cause + fix, no secrets)."""


def status_message(code: int, what: str, retry_after: str | None = None) -> str:
    """The text of a BackendError for an HTTP failure without Prometheus error JSON (public for tests)."""
    if code == 401:
        return (
            "Prometheus rejected the credentials (401 Unauthorized): set PROMETHEUS_TOKEN to a valid "
            "bearer token for Prometheus or the proxy in front of it"
        )
    if code == 403:
        return f"Prometheus answered 403 Forbidden for {what}: the token lacks permission for this API"
    if code == 404:
        return (
            f"Prometheus answered 404 for {what}: no such API path; check that PROMETHEUS_URL is the "
            "server root including any path prefix (such as /prometheus), without /api/v1"
        )
    if code == 429:
        wait = f"wait {retry_after} s (Retry-After)" if retry_after else "wait a minute"
        return f"Prometheus is rate-limiting us (429 Too Many Requests): {wait}, then retry"
    if code >= 500:
        return f"Prometheus failed with {code} on {what}: a server-side error, retry later"
    return f"Prometheus refused {what} (HTTP {code}): check the arguments"


def api_error_message(error_type: str, error: str, what: str) -> str:
    """Prometheus's error JSON as a message saying what is wrong, in PromQL terms."""
    detail = clip(error.removeprefix('invalid parameter "query": '), MAX_ERROR_CHARS)
    hint = next((h for key, h in PROMQL_HINTS if key in error), None)
    if error_type == "bad_data" and "parse error" in error:
        head = f"Invalid PromQL: {detail}"
    elif error_type == "bad_data":
        head = f"Prometheus rejected the arguments of {what} (bad_data): {detail}"
    elif error_type == "execution":
        head = f"Prometheus could not evaluate the PromQL (execution error): {detail}"
    elif error_type in ("timeout", "canceled"):
        head = f"Prometheus gave up evaluating {what} ({error_type}): {detail}"
        hint = "narrow the time range, raise step, filter with label matchers or aggregate (sum by (...))"
    else:  # internal, unavailable, not_found and anything newer
        head = f"Prometheus failed on {what} ({error_type}): {detail}"
        hint = hint or "a server-side error, retry later"
    return f"{head}. Fix: {hint}" if hint else head


class PrometheusClient:
    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        # Building an httpx.Client does no I/O: build_server stays offline.
        self._url = settings.url.rstrip("/")
        self._timeout = settings.timeout
        self._clock = clock
        token = settings.token.get_secret_value() if settings.token else ""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self._url, headers=headers, timeout=settings.timeout)

    # --- queries --------------------------------------------------------------

    def instant_query(self, query: str, at: str | None, limit: int, max_points: int) -> m.InstantQueryResult:
        ts = parse_time(at, self._clock(), "time") if at else self._clock()
        data = self._query("/api/v1/query", {"query": query, "time": _num(ts)}, "the query")
        kind, raw = data["resultType"], data["result"]
        result: m.InstantQueryResult = {
            "result_type": kind,
            "time": rfc3339(ts),
            "samples": [],
            "total": len(raw) if kind in ("vector", "matrix") else 1,
            "truncated": False,
            "note": None,
            "warnings": data.get("warnings", []),
        }
        if kind == "matrix":  # a range vector such as up[5m]: the raw samples in the window
            result["series"] = [_series(s, max_points) for s in raw[:limit]]
        elif kind == "vector":
            result["samples"] = [_sample(s["metric"], s["value"]) for s in raw[:limit]]
        else:  # scalar or string: [timestamp, value]
            result["samples"] = [_sample({}, raw)]
        result["truncated"] = result["total"] > limit
        result["note"] = _series_note(result["total"], limit, "samples")
        return result

    def range_query(
        self, query: str, start: str, end: str, step: float | None, max_series: int, max_points: int
    ) -> m.RangeQueryResult:
        now = self._clock()
        t0, t1 = parse_time(start, now, "start"), parse_time(end, now, "end")
        step = step or _auto_step(t1 - t0, max_points)
        params = {"query": query, "start": _num(t0), "end": _num(t1), "step": _num(step)}
        data = self._query("/api/v1/query_range", params, "the range query")
        raw = data["result"]
        series = [_series(s, max_points) for s in raw[:max_series]]
        cut_points = any(s["total_points"] > len(s["points"]) for s in series)
        note = _series_note(len(raw), max_series, "series")
        if cut_points:
            need = _auto_step(t1 - t0, max_points)
            cut = f"Each series kept its last {max_points} points; use step >= {need:g} to cover the range."
            note = f"{note} {cut}" if note else cut
        return {
            "start": rfc3339(t0),
            "end": rfc3339(t1),
            "step": step,
            "series": series,
            "total_series": len(raw),
            "truncated": len(raw) > max_series or cut_points,
            "note": note,
            "warnings": data.get("warnings", []),
        }

    def series(self, match: str, start: str | None, end: str | None, limit: int) -> m.SeriesPage:
        now = self._clock()
        form = {"match[]": match, "start": _num(parse_time(start or "-1h", now, "start"))}
        form["end"] = _num(parse_time(end or "now", now, "end"))
        found = self._request("POST", "/api/v1/series", what="the series lookup", data=form)
        return {"series": found[:limit], "total": len(found), "truncated": len(found) > limit}

    # --- names and metadata ---------------------------------------------------

    def label_values(
        self, label: str, match: str | None, contains: str | None, offset: int, limit: int
    ) -> m.LabelValuePage:
        params = {"match[]": match} if match else None
        found = self._request("GET", f"/api/v1/label/{label}/values", what=f"label '{label}'", params=params)
        values, total, next_offset = _page(_containing(found, contains), offset, limit)
        return {"label": label, "values": values, "total": total, "next_offset": next_offset}

    def metric_names(self, match: str | None, contains: str | None, offset: int, limit: int) -> m.NamePage:
        page = self.label_values("__name__", match, contains, offset, limit)
        return {"names": page["values"], "total": page["total"], "next_offset": page["next_offset"]}

    def label_names(self, match: str | None) -> list[str]:
        params = {"match[]": match} if match else None
        return self._request("GET", "/api/v1/labels", what="the label names", params=params)

    def metadata(self, metric: str | None, contains: str | None, limit: int) -> list[m.MetricMetadata]:
        params = {"metric": metric} if metric else None
        found = self._request("GET", "/api/v1/metadata", what="the metric metadata", params=params)
        names = _containing(sorted(found), contains)[:limit]
        return [_metadata(name, found[name][0]) for name in names]

    # --- alerts, targets, rules -----------------------------------------------

    def alerts(self, state: str, name: str | None, offset: int, limit: int) -> m.AlertPage:
        raw = self._request("GET", "/api/v1/alerts", what="the alert list")["alerts"]
        alerts = [_alert(a) for a in raw if state in ("any", a["state"])]
        alerts = [a for a in alerts if _has(a["name"], name)]
        alerts.sort(key=lambda a: (a["state"] != "firing", a["name"], sorted(a["labels"].items())))
        items, total, next_offset = _page(alerts, offset, limit)
        return {"alerts": items, "total": total, "next_offset": next_offset}

    def targets(self, health: str, job: str | None, offset: int, limit: int) -> m.TargetPage:
        raw = self._request("GET", "/api/v1/targets", what="the target list", params={"state": "active"})
        targets = [_target(t) for t in raw["activeTargets"]]
        targets = [t for t in targets if health in ("any", t["health"]) and job in (None, t["job"])]
        targets.sort(key=lambda t: (t["job"], t["instance"]))
        items, total, next_offset = _page(targets, offset, limit)
        return {"targets": items, "total": total, "next_offset": next_offset}

    def rules(self, kind: str) -> list[m.Rule]:
        params = {"type": {"alerting": "alert", "recording": "record"}[kind]} if kind != "any" else None
        groups = self._request("GET", "/api/v1/rules", what="the rule list", params=params)["groups"]
        return [_rule(g["name"], r) for g in groups for r in g["rules"]]

    # --- HTTP -----------------------------------------------------------------

    def _query(self, path: str, form: dict[str, str], what: str) -> Any:
        # POST: long PromQL does not fit in a URL. `timeout` makes Prometheus give up too.
        return self._request("POST", path, what=what, data={**form, "timeout": _num(self._timeout)})

    def _request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
    ) -> Any:
        """THE one place where transport failures, HTTP statuses and API errors become BackendError."""
        try:
            response = self._http.request(method, path, params=params, data=data)
        except httpx.TimeoutException:
            raise BackendError(
                f"Prometheus did not answer {what} within {self._timeout:g} s: "
                "narrow the query (shorter range, larger step, fewer series), retry later, "
                "or raise PROMETHEUS_TIMEOUT"
            ) from None
        except httpx.TransportError:
            # Messages name the setting, never the URL: a model cannot fix it and must not learn hosts.
            raise BackendError(
                "Cannot connect to Prometheus: check PROMETHEUS_URL and that Prometheus is up"
            ) from None
        code = response.status_code
        body = _json_or_none(response)
        if code in (401, 403, 404, 429):
            raise BackendError(status_message(code, what, response.headers.get("Retry-After")))
        if isinstance(body, dict) and body.get("status") == "error":
            error_type, error = str(body.get("errorType", "unknown")), str(body.get("error", ""))
            raise BackendError(api_error_message(error_type, error, what))
        if code >= 400:
            raise BackendError(status_message(code, what))
        if not isinstance(body, dict) or body.get("status") != "success" or "data" not in body:
            raise BackendError(
                f"Prometheus answered {what} with something that is not Prometheus API JSON "
                f"(HTTP {code}): check that PROMETHEUS_URL points at Prometheus, not a login page or "
                "another service"
            )
        payload: Any = body["data"]
        if isinstance(payload, dict) and body.get("warnings"):
            payload = {**payload, "warnings": [clip(str(w), MAX_TEXT_CHARS) for w in body["warnings"]]}
        return payload


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        return None


def _num(x: float) -> str:
    return f"{x:.3f}".rstrip("0").rstrip(".")


def _value(raw: str) -> m.Value:
    """Prometheus sends values as strings; JSON has no NaN/Inf, so those stay strings."""
    try:
        number = float(raw)
    except ValueError:
        return raw  # the text of a string result
    return number if math.isfinite(number) else raw


def _sample(metric: dict[str, str], pair: Sequence[Any]) -> m.Sample:
    return {"metric": metric, "value": _value(pair[1]), "timestamp": float(pair[0])}


def _series(raw: dict[str, Any], max_points: int) -> m.Series:
    values = raw["values"]
    points = [(float(t), _value(v)) for t, v in values[-max_points:]]
    return {"metric": raw["metric"], "points": points, "total_points": len(values)}


def _series_note(total: int, limit: int, what: str) -> str | None:
    if total == 0:
        return "No series matched: check the metric name with list_metric_names and the label matchers."
    if total > limit:
        return (
            f"Showing {limit} of {total} {what}: aggregate (sum by (job) (...)), add label matchers, "
            "or use topk(5, ...) to see fewer."
        )
    return None


def _auto_step(span: float, max_points: int) -> float:
    wanted = span / max(max_points - 1, 1)
    return float(next((s for s in NICE_STEPS if s >= wanted), math.ceil(wanted)))


def _containing(items: list[str], needle: str | None) -> list[str]:
    return [i for i in items if _has(i, needle)]


def _has(text: str, needle: str | None) -> bool:
    return not needle or needle.lower() in text.lower()


def _page(items: list[T], offset: int, limit: int) -> tuple[list[T], int, int | None]:
    end = offset + limit
    return items[offset:end], len(items), end if end < len(items) else None


def _time(raw: str | None) -> str | None:
    """Prometheus's nanosecond RFC3339 cut to whole seconds; its zero time means never."""
    if not raw or raw.startswith("0001-01-01"):
        return None
    return raw.split(".")[0].removesuffix("Z") + "Z"


def _alert(raw: dict[str, Any]) -> m.Alert:
    labels = {k: v for k, v in raw["labels"].items() if k != "alertname"}
    return {
        "name": raw["labels"].get("alertname", ""),
        "state": raw["state"],
        "labels": labels,
        "annotations": {k: clip(v, MAX_TEXT_CHARS) for k, v in raw.get("annotations", {}).items()},
        "active_at": _time(raw.get("activeAt")),
        "value": _value(raw.get("value", "NaN")),
    }


def _target(raw: dict[str, Any]) -> m.Target:
    labels = raw.get("labels", {})
    return {
        "job": labels.get("job", raw.get("scrapePool", "")),
        "instance": labels.get("instance", ""),
        "health": raw["health"],
        "last_error": clip(raw["lastError"], MAX_TEXT_CHARS) if raw.get("lastError") else None,
        "last_scrape": _time(raw.get("lastScrape")),
        "last_scrape_duration_s": round(float(raw.get("lastScrapeDuration", 0.0)), 4),
        "scrape_url": raw.get("scrapeUrl", ""),
        "labels": {k: v for k, v in labels.items() if k not in ("job", "instance")},
    }


def _metadata(name: str, raw: dict[str, str]) -> m.MetricMetadata:
    return {
        "metric": name,
        "type": raw["type"],
        "help": clip(raw["help"], MAX_TEXT_CHARS),
        "unit": raw["unit"],
    }


def _rule(group: str, raw: dict[str, Any]) -> m.Rule:
    alerting = raw["type"] == "alerting"
    return {
        "group": group,
        "name": raw["name"],
        "type": raw["type"],
        "query": raw["query"],
        "health": raw.get("health", "unknown"),
        "last_error": raw.get("lastError") or None,
        "state": raw.get("state") if alerting else None,
        "for_s": float(raw.get("duration", 0)) if alerting else None,
        "labels": raw.get("labels") or {},
    }
