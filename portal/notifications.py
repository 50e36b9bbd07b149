"""The clients connected to the portal, and what reaches them unasked.

A client connection (the SDK's ``Connection``: one per MCP session) is remembered
when it makes a request. The registry's events (portal/registry.py) become
``notifications/{tools,resources,prompts}/list_changed`` for every connection,
and ``notifications/resources/updated`` for the connections that subscribed to
that resource. ``logging/setLevel`` is kept per connection; each upstream that
logs is set to the lowest level any connection asked for, and the portal
filters per connection (portal/mcp_server.py's call sink).

Stateless (2026-07-28) exchanges have no standing stream: the SDK drops what is
sent to them. Those clients hear the same events on a ``subscriptions/listen``
stream instead: every event is also published on `bus` (portal/protocol_handlers.py).
"""

from __future__ import annotations

import logging
import weakref
from typing import Any

import mcp_types as types
from mcp.server.connection import Connection
from mcp.server.subscriptions import (
    InMemorySubscriptionBus,
    PromptsListChanged,
    ResourcesListChanged,
    ResourceUpdated,
    ServerEvent,
    ToolsListChanged,
)

from portal.federation import Federation, Route
from portal.registry import Registry, RegistryEvent, UpstreamError

__all__ = ["LEVELS", "ConnectedClients", "connection_of"]

logger = logging.getLogger(__name__)
LEVELS: tuple[types.LoggingLevel, ...] = (
    "debug", "info", "notice", "warning", "error", "critical", "alert", "emergency",
)  # fmt: skip
_DEFAULT_LEVEL: types.LoggingLevel = "info"


def connection_of(ctx: Any) -> Connection | None:
    """The connection a request came on (the SDK's per-request session holds it privately)."""
    connection = getattr(ctx.session, "_connection", None)
    return connection if isinstance(connection, Connection) else None


class ConnectedClients:
    def __init__(self, registry: Registry, federation: Federation) -> None:
        self._registry = registry
        self._federation = federation
        self._connections: weakref.WeakSet[Connection] = weakref.WeakSet()
        self._levels: weakref.WeakKeyDictionary[Connection, types.LoggingLevel] = weakref.WeakKeyDictionary()
        self._subscribers: dict[Route, weakref.WeakSet[Connection]] = {}
        self._upstream_level: types.LoggingLevel | None = None
        self.bus = InMemorySubscriptionBus()  # what subscriptions/listen streams hear (2026-07-28)
        registry.add_listener(self.relay)

    def remember(self, ctx: Any) -> Connection | None:
        connection = connection_of(ctx)
        if connection is not None:
            self._connections.add(connection)
        return connection

    def level(self, connection: Connection | None) -> types.LoggingLevel:
        return self._levels.get(connection, _DEFAULT_LEVEL) if connection is not None else _DEFAULT_LEVEL

    def wants(self, connection: Connection | None, level: str) -> bool:
        return level in LEVELS and LEVELS.index(level) >= LEVELS.index(self.level(connection))  # type: ignore[arg-type]

    async def set_level(self, ctx: Any, level: types.LoggingLevel) -> None:
        connection = self.remember(ctx)
        if connection is not None:
            self._levels[connection] = level
        lowest = min(self._levels.values(), key=LEVELS.index, default=level)
        if lowest != self._upstream_level:
            self._upstream_level = lowest
            await self._set_upstream_levels(lowest)

    async def _set_upstream_levels(self, level: types.LoggingLevel) -> None:
        for status in self._registry.statuses():
            if status.state == "ready" and self._registry.supports(status.namespace, "logging"):
                try:
                    await self._registry.request(status.namespace, lambda c: c.set_logging_level(level))
                except Exception as exc:  # boundary: one upstream that refuses must not fail the request
                    logger.warning("upstream %s refused logging/setLevel: %s", status.namespace, exc)

    async def subscribe(self, ctx: Any, route: Route) -> None:
        connection = self.remember(ctx)
        subscribers = self._subscribers.setdefault(route, weakref.WeakSet())
        first = not subscribers
        if connection is not None:
            subscribers.add(connection)
        if first and self._registry.supports(route.namespace, "subscribe"):
            await self._upstream(route, subscribe=True)

    async def unsubscribe(self, ctx: Any, route: Route) -> None:
        connection = connection_of(ctx)
        subscribers = self._subscribers.get(route)
        if subscribers is None:
            return
        if connection is not None:
            subscribers.discard(connection)
        if not subscribers:
            del self._subscribers[route]
            if self._registry.supports(route.namespace, "subscribe"):
                await self._upstream(route, subscribe=False)

    async def _upstream(self, route: Route, subscribe: bool) -> None:
        try:
            await self._registry.request(
                route.namespace,
                lambda c: (
                    c.subscribe_resource(route.original)
                    if subscribe
                    else c.unsubscribe_resource(route.original)
                ),
            )
        except UpstreamError as exc:
            logger.warning("upstream %s (un)subscribe failed: %s", route.namespace, exc)

    async def relay(self, event: RegistryEvent) -> None:
        """One registry event to the connections that should hear it."""
        if event.kind == "updated":
            await self._relay_update(Route(event.namespace, event.uri))
            return
        send, published = {
            "tools": (Connection.send_tool_list_changed, ToolsListChanged()),
            "resources": (Connection.send_resource_list_changed, ResourcesListChanged()),
            "prompts": (Connection.send_prompt_list_changed, PromptsListChanged()),
        }[event.kind]
        await self.bus.publish(published)  # type: ignore[arg-type]
        for connection in list(self._connections):
            await send(connection)

    async def _relay_update(self, route: Route) -> None:
        names = self._federation.names()
        exposed = names.exposed(names.resources, route.namespace, route.original)
        if exposed is None:  # made from a template, or namespaced because of a clash
            exposed = route.original if names.route_uri(route.original, set()) == route else None
        exposed = exposed or f"{route.namespace}+{route.original}"
        update: ServerEvent = ResourceUpdated(uri=exposed)
        await self.bus.publish(update)  # a listen stream gets it only if it named this URI
        for connection in list(self._subscribers.get(route, ())):
            await connection.send_resource_updated(exposed)
