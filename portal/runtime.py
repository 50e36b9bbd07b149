"""The portal's live parts, wired once and shared by the HTTP app and the CLI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from portal.approvals import Approvals
from portal.audit import AuditLog
from portal.audit_export import build_sink
from portal.auth import Principal
from portal.catalog import Catalog
from portal.codemode import CodeMode
from portal.config import PortalConfig
from portal.identity import Identities
from portal.metrics import PortalMetrics
from portal.observed_shapes import observer_for
from portal.permissions import Permissions
from portal.ratelimit import admission_for
from portal.registry import Registry
from portal.store import Store, open_store
from portal.store.database import sqlite_url

__all__ = ["PortalRuntime", "open_runtime", "store_for"]


def store_for(config: PortalConfig) -> Store:
    """The configured database, or the SQLite file in the state folder; migrated to the newest schema."""
    url = config.database_url.get_secret_value() if config.database_url else sqlite_url(config.state_dir)
    return open_store(url)


@dataclass(frozen=True)
class PortalRuntime:
    config: PortalConfig
    registry: Registry
    catalog: Catalog
    codemode: CodeMode
    metrics: PortalMetrics
    store: Store
    identities: Identities
    audit: AuditLog

    @classmethod
    def create(cls, config: PortalConfig) -> PortalRuntime:
        """Build the parts; upstream servers connect only when ``registry`` is entered."""
        registry = Registry(config.servers)
        registry.gate = Approvals(config.approve).refusal  # human approval of destructive calls
        catalog = Catalog(lambda: (registry.version, registry.tools()))
        metrics = PortalMetrics()
        store = store_for(config)
        observer_for(registry).attach(store)  # result shapes learned in earlier runs
        identities = Identities(store)
        audit = AuditLog(store, store_code=config.audit.store_code, sink=build_sink(config.audit.sink))
        admission = admission_for(store, config.executions.per_minute, config.executions.in_flight)
        codemode = CodeMode(
            config, registry, catalog, metrics, audit, Permissions(config.permissions), admission
        )
        return cls(config, registry, catalog, codemode, metrics, store, identities, audit)

    async def principal_for(self, email: str, groups: tuple[str, ...] = ()) -> Principal:
        """The principal of a user known by email (CLI and tests; HTTP callers come with a token)."""
        return Principal(await self.identities.user_id(email), groups)

    def close(self) -> None:
        self.store.close()


@asynccontextmanager
async def open_runtime(config: PortalConfig) -> AsyncIterator[PortalRuntime]:
    """A runtime whose upstream servers are connected (or reported failed)."""
    runtime = PortalRuntime.create(config)
    try:
        async with runtime.registry:
            yield runtime
    finally:
        runtime.close()
