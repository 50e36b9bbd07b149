"""The audit trail: one record per execution, written through the store.

What is kept: the user's anonymous id, when, how long, the code's SHA-256 and
size (the code itself only when ``audit.store_code`` is on), every tool call
with its duration and outcome, the result size and the outcome (ok, or the
error type, and which limit was hit).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

import sandbox
from portal.store import ExecutionRecord, Store, ToolCallRecordRow

__all__ = ["LIMIT_ERRORS", "AuditLog", "AuditQuery", "AuditSink", "as_dict"]

logger = logging.getLogger(__name__)
AuditSink = Callable[[dict[str, Any]], None]  # gets each record as written (portal/audit_export.py)

# Error types that mean a limit stopped the code (as opposed to a bug in it).
LIMIT_ERRORS = frozenset(
    {
        "Timeout",
        "CPUTimeExceeded",
        "MemoryLimitExceeded",
        "ResultTooLarge",
        "ToolCallLimitExceeded",
        "RateLimited",
        "RecursionLimitExceeded",
        "CodeTooLarge",
        "CodeTooComplex",
        "OutputLimitExceeded",
    }
)


_MAX_NAME = 200  # tool names come from model code: bounded before they reach the database


def storable(text: str) -> str:
    """Text any database accepts: lone surrogates and NUL written as escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


@dataclass(frozen=True)
class AuditQuery:
    user_id: str | None = None
    since: datetime | None = None
    limit: int = 100


class AuditLog:
    def __init__(self, store: Store, store_code: bool = False, sink: AuditSink | None = None) -> None:
        self._store = store
        self._store_code = store_code
        self._sink = sink

    async def record(
        self,
        user_id: str,
        started_at: datetime,
        code: str,
        result: sandbox.ExecutionResult,
        result_size: int,
        approvals: list[dict[str, str]] | None = None,
    ) -> int:
        """Write one execution and its tool calls in one transaction; returns the record id."""
        outcome = storable("ok" if result.ok else (result.error.type if result.error else "error"))[
            :_MAX_NAME
        ]
        raw_code = code.encode("utf-8", "surrogatepass")  # code from JSON may hold lone surrogates
        row = ExecutionRecord(
            user_id=user_id,
            started_at=started_at,
            duration_ms=round(result.duration_ms, 3),
            code_sha256=hashlib.sha256(raw_code).hexdigest(),
            code_size=len(raw_code),
            code=storable(code) if self._store_code else None,
            outcome=outcome,
            limit_hit=outcome if outcome in LIMIT_ERRORS else None,
            result_size=result_size,
            approvals=[dict(a) for a in approvals] if approvals else None,
            tool_calls=[
                ToolCallRecordRow(
                    seq=i, name=storable(c.name)[:_MAX_NAME], duration_ms=round(c.duration_ms, 3), ok=c.ok
                )
                for i, c in enumerate(result.tool_calls)
            ],
        )

        def write(session: Session) -> int:
            session.add(row)
            session.flush()
            return row.id

        record_id = await self._store.call(write)
        if self._sink is not None:
            try:  # the database holds the record: a sink that fails is logged, never the execution's fault
                self._sink(_as_dict(row))
            except Exception:
                logger.exception("the audit sink failed on record %s", record_id)
        return record_id

    def query(self, query: AuditQuery) -> list[dict[str, Any]]:
        """Records newest first, as plain dicts (for the CLI and tests)."""
        statement = select(ExecutionRecord).options(selectinload(ExecutionRecord.tool_calls))
        if query.user_id:
            statement = statement.where(ExecutionRecord.user_id == query.user_id)
        if query.since:
            statement = statement.where(ExecutionRecord.started_at >= query.since)
        statement = statement.order_by(ExecutionRecord.started_at.desc(), ExecutionRecord.id.desc()).limit(
            query.limit
        )
        with self._store.session() as session:
            return [_as_dict(row) for row in session.scalars(statement)]


def _as_dict(row: ExecutionRecord) -> dict[str, Any]:
    started = row.started_at if row.started_at.tzinfo else row.started_at.replace(tzinfo=UTC)
    return {
        "id": row.id,
        "user_id": row.user_id,
        "started_at": started.isoformat(),
        "duration_ms": row.duration_ms,
        "code_sha256": row.code_sha256,
        "code_size": row.code_size,
        "code": row.code,
        "outcome": row.outcome,
        "limit_hit": row.limit_hit,
        "result_size": row.result_size,
        "tool_calls": [{"name": c.name, "duration_ms": c.duration_ms, "ok": c.ok} for c in row.tool_calls],
        "approvals": list(row.approvals or []),
    }


as_dict = _as_dict  # one record in the shape `AuditLog.query` returns (portal/audit_export.py)
