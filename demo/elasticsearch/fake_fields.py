"""Field types, document values and dates for the fake Elasticsearch's query engine.

Values follow the mapping: `keyword` fields compare whole, case-sensitive
strings; `text` fields are analysed into lower-case word tokens (roughly the
standard analyzer); numbers and dates compare by value. `message.keyword`, a
multi-field, reads the `message` value. Dates accept ISO 8601 (date-only and
partial times too), epoch milliseconds, and date math (`now-1h`, `now/d`,
`2026-02-26||+1d`), all in UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from .fake_errors import ShardProblem

__all__ = [
    "NUMERIC",
    "Fields",
    "parse_date",
    "parse_number",
    "round_date",
    "source_filter",
    "tokens",
    "wildcard_regex",
]

NUMERIC = frozenset({"long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float"})
_WORD = re.compile(r"\w+")
_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?)?(Z|[+-]\d{2}:?\d{2})?$"
)
_MATH = re.compile(r"([+-]\d+[yMwdhHms]|/[yMwdhHms])")
_UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "H": 3600, "m": 60, "s": 1}
DATE_FORMAT = "strict_date_optional_time||epoch_millis"


def tokens(text: Any) -> list[str]:
    return [t.lower() for t in _WORD.findall(str(text))]


def parse_number(value: Any, field: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ShardProblem(
            "query_shard_exception",
            f'failed to create query: For input string: "{value}"',
            {"type": "number_format_exception", "reason": f'For input string: "{value}"'},
        ) from None


def _iso(text: str, round_up: bool) -> int:
    match = _ISO.match(text)
    if not match:
        raise ValueError(text)
    y, mo, d, h, mi, s, frac, zone = match.groups()
    moment = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), tzinfo=UTC)
    moment += timedelta(microseconds=int((frac or "0")[:6].ljust(6, "0")))
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        moment -= sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[-2:]))
    ms = int(moment.timestamp() * 1000)
    if round_up:  # the end of the unit written: 2026-02-26 -> 23:59:59.999
        step = 86_400_000 if h is None else 3_600_000 if mi is None else 60_000 if s is None else 1000
        ms += 0 if frac else step - 1
    return ms


def _apply_math(ms: int, math: str, round_up: bool) -> int:
    for op in _MATH.findall(math):
        unit = op[-1]
        if op[0] == "/":
            ms = round_date(ms, unit, round_up)
        elif unit in ("M", "y"):
            moment = datetime.fromtimestamp(ms / 1000, UTC)
            months = int(op[:-1]) * (12 if unit == "y" else 1) + moment.month - 1
            moment = moment.replace(year=moment.year + months // 12, month=months % 12 + 1)
            ms = int(moment.timestamp() * 1000)
        else:
            ms += int(op[:-1]) * _UNITS[unit] * 1000
    return ms


def round_date(ms: int, unit: str, round_up: bool) -> int:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    if unit in ("y", "M"):
        start = moment.replace(month=1 if unit == "y" else moment.month, day=1, hour=0, minute=0, second=0)
        start = start.replace(microsecond=0)
        months = 12 if unit == "y" else 1
        m = start.month - 1 + months
        end = start.replace(year=start.year + m // 12, month=m % 12 + 1)
        return int((end if round_up else start).timestamp() * 1000) - (1 if round_up else 0)
    size = _UNITS[unit] * 1000
    base = ms - (ms % size) if unit != "w" else ms - ((ms + 3 * 86_400_000) % size)  # weeks start Monday
    return base + size - 1 if round_up else base


def parse_date(value: Any, now: datetime, round_up: bool = False) -> int:
    """Epoch milliseconds; `round_up` for an inclusive upper bound (lte) or a date term's end."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    text = str(value).strip()
    try:
        if text.isdigit():
            return int(text)
        if text.startswith("now"):
            return _checked_math(int(now.timestamp() * 1000), text[3:], round_up)
        anchor, _, math = text.partition("||")
        ms = _iso(anchor, round_up and not math)
        return _checked_math(ms, math, round_up) if math else ms
    except (ValueError, KeyError, OverflowError):
        reason = f"failed to parse date field [{text}] with format [{DATE_FORMAT}]"
        raise ShardProblem("parse_exception", reason) from None


def _checked_math(ms: int, math: str, round_up: bool) -> int:
    if "".join(_MATH.findall(math)) != math:
        raise ValueError(math)
    return _apply_math(ms, math, round_up)


def _flatten(properties: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for name, spec in properties.items():
        path = prefix + name
        if "properties" in spec:
            out.update(_flatten(spec["properties"], path + "."))
            continue
        out[path] = spec.get("type", "object")
        for sub, sub_spec in spec.get("fields", {}).items():
            out[f"{path}.{sub}"] = sub_spec["type"]
    return out


class Fields:
    """The mapped fields of one mapping: type lookup and value extraction."""

    def __init__(self, mapping: dict[str, Any]) -> None:
        self.types = _flatten(mapping.get("properties", {}))
        self.multi = {
            f"{path}.{sub}": path
            for path, spec in _leaf_specs(mapping.get("properties", {}))
            for sub in spec.get("fields", {})
        }

    def type_of(self, field: str) -> str | None:
        return self.types.get(field)

    def values(self, source: dict[str, Any], field: str) -> list[Any]:
        """The field's values in a document (a list: fields may hold arrays); [] when absent."""
        path = self.multi.get(field, field)
        found = _dig(source, path.split("."))
        if found is None:
            return []
        return [v for v in (found if isinstance(found, list) else [found]) if v is not None]


def _leaf_specs(properties: dict[str, Any], prefix: str = "") -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    for name, spec in properties.items():
        if "properties" in spec:
            out += _leaf_specs(spec["properties"], prefix + name + ".")
        else:
            out.append((prefix + name, spec))
    return out


def _dig(obj: Any, parts: list[str]) -> Any:
    """Walk a dotted path, accepting both nested objects and flat keys containing dots."""
    if not parts:
        return obj
    if not isinstance(obj, dict):
        return None
    for i in range(len(parts), 0, -1):
        key = ".".join(parts[:i])
        if key in obj:
            return _dig(obj[key], parts[i:])
    return None


def wildcard_regex(pattern: str) -> re.Pattern[str]:
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts) + r"\Z", re.DOTALL)


def source_filter(source: dict[str, Any], spec: Any, params: dict[str, str]) -> dict[str, Any] | None:
    """Elasticsearch's _source filtering: false, "field", ["a", "b.*"], or {"includes", "excludes"}."""
    includes = params.get("_source_includes", "").split(",") if params.get("_source_includes") else []
    excludes = params.get("_source_excludes", "").split(",") if params.get("_source_excludes") else []
    if spec in (False, "false"):
        return None
    if isinstance(spec, str) and spec != "true":
        includes = spec.split(",")
    elif isinstance(spec, list):
        includes = [str(s) for s in spec]
    elif isinstance(spec, dict):
        includes = _as_list(spec.get("includes", spec.get("include", [])))
        excludes = _as_list(spec.get("excludes", spec.get("exclude", [])))
    if not includes and not excludes:
        return source
    return _filtered(source, "", includes, excludes)


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _path_matches(path: str, patterns: list[str]) -> bool:
    """A pattern selects a path itself or everything below it: 'http' keeps http.status."""
    return any(re.match(wildcard_regex(p).pattern.removesuffix(r"\Z") + r"(\Z|\.)", path) for p in patterns)


def _filtered(obj: dict[str, Any], prefix: str, includes: list[str], excludes: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in obj.items():
        path = prefix + key
        if excludes and _path_matches(path, excludes):
            continue
        if isinstance(value, dict):
            if includes and _path_matches(path, includes):
                out[key] = _filtered(value, path + ".", [], excludes)
            else:
                inner = _filtered(value, path + ".", includes, excludes)
                if inner:
                    out[key] = inner
        elif not includes or _path_matches(path, includes):
            out[key] = value
    return out
