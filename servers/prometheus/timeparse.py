"""Times and durations as a model writes them, turned into what the Prometheus API takes.

Accepted times: RFC3339 (`2026-02-13T10:00:00Z`, with an offset or fractions),
unix seconds (`1770976800`), `now`, and relative times (`-1h`, `now-30m`,
`-1h30m`). Durations use Prometheus units: ms, s, m, h, d, w, y.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

__all__ = ["TimeFormatError", "parse_duration", "parse_time", "rfc3339"]

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")
_RELATIVE = re.compile(r"^(?:now)?\s*-\s*(.+)$")
_UNIX = re.compile(r"^\d+(?:\.\d+)?$")
TIME_HELP = (
    "use RFC3339 like 2026-02-13T10:00:00Z, unix seconds, 'now', or a relative time like -1h or now-30m"
)


class TimeFormatError(ValueError):
    """A time or duration the model wrote that we cannot read; the message says the accepted forms."""


def parse_duration(text: str) -> float:
    """'1h30m' -> 5400.0 seconds."""
    compact = text.replace(" ", "")
    parts = _DURATION.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise TimeFormatError(
            f"Cannot read the duration '{text}': use Prometheus units like 30s, 5m, 1h30m, 2d"
        )
    return sum(float(n) * _UNITS[u] for n, u in parts)


def parse_time(text: str, now: float, name: str = "time") -> float:
    """Unix seconds for `text`, relative times counted back from `now`."""
    value = text.strip()
    if value == "now":
        return now
    relative = _RELATIVE.match(value)
    try:
        if relative:
            return now - parse_duration(relative.group(1))
        if _UNIX.match(value):
            return float(value)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except (TimeFormatError, ValueError):
        raise TimeFormatError(f"Cannot read {name}='{text}': {TIME_HELP}") from None
    if moment.tzinfo is None:  # a naive time is taken as UTC, as Prometheus does
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def rfc3339(ts: float) -> str:
    """1770976800.0 -> '2026-02-13T10:00:00Z' (milliseconds only when there are some)."""
    moment = datetime.fromtimestamp(ts, UTC)
    spec = "seconds" if abs(ts - round(ts)) < 1e-6 else "milliseconds"
    return moment.isoformat(timespec=spec).replace("+00:00", "Z")
