"""Open the store: an engine, the schema migrated to head, and sessions run off the event loop."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["KEYS_LOCK", "MIGRATION_LOCK", "Store", "advisory_lock", "open_store", "sqlite_url"]

T = TypeVar("T")
MIGRATIONS = Path(__file__).parent / "migrations"
# Keys of the PostgreSQL advisory locks the portal takes; any two distinct 64-bit numbers would do.
MIGRATION_LOCK = 0x504F5254414C0001  # "PORTAL" 1: one replica migrates, the others wait and find it done
KEYS_LOCK = 0x504F5254414C0002  # one replica at a time creates or rotates the signing key


def sqlite_url(state_dir: Path) -> str:
    return f"sqlite:///{(state_dir / 'portal.db').resolve()}"


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA busy_timeout=10000")  # a second writer waits instead of failing
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Store:
    """Sessions on one database; ``call`` runs blocking work in a worker thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        # SQLite has one writer: funnel writes through one thread so none fails with "database is locked".
        self._limiter = anyio.CapacityLimiter(1 if engine.dialect.name == "sqlite" else 8)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with self._sessions() as session, session.begin():
            yield session

    async def call(self, work: Callable[[Session], T]) -> T:
        """Run ``work(session)`` in a transaction, off the event loop."""

        def run() -> T:
            with self.session() as session:
                return work(session)

        return await anyio.to_thread.run_sync(run, limiter=self._limiter)

    def close(self) -> None:
        self.engine.dispose()


def advisory_lock(connection: Connection, key: int) -> None:
    """Hold a PostgreSQL advisory lock until the transaction ends; SQLite has one writer and needs none."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision, once, however many replicas start together.

    PostgreSQL runs the DDL of every revision in this one transaction, under the
    migration lock: a replica that starts second waits, then finds the schema at head.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        advisory_lock(connection, MIGRATION_LOCK)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def open_store(url: str) -> Store:
    """Connect, migrate and return the store. ``url`` is a SQLAlchemy URL (sqlite or postgresql+psycopg)."""
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        Path(engine.url.database or ".").parent.mkdir(parents=True, exist_ok=True)
        event.listen(engine, "connect", _sqlite_pragmas)
    migrate(engine)
    return Store(engine)
