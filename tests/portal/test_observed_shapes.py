"""Observed result shapes (issue 12, item 1): learned from calls of tools that publish no outputSchema.

Only key names and type names are kept, never a value; the learned shape
survives a restart (table ``observed_shapes``, migration 0003).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select, text
from untyped_server import SECRET_TITLE

from portal.catalog import CatalogEntry
from portal.config import PortalConfig
from portal.observed_shapes import MAX_KEYS, MAX_SAMPLES, ShapeObserver, describe, merge, observer_for
from portal.runtime import PortalRuntime, open_runtime
from portal.store import Base, ObservedShapeRow, open_store
from portal.store.database import MIGRATIONS, sqlite_url

pytestmark = pytest.mark.anyio

UNTYPED = {"namespace": "tickets", "transport": {"type": "module", "module": "untyped_server"}}
ECHO = {"namespace": "echo", "transport": {"type": "module", "module": "echo_meta_server"}}
CALL_TICKETS = 'tickets.list_tickets(project="api")'


def config(state: Path) -> PortalConfig:
    return PortalConfig.model_validate({"state_dir": str(state), "servers": [UNTYPED, ECHO]})


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[PortalRuntime]:
    async with open_runtime(config(tmp_path)) as opened:
        yield opened


async def run(runtime: PortalRuntime, code: str) -> dict[str, Any]:
    outcome = await runtime.codemode.execute(code, None)
    answer = json.loads(outcome.text)
    assert answer["ok"], answer
    return answer


def test_a_description_keeps_key_and_type_names_and_never_a_value() -> None:
    value = [{"id": 1, "title": SECRET_TITLE, "score": 0.5, "open": True, "closed_at": None, "tags": ["x"]}]
    schema = describe(value)
    assert schema == {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "title": {"type": "string"},
                "score": {"type": "number"},
                "open": {"type": "boolean"},
                "closed_at": {"type": "null"},
                "tags": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["closed_at", "id", "open", "score", "tags", "title"],
        },
    }
    assert SECRET_TITLE not in json.dumps(schema) and '"x"' not in json.dumps(schema)


@pytest.mark.parametrize(
    ("value", "values"),
    [
        (
            {"ann@example.com": ["api"], "bob@example.com": ["web"]},
            {"type": "array", "items": {"type": "string"}},
        ),
        ({"gitlab.com/project-slug": "infra/api"}, {"type": "string"}),
        ({"a key with spaces": 1}, {"type": "integer"}),
        ({f"k{n}": n for n in range(MAX_KEYS + 1)}, {"type": "integer"}),
        (
            {name: {"open": 1, "team": "core"} for name in ("ann", "bob", "cyd")},
            {
                "type": "object",
                "properties": {"open": {"type": "integer"}, "team": {"type": "string"}},
                "required": ["open", "team"],
            },
        ),
    ],
    ids=["emails", "paths", "spaces", "too many keys", "user names"],
)
def test_an_object_keyed_by_data_is_recorded_as_a_map_of_its_value_type_without_its_keys(
    value: dict[str, Any], values: dict[str, Any]
) -> None:
    schema = describe(value)
    assert schema == {"type": "object", "additionalProperties": values}
    for key in value:
        assert key not in json.dumps(schema)


def test_a_key_seen_in_only_some_results_is_optional_and_types_seen_differently_are_a_union() -> None:
    merged = merge(describe({"id": 1, "tags": ["a"]}), describe({"id": "x", "note": None}))
    assert merged["required"] == ["id"]  # "tags" and "note" were seen once each: optional
    assert merged["properties"]["id"] == {"anyOf": [{"type": "integer"}, {"type": "string"}]}
    assert set(merged["properties"]) == {"id", "tags", "note"}
    both = merge(describe({"id": 1}), describe({"id": 2, "extra": True}))
    assert both["required"] == ["id"]


def test_a_deep_or_wide_value_gives_a_bounded_description() -> None:
    deep: Any = "leaf"
    for _ in range(50):
        deep = {"child": deep}
    assert len(json.dumps(describe(deep))) < 400
    wide = [{f"f{n}": {f"g{m}": m for m in range(30)} for n in range(30)} for _ in range(100)]
    assert len(json.dumps(describe(wide))) < 60_000


async def test_search_shows_the_shape_observed_after_a_successful_call(runtime: PortalRuntime) -> None:
    before = runtime.codemode.search_text("list tickets of a project", 10, None)
    assert "tickets.list_tickets(project: str) -> Any  # List" in before and "observed" not in before
    await run(runtime, CALL_TICKETS)
    answer = runtime.codemode.search_text("list tickets of a project", 10, None)
    line = next(line for line in answer.splitlines() if line.startswith("tickets.list_tickets("))
    assert line == "tickets.list_tickets(project: str) -> list[Ticket]  # observed; " + (
        "List a project's tickets as JSON text"
    )
    assert "Ticket (observed) = {id: int, title: str, author: Author, tags?: list[str]}" in answer
    assert "Author (observed) = {login: str, id: int}" in answer


async def test_the_observed_shape_survives_a_restart_and_the_store_holds_no_value(tmp_path: Path) -> None:
    async with open_runtime(config(tmp_path)) as first:
        await run(first, CALL_TICKETS + "\ntickets.owners()")
    async with open_runtime(config(tmp_path)) as second:
        contract = second.codemode.search_text("tickets.list_tickets", 10, None)
        owners = second.codemode.search_text("tickets.owners", 10, None)
    assert "Returns: list[Ticket]" in contract
    assert "Ticket (observed) = {id: int, title: str, author: Author, tags?: list[str]}" in contract
    assert "Returns: dict[str, list[str]]" in owners
    store = open_store(sqlite_url(tmp_path))
    try:
        with store.session() as session:
            rows = {row.tool: row.samples for row in session.scalars(select(ObservedShapeRow))}
    finally:
        store.close()
    assert set(rows) == {"tickets.list_tickets", "tickets.owners"}
    stored = json.dumps(rows)
    for value in (SECRET_TITLE, "ann", "bob", "example.com", "perf", "api"):
        assert value not in stored


async def test_a_tool_that_declares_its_result_type_is_not_observed(runtime: PortalRuntime) -> None:
    await run(runtime, "echo.whoami()")
    entry = runtime.catalog.get("echo.whoami")
    assert entry is not None and entry.tool.output_schema
    assert observer_for(runtime.registry).observations(entry) == 0


async def test_only_the_last_few_distinct_shapes_are_kept(runtime: PortalRuntime) -> None:
    entry = runtime.catalog.get("tickets.owners")
    assert entry is not None
    observer = ShapeObserver()
    for n in range(MAX_SAMPLES + 5):
        await observer.record(entry, {f"field_{n}": n})
    result = observer.result(entry)
    assert result is not None
    fields = [f.name for f in result.shapes[0].fields]
    assert fields == [f"field_{n}" for n in range(5, MAX_SAMPLES + 5)]
    assert all(f.optional for f in result.shapes[0].fields)


def test_migration_0003_follows_0002_and_matches_the_model(tmp_path: Path) -> None:
    alembic = Config()
    alembic.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(alembic)
    assert script.get_revision("0003").down_revision == "0002"
    store = open_store(sqlite_url(tmp_path))
    try:
        with store.engine.connect() as connection:
            diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        store.close()
    assert [d for d in diffs if "observed_shapes" in repr(d)] == []


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    url = request.getfixturevalue("postgres_url")
    scratch = f"t_{uuid.uuid4().hex[:12]}"  # a fresh database per test
    with open_store(url).engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"CREATE DATABASE {scratch}"))
    return url.rsplit("/", 1)[0] + f"/{scratch}"


async def test_a_second_replica_reads_what_the_first_learned_on_either_database(store_url: str) -> None:
    entry = CatalogEntry("tickets", types.Tool(name="list_tickets", input_schema={"type": "object"}), "sig")
    first, second = open_store(store_url), open_store(store_url)
    try:
        learner = ShapeObserver()
        learner.attach(first)
        await learner.record(entry, [{"id": 1, "title": SECRET_TITLE}])
        await learner.record(entry, [{"id": 2, "title": "b", "tags": []}])
        reader = ShapeObserver()
        reader.attach(second)
        result = reader.result(entry)
    finally:
        first.close()
        second.close()
    assert result is not None and result.annotation == "list[Ticket]"
    assert result.shapes[0].render() == "Ticket (observed) = {id: int, title: str, tags?: list}"
