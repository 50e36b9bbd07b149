"""What the operator page shows, gathered from the registry, the audit trail, the store and the sandbox.

Call rates, error rates and latencies per upstream server come from the audit
trail's tool-call records over the last ``admin.stats_window_minutes``: the
same numbers on every replica, unlike one process's counters.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio.to_thread
from sqlalchemy import select

from portal.audit import AuditQuery
from portal.oauth.storage import OAuthStore
from portal.runtime import PortalRuntime
from portal.store import ExecutionRecord, ToolCallRecordRow

__all__ = ["ServerRow", "consent_rows", "recent_executions", "sandbox_layers", "server_rows"]

_MAX_STAT_ROWS = 200_000  # a busy hour is read whole; beyond that the newest rows stand for it


@dataclass(frozen=True)
class ServerRow:
    namespace: str
    state: str
    tools: int
    error: str | None
    calls: int
    calls_per_minute: float
    error_rate: float | None
    p50_ms: float | None
    p99_ms: float | None


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile: a value that was observed, never an interpolation."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _recent_calls(runtime: PortalRuntime, since: datetime) -> list[tuple[str, float, bool]]:
    statement = (
        select(ToolCallRecordRow.name, ToolCallRecordRow.duration_ms, ToolCallRecordRow.ok)
        .join(ExecutionRecord, ToolCallRecordRow.execution_id == ExecutionRecord.id)
        .where(ExecutionRecord.started_at >= since)
        .order_by(ToolCallRecordRow.id.desc())
        .limit(_MAX_STAT_ROWS)
    )
    with runtime.store.session() as session:
        return [(name, float(ms), bool(ok)) for name, ms, ok in session.execute(statement)]


def server_rows(runtime: PortalRuntime, window_minutes: int) -> list[ServerRow]:
    calls = _recent_calls(runtime, datetime.now(UTC) - timedelta(minutes=window_minutes))
    by_namespace: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for name, duration, ok in calls:
        by_namespace[name.partition(".")[0]].append((duration, ok))
    rows = []
    for status in runtime.registry.statuses():
        mine = by_namespace.get(status.namespace, [])
        durations = [duration for duration, _ in mine]
        errors = sum(1 for _, ok in mine if not ok)
        rows.append(
            ServerRow(
                namespace=status.namespace, state=status.state, tools=status.tool_count, error=status.error,
                calls=len(mine), calls_per_minute=len(mine) / window_minutes,
                error_rate=errors / len(mine) if mine else None,
                p50_ms=percentile(durations, 0.50), p99_ms=percentile(durations, 0.99),
            )
        )  # fmt: skip
    return rows


def recent_executions(runtime: PortalRuntime, limit: int = 25) -> list[dict[str, Any]]:
    return runtime.audit.query(AuditQuery(limit=limit))


async def consent_rows(oauth: OAuthStore) -> list[dict[str, Any]]:
    """Every approval, newest first, with the client's self-chosen name (shown as text, never trusted)."""
    rows = []
    names: dict[str, str | None] = {}
    for consent in await oauth.consents():
        if consent.client_id not in names:
            found = await oauth.client(consent.client_id)
            name = found[0].get("client_name") if found else None
            names[consent.client_id] = name if isinstance(name, str) else None
        rows.append(
            {
                "user_id": consent.user_id, "client_id": consent.client_id,
                "client_name": names[consent.client_id], "redirect_uri": consent.redirect_uri,
                "scopes": " ".join(consent.scopes), "approved_at": consent.approved_at.isoformat(),
            }
        )  # fmt: skip
    return rows


class SandboxLayers:
    """`python -m sandbox doctor`'s report, probed once per process (it starts a fork server)."""

    def __init__(self) -> None:
        self._report: dict[str, Any] | None = None
        self._lock = anyio.Lock()

    async def report(self) -> dict[str, Any]:
        async with self._lock:
            if self._report is None:
                from sandbox.diagnostics import doctor_report

                try:
                    self._report = await anyio.to_thread.run_sync(doctor_report)
                except Exception as exc:  # shown on the page: the sandbox cannot start here
                    return {
                        "error": f"{type(exc).__name__}: the sandbox's fork server did not start",
                        "layers": [],
                    }
            return self._report


sandbox_layers = SandboxLayers
