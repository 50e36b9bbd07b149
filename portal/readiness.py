"""``/readyz``: whether this replica should get traffic, as opposed to ``/healthz`` (the process is alive).

Ready means: the catalog is loaded (the upstream servers were connected or
reported failed, at start-up), the database answers, and the replica is not
draining for a shutdown. A load balancer or Kubernetes takes a replica that is
not ready out of rotation; a replica whose database is back becomes ready again.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
from sqlalchemy import text
from sqlalchemy.orm import Session

from portal.drain import Drain
from portal.store import Store

__all__ = ["DATABASE_TIMEOUT_SECONDS", "Readiness"]

logger = logging.getLogger(__name__)
DATABASE_TIMEOUT_SECONDS = 3.0


def _ping(session: Session) -> None:
    session.execute(text("SELECT 1"))


class Readiness:
    def __init__(self, store: Store, drain: Drain) -> None:
        self._store = store
        self._drain = drain
        self.catalog_loaded = False  # set by the app's lifespan once the registry is entered

    async def check(self) -> tuple[bool, dict[str, Any]]:
        """Ready or not, and each check's state (no addresses, no error texts: the endpoint is public)."""
        checks = {
            "catalog": "loaded" if self.catalog_loaded else "loading",
            "database": "reachable" if await self._database_answers() else "unreachable",
            "draining": self._drain.draining,
        }
        ready = checks["catalog"] == "loaded" and checks["database"] == "reachable" and not checks["draining"]
        return ready, {"status": "ready" if ready else "not ready", **checks}

    async def _database_answers(self) -> bool:
        try:
            with anyio.fail_after(DATABASE_TIMEOUT_SECONDS):
                await self._store.call(_ping)
        except Exception as exc:  # any driver error means the same thing here
            logger.warning("readiness: the database does not answer (%s)", type(exc).__name__)
            return False
        return True
