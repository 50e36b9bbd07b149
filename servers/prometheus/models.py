"""Compact result shapes for the Prometheus tools: what a model needs, not the API's full payload.

TypedDicts (from typing_extensions: pydantic requires it on Python < 3.12) so
each tool publishes an outputSchema. Conventions: sample timestamps are unix
seconds (float); other times are RFC3339 UTC strings; durations are seconds.
A sample value is a float, or one of the strings "NaN", "+Inf", "-Inf" for
non-finite values (JSON has no number for them), or the text of a string result.
"""

from __future__ import annotations

from typing import Literal, NotRequired

from typing_extensions import TypedDict

Value = float | str
ResultType = Literal["vector", "scalar", "string", "matrix"]


class Sample(TypedDict):
    metric: dict[str, str]
    value: Value
    timestamp: float


class Series(TypedDict):
    metric: dict[str, str]
    points: list[tuple[float, Value]]  # [[unix seconds, value], ...], oldest first
    total_points: int


class InstantQueryResult(TypedDict):
    result_type: ResultType
    time: str
    samples: list[Sample]
    series: NotRequired[list[Series]]  # only for a range-vector query such as up[5m]
    total: int
    truncated: bool
    note: str | None
    warnings: list[str]


class RangeQueryResult(TypedDict):
    start: str
    end: str
    step: float
    series: list[Series]
    total_series: int
    truncated: bool
    note: str | None
    warnings: list[str]


class Alert(TypedDict):
    name: str
    state: Literal["firing", "pending", "inactive"]
    labels: dict[str, str]
    annotations: dict[str, str]
    active_at: str | None
    value: Value


class AlertPage(TypedDict):
    alerts: list[Alert]
    total: int
    next_offset: int | None


class Target(TypedDict):
    job: str
    instance: str
    health: Literal["up", "down", "unknown"]
    last_error: str | None
    last_scrape: str | None
    last_scrape_duration_s: float
    scrape_url: str
    labels: dict[str, str]


class TargetPage(TypedDict):
    targets: list[Target]
    total: int
    next_offset: int | None


class NamePage(TypedDict):
    names: list[str]
    total: int
    next_offset: int | None


class LabelValuePage(TypedDict):
    label: str
    values: list[str]
    total: int
    next_offset: int | None


class MetricMetadata(TypedDict):
    metric: str
    type: str
    help: str
    unit: str


class SeriesPage(TypedDict):
    series: list[dict[str, str]]
    total: int
    truncated: bool


class Rule(TypedDict):
    group: str
    name: str
    type: Literal["alerting", "recording"]
    query: str
    health: str
    last_error: str | None
    state: str | None  # alerting rules: firing, pending or inactive
    for_s: float | None  # alerting rules: how long the condition must hold before firing
    labels: dict[str, str]
