"""State several replicas share through one database: admission limits, the schema, the signing key.

Each "replica" is its own `Store` (its own engine and connection pool) on the
same database, as separate processes would be; SQLite and a real PostgreSQL.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import anyio
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import select, text

from portal.oauth.keys import KeySet
from portal.ratelimit import (
    LEASE_MARGIN_SECONDS,
    LocalAdmission,
    RateLimited,
    SharedAdmission,
    admission_for,
)
from portal.store import SigningKeyRecord, Store, open_store
from portal.store.database import MIGRATIONS, sqlite_url

pytestmark = pytest.mark.anyio
HOLD = 30.0  # the wall limit of the runs admitted in these tests


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def fresh_postgres_database(url: str) -> str:
    """A new empty database on the test server: each test starts from no schema at all."""
    scratch = f"t_{uuid.uuid4().hex[:12]}"
    store = open_store(url)
    try:
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f"CREATE DATABASE {scratch}"))
    finally:
        store.close()
    return url.rsplit("/", 1)[0] + f"/{scratch}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    return fresh_postgres_database(request.getfixturevalue("postgres_url"))


@pytest.fixture
def replicas(database_url: str) -> Iterator[tuple[Store, Store]]:
    first, second = open_store(database_url), open_store(database_url)
    try:
        yield first, second
    finally:
        first.close()
        second.close()


async def test_two_replicas_share_one_rate_per_user(replicas: tuple[Store, Store]) -> None:
    clock = Clock()
    a, b = (SharedAdmission(store, 3, None, clock=clock) for store in replicas)
    for admission in (a, b, a):
        async with admission.admit("ann", HOLD):
            pass
    with pytest.raises(RateLimited) as refused:
        async with b.admit("ann", HOLD):
            pass
    assert refused.value.retry_after == pytest.approx(20.0)
    async with b.admit("bob", HOLD):  # another user has a bucket of their own
        pass
    clock.now += 20
    async with b.admit("ann", HOLD):
        pass


async def test_runs_in_flight_count_across_replicas_and_are_released(replicas: tuple[Store, Store]) -> None:
    a, b = (SharedAdmission(store, None, 2) for store in replicas)
    async with a.admit("ann", HOLD), b.admit("ann", HOLD):
        with pytest.raises(RateLimited, match="already have 2 executions running") as refused:
            async with a.admit("ann", HOLD):
                pass
        assert refused.value.retry_after == 0.0
        async with b.admit("bob", HOLD):
            pass
    async with a.admit("ann", HOLD), b.admit("ann", HOLD):  # both slots came back
        pass


async def test_a_refused_run_takes_no_token_and_holds_no_slot(replicas: tuple[Store, Store]) -> None:
    clock = Clock()
    a, b = (SharedAdmission(store, 2, 1, clock=clock) for store in replicas)
    async with a.admit("ann", HOLD):
        for _ in range(3):
            with pytest.raises(RateLimited, match="already have 1"):
                async with b.admit("ann", HOLD):
                    pass
    async with b.admit("ann", HOLD):  # the second of two tokens: the refusals took none
        pass


async def test_a_slot_is_released_when_the_run_fails(replicas: tuple[Store, Store]) -> None:
    a, b = (SharedAdmission(store, None, 1) for store in replicas)
    with pytest.raises(ZeroDivisionError):
        async with a.admit("ann", HOLD):
            1 / 0  # noqa: B018
    async with b.admit("ann", HOLD):
        pass


async def test_the_runs_of_a_killed_replica_stop_counting_after_their_wall_limit(
    replicas: tuple[Store, Store],
) -> None:
    clock = Clock()
    killed, survivor = (SharedAdmission(store, None, 1, clock=clock) for store in replicas)
    stack = AsyncExitStack()
    await stack.enter_async_context(killed.admit("ann", HOLD))  # never released: its process died
    clock.now += HOLD + LEASE_MARGIN_SECONDS - 1
    with pytest.raises(RateLimited, match="already have 1"):
        async with survivor.admit("ann", HOLD):
            pass
    clock.now += 2
    async with survivor.admit("ann", HOLD):
        pass


async def test_concurrent_admissions_from_many_replicas_never_exceed_the_cap(database_url: str) -> None:
    stores = [open_store(database_url) for _ in range(6)]
    admitted, refused = 0, 0
    release = anyio.Event()
    try:

        def decided() -> None:
            if admitted + refused == 2 * len(stores):
                release.set()  # every attempt has its answer: the admitted runs may end

        async def attempt(store: Store) -> None:
            nonlocal admitted, refused
            try:
                async with SharedAdmission(store, None, 2).admit("ann", HOLD):
                    admitted += 1
                    decided()
                    await release.wait()
            except RateLimited:
                refused += 1
                decided()

        with anyio.fail_after(60):
            async with anyio.create_task_group() as group:
                for store in stores * 2:
                    group.start_soon(attempt, store)
    finally:
        for store in stores:
            store.close()
    assert (admitted, refused) == (2, 10)


async def test_the_shared_limits_are_used_on_postgresql_and_memory_on_sqlite(
    database_url: str, replicas: tuple[Store, Store]
) -> None:
    admission = admission_for(replicas[0], 10, 2)
    expected = SharedAdmission if database_url.startswith("postgresql") else LocalAdmission
    assert type(admission) is expected


def run_together(count: int, work: object) -> list[BaseException]:
    """Run ``work()`` in ``count`` threads released at the same moment; the errors they raised."""
    barrier, errors = threading.Barrier(count), []

    def run() -> None:
        barrier.wait()
        try:
            work()  # type: ignore[operator]
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def test_replicas_starting_together_migrate_a_fresh_database_once(postgres_url: str) -> None:
    url = fresh_postgres_database(postgres_url)
    errors = run_together(4, lambda: open_store(url).close())
    assert errors == []
    store = open_store(url)
    try:
        with store.engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    finally:
        store.close()
    assert versions == [ScriptDirectory(str(MIGRATIONS)).get_current_head()]


def test_replicas_starting_together_agree_on_one_signing_key(postgres_url: str) -> None:
    url = fresh_postgres_database(postgres_url)
    open_store(url).close()  # the schema first: this test is about the keys
    active: list[str] = []

    def start_replica() -> None:
        store = open_store(url)
        try:
            keys = KeySet(store, rotation_days=30, max_token_ttl_seconds=3600)
            keys.load()
            active.append(keys.active().kid)
        finally:
            store.close()

    assert run_together(6, start_replica) == []
    store = open_store(url)
    try:
        with store.session() as session:
            live = session.scalars(select(SigningKeyRecord.kid).where(SigningKeyRecord.retired_at.is_(None)))
            kids = list(live)
            every = list(session.scalars(select(SigningKeyRecord.kid)))
    finally:
        store.close()
    assert len(set(active)) == 1
    assert kids == every == active[:1]
