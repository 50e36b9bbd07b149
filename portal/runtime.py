"""The portal's live parts, wired once and shared by the HTTP app and the CLI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from portal.catalog import Catalog
from portal.codemode import CodeMode
from portal.config import PortalConfig
from portal.metrics import PortalMetrics
from portal.registry import Registry

__all__ = ["PortalRuntime", "open_runtime"]


@dataclass(frozen=True)
class PortalRuntime:
    config: PortalConfig
    registry: Registry
    catalog: Catalog
    codemode: CodeMode
    metrics: PortalMetrics

    @classmethod
    def create(cls, config: PortalConfig) -> PortalRuntime:
        """Build the parts; nothing connects until ``registry`` is entered."""
        registry = Registry(config.servers)
        catalog = Catalog(lambda: (registry.version, registry.tools()))
        metrics = PortalMetrics()
        return cls(config, registry, catalog, CodeMode(config, registry, catalog, metrics), metrics)


@asynccontextmanager
async def open_runtime(config: PortalConfig) -> AsyncIterator[PortalRuntime]:
    """A runtime whose upstream servers are connected (or reported failed)."""
    runtime = PortalRuntime.create(config)
    async with runtime.registry:
        yield runtime
