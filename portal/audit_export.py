"""The audit trail leaving the box: one JSON line per execution, exported or sent as it happens.

``portal audit export --format jsonl --since ...`` writes the stored records,
oldest first; the configured sink (``audit.sink``: a JSON-lines file rotated
by size, or syslog) gets each record in the same shape the moment it is
written. A line holds what the audit trail holds (portal/audit.py): the
anonymous user id, never an email; the code only when ``audit.store_code`` is on.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import socket
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Final

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from portal.audit import AuditSink, as_dict
from portal.config import AuditSinkConfig
from portal.store import ExecutionRecord, Store

__all__ = ["SCHEMA", "audit_line", "build_sink", "export_lines", "exported_records"]

SCHEMA: Final = "mcp-portal.audit.v1"  # bump when a field changes meaning, so a SIEM parser can tell
_BATCH: Final = 500


def audit_line(record: dict[str, Any]) -> dict[str, Any]:
    """One record in the exported shape (stable field names, the schema tag first)."""
    line = {
        "schema": SCHEMA,
        "event": "execution",
        "id": record["id"],
        "time": record["started_at"],
        "user_id": record["user_id"],
        "outcome": record["outcome"],
        "limit_hit": record["limit_hit"],
        "duration_ms": record["duration_ms"],
        "code_sha256": record["code_sha256"],
        "code_size": record["code_size"],
        "result_size": record["result_size"],
        "tool_calls": [dict(call) for call in record["tool_calls"]],
    }
    if record.get("code") is not None:
        line["code"] = record["code"]
    return line


def _dumps(line: dict[str, Any]) -> str:
    return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


def exported_records(
    store: Store, since: datetime | None = None, until: datetime | None = None
) -> Iterator[dict[str, Any]]:
    """Records oldest first, read in batches so an export of months never sits in memory at once."""
    after: tuple[datetime, int] | None = None
    while True:
        statement = select(ExecutionRecord).options(selectinload(ExecutionRecord.tool_calls))
        if since is not None:
            statement = statement.where(ExecutionRecord.started_at >= since)
        if until is not None:
            statement = statement.where(ExecutionRecord.started_at < until)
        if after is not None:
            moment, last_id = after
            statement = statement.where(
                or_(
                    ExecutionRecord.started_at > moment,
                    (ExecutionRecord.started_at == moment) & (ExecutionRecord.id > last_id),
                )
            )
        statement = statement.order_by(ExecutionRecord.started_at, ExecutionRecord.id).limit(_BATCH)
        with store.session() as session:
            rows = list(session.scalars(statement))
            batch = [as_dict(row) for row in rows]
            after = (rows[-1].started_at, rows[-1].id) if rows else None
        yield from batch
        if len(batch) < _BATCH:
            return


def export_lines(store: Store, since: datetime | None = None, until: datetime | None = None) -> Iterator[str]:
    for record in exported_records(store, since, until):
        yield _dumps(audit_line(record))


def build_sink(config: AuditSinkConfig | None) -> AuditSink | None:
    """A function writing each record as one line to the configured file or syslog; None without one."""
    if config is None:
        return None
    handler = _handler(config)
    handler.setFormatter(logging.Formatter("%(message)s"))
    sink_logger = logging.getLogger(f"portal.audit.sink.{id(handler)}")
    sink_logger.propagate = False  # the portal's own log never repeats the audit lines
    sink_logger.setLevel(logging.INFO)
    sink_logger.addHandler(handler)

    def send(record: dict[str, Any]) -> None:
        sink_logger.info(_dumps(audit_line(record)))

    return send


def _handler(config: AuditSinkConfig) -> logging.Handler:
    if config.type == "jsonl" and config.path is not None:
        config.path.parent.mkdir(parents=True, exist_ok=True)
        return logging.handlers.RotatingFileHandler(
            config.path, maxBytes=config.max_bytes, backupCount=config.backups, encoding="utf-8"
        )
    facility = logging.handlers.SysLogHandler.facility_names[config.facility]
    host, _, port = config.address.rpartition(":")
    address: str | tuple[str, int] = (host, int(port)) if port.isdigit() and host else config.address
    handler = logging.handlers.SysLogHandler(address=address, facility=facility, socktype=socket.SOCK_DGRAM)
    handler.ident = "mcp-portal-audit: "
    return handler
