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
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["Store", "open_store", "sqlite_url"]

T = TypeVar("T")
MIGRATIONS = Path(__file__).parent / "migrations"


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


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
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
