"""Aggregations in the fake Elasticsearch: terms, date_histogram, and the single-value metrics
min, max, avg, sum, value_count and cardinality. Bucket aggregations may nest sub-aggregations."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .fake_errors import EsError, ShardProblem, error_body, parsing_error
from .fake_fields import NUMERIC, Fields, parse_date, round_date

__all__ = ["aggregate", "fielddata_problem", "iso_ms"]

_CALENDAR = {
    "minute": "m",
    "1m": "m",
    "hour": "h",
    "1h": "h",
    "day": "d",
    "1d": "d",
    "week": "w",
    "1w": "w",
    "month": "M",
    "1M": "M",
    "year": "y",
    "1y": "y",
}
_FIXED = re.compile(r"^(\d+)(ms|s|m|h|d)$")
_FIXED_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_METRICS = ("min", "max", "avg", "sum", "value_count", "cardinality")
_REDUCE: dict[str, Callable[[list[float]], float]] = {
    "min": min,
    "max": max,
    "sum": sum,
    "avg": lambda xs: sum(xs) / len(xs),
}

Doc = dict[str, Any]


def iso_ms(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def fielddata_problem(field: str, index: str) -> ShardProblem:
    return ShardProblem(
        "illegal_argument_exception",
        f"Fielddata is disabled on [{field}] in [{index}]. Text fields are not optimised for operations that "
        "require per-document field data like aggregations and sorting, so these operations are disabled by "
        "default. Please use a keyword field instead. Alternatively, set fielddata=true on "
        f"[{field}] in order to load field data by uninverting the inverted index. Note that this can use "
        "significant memory.",
    )


def aggregate(specs: Any, docs: list[Doc], fields: Fields, now: datetime) -> dict[str, Any]:
    if not isinstance(specs, dict):
        raise parsing_error("Expected [START_OBJECT] under [aggs], but got a [VALUE_STRING] in [aggs]")
    return {name: _one(name, spec, docs, fields, now) for name, spec in specs.items()}


def _one(name: str, spec: Any, docs: list[Doc], fields: Fields, now: datetime) -> dict[str, Any]:
    if not isinstance(spec, dict):
        raise parsing_error(f"Expected [START_OBJECT] under [{name}], but got a [VALUE_STRING] in [{name}]")
    sub = spec.get("aggs") or spec.get("aggregations")
    kinds = [k for k in spec if k not in ("aggs", "aggregations", "meta")]
    if len(kinds) != 1:
        raise parsing_error(f"Expected [START_OBJECT] under [{name}], but found no aggregation type")
    kind, body = kinds[0], spec[kinds[0]]
    if kind not in ("terms", "date_histogram", *_METRICS):
        raise parsing_error(f"Unknown aggregation type [{kind}]")
    field = body.get("field") if isinstance(body, dict) else None
    if not isinstance(field, str):
        raise EsError(
            400,
            error_body(
                400,
                "illegal_argument_exception",
                "Required one of fields [field, script], but none were specified.",
            ),
        )
    ftype = fields.type_of(field)
    if ftype == "text":
        raise fielddata_problem(field, docs[0]["_index"] if docs else "_na_")
    if kind == "terms":
        return _terms(body, field, ftype, docs, fields, now, sub)
    if kind == "date_histogram":
        return _histogram(body, field, docs, fields, now, sub)
    return _metric(kind, field, ftype, docs, fields, now)


def _key(value: Any, ftype: str | None, now: datetime) -> Any:
    if ftype == "date":
        return parse_date(value, now)
    if ftype in NUMERIC:
        number = float(value)
        return int(number) if ftype in ("long", "integer", "short", "byte") else number
    return value if isinstance(value, (str, int, float)) else str(value)


def _bucket(key: Any, members: list[Doc], sub: Any, fields: Fields, now: datetime, dated: bool) -> dict:
    bucket: dict[str, Any] = {"key": key}
    if dated:
        bucket["key_as_string"] = iso_ms(key)
    bucket["doc_count"] = len(members)
    if sub:
        bucket.update(aggregate(sub, members, fields, now))
    return bucket


def _terms(
    body: dict, field: str, ftype: str | None, docs: list[Doc], fields: Fields, now: datetime, sub: Any
) -> dict[str, Any]:
    size = int(body.get("size", 10))
    groups: dict[Any, list[Doc]] = {}
    for doc in docs:
        values = fields.values(doc["_source"], field) if ftype else []
        if not values and "missing" in body:
            values = [body["missing"]]
        for key in dict.fromkeys(_key(v, ftype, now) for v in values):
            groups.setdefault(key, []).append(doc)
    order = body.get("order") or {"_count": "desc"}
    (by, direction), *_ = (order[0] if isinstance(order, list) else order).items()
    if by == "_key":
        ranked = sorted(groups.items(), key=lambda kv: kv[0], reverse=direction == "desc")
    else:
        sign = -1 if direction == "desc" else 1
        ranked = sorted(groups.items(), key=lambda kv: (sign * len(kv[1]), kv[0]))
    ranked = [kv for kv in ranked if len(kv[1]) >= int(body.get("min_doc_count", 1))]
    shown = ranked[:size]
    buckets = [_bucket(k, members, sub, fields, now, ftype == "date") for k, members in shown]
    other = sum(len(members) for _, members in ranked[size:])
    return {"doc_count_error_upper_bound": 0, "sum_other_doc_count": other, "buckets": buckets}


def _interval(body: dict) -> tuple[str, str]:
    if "calendar_interval" in body:
        text = str(body["calendar_interval"])
        if text not in _CALENDAR:
            raise EsError(
                400,
                error_body(
                    400,
                    "illegal_argument_exception",
                    f"The supplied interval [{text}] could not be parsed as a calendar interval.",
                ),
            )
        return "calendar", _CALENDAR[text]
    if "fixed_interval" in body:
        text = str(body["fixed_interval"])
        if not _FIXED.match(text):
            raise EsError(
                400,
                error_body(
                    400,
                    "illegal_argument_exception",
                    f"failed to parse setting [date_histogram.fixedInterval] with value [{text}] "
                    "as a time value: unit is missing or unrecognized",
                ),
            )
        return "fixed", text
    raise EsError(
        400,
        error_body(
            400, "illegal_argument_exception", "Invalid interval specified, must be non-null and non-empty"
        ),
    )


def _histogram(body: dict, field: str, docs: list[Doc], fields: Fields, now: datetime, sub: Any) -> dict:
    mode, unit = _interval(body)
    if mode == "fixed":
        count, suffix = _FIXED.match(unit).groups()  # type: ignore[union-attr]
        step = int(count) * _FIXED_MS[suffix]

        def floor(ms: int) -> int:
            return ms - ms % step

        def following(ms: int) -> int:
            return ms + step
    else:

        def floor(ms: int) -> int:
            return round_date(ms, unit, round_up=False)

        def following(ms: int) -> int:
            return round_date(ms, unit, round_up=True) + 1

    groups: dict[int, list[Doc]] = {}
    for doc in docs:
        for key in dict.fromkeys(floor(parse_date(v, now)) for v in fields.values(doc["_source"], field)):
            groups.setdefault(key, []).append(doc)
    minimum = int(body.get("min_doc_count", 0))
    keys = sorted(groups)
    if minimum == 0 and keys:  # every bucket from the first to the last, empty ones included
        keys = [keys[0]]
        while keys[-1] < max(groups):
            keys.append(following(keys[-1]))
    buckets = [_bucket(k, groups.get(k, []), sub, fields, now, True) for k in keys]
    return {"buckets": [b for b in buckets if b["doc_count"] >= minimum]}


def _metric(kind: str, field: str, ftype: str | None, docs: list[Doc], fields: Fields, now: datetime) -> dict:
    values = [_key(v, ftype, now) for d in docs for v in fields.values(d["_source"], field)] if ftype else []
    if kind == "value_count":
        return {"value": len(values)}
    if kind == "cardinality":
        return {"value": len(set(values))}
    numbers = [float(v) for v in values if isinstance(v, (int, float))]
    if not numbers:
        return {"value": 0.0 if kind == "sum" else None}
    value = _REDUCE[kind](numbers)
    result: dict[str, Any] = {"value": value}
    if ftype == "date" and kind in ("min", "max"):
        result["value_as_string"] = iso_ms(int(value))
    return result
