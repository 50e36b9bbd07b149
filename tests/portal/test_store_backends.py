"""The store works the same on SQLite and on a real PostgreSQL: migrations, identities, audit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import anyio
import pytest
from sqlalchemy import inspect, text

import sandbox
from portal.audit import AuditLog, AuditQuery
from portal.identity import Identities
from portal.store import open_store
from portal.store.database import sqlite_url

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    url = request.getfixturevalue("postgres_url")
    scratch = f"t_{uuid.uuid4().hex[:12]}"  # a schema-free fresh database per test
    with open_store(url).engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"CREATE DATABASE {scratch}"))
    return url.rsplit("/", 1)[0] + f"/{scratch}"


def result(tool_calls: int = 1) -> sandbox.ExecutionResult:
    calls = tuple(sandbox.ToolCallRecord(f"gitlab.tool_{i}", 1.5, i % 2 == 0) for i in range(tool_calls))
    return sandbox.ExecutionResult(True, 42, "", None, calls, 12.5)


async def test_migrations_create_every_table_and_are_idempotent(store_url: str) -> None:
    store = open_store(store_url)
    store.close()
    store = open_store(store_url)  # a second open finds the schema at head and changes nothing
    try:
        tables = set(inspect(store.engine).get_table_names())
    finally:
        store.close()
    assert {
        "users",
        "executions",
        "execution_tool_calls",
        "oauth_clients",
        "oauth_codes",
        "oauth_refresh_tokens",
        "signing_keys",
        "alembic_version",
    } <= tables


async def test_identities_are_stable_and_unique_under_concurrency(store_url: str) -> None:
    store = open_store(store_url)
    try:
        ids: list[str] = []

        async def resolve() -> None:
            ids.append(await Identities(store).user_id("ann@example.com"))

        async with anyio.create_task_group() as group:
            for _ in range(8):
                group.start_soon(resolve)
        assert len(set(ids)) == 1
        assert await Identities(store).user_id("ANN@example.com") == ids[0]
    finally:
        store.close()


async def test_audit_records_survive_concurrent_writers(store_url: str) -> None:
    store = open_store(store_url)
    try:
        audit = AuditLog(store)
        async with anyio.create_task_group() as group:
            for index in range(20):
                group.start_soon(
                    audit.record, f"user-{index % 4}", datetime.now(UTC), f"code {index}", result(3), 10
                )
        records = audit.query(AuditQuery(limit=1000))
        assert len(records) == 20
        assert all(
            [c["name"] for c in r["tool_calls"]] == ["gitlab.tool_0", "gitlab.tool_1", "gitlab.tool_2"]
            for r in records
        )
        assert len(audit.query(AuditQuery(user_id="user-1"))) == 5
    finally:
        store.close()
