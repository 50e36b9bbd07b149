"""The portal's MCP handlers beyond tools: resources, prompts, completion, subscriptions, logging.

The same in Code Mode and direct mode: they are driven by the user, not the
model, so Code Mode serves them as they are (docs/protocol.md). Each checks the
caller's permissions (portal/federation.py) and relays to the owning upstream.
"""

from __future__ import annotations

from typing import Any

import anyio
import mcp_types as types
from mcp.server.subscriptions import ListenHandler

from portal.auth import current_principal
from portal.federation import Federation
from portal.notifications import ConnectedClients
from portal.progress import RequestSink
from portal.relay import calling_as

__all__ = ["ProtocolHandlers"]


class ProtocolHandlers:
    def __init__(self, federation: Federation, clients: ConnectedClients) -> None:
        self.federation = federation
        self.clients = clients
        self._listen = ListenHandler(clients.bus)

    async def list_resources(
        self, ctx: Any, params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        self.clients.remember(ctx)
        return types.ListResourcesResult(resources=self.federation.list_resources(current_principal()))

    async def list_resource_templates(
        self, ctx: Any, params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        self.clients.remember(ctx)
        templates = self.federation.list_templates(current_principal())
        return types.ListResourceTemplatesResult(resource_templates=templates)

    async def read_resource(
        self, ctx: Any, params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        self.clients.remember(ctx)
        with calling_as(RequestSink(ctx, self.clients)):
            return await self.federation.read(current_principal(), str(params.uri))

    async def subscribe(self, ctx: Any, params: types.SubscribeRequestParams) -> types.EmptyResult:
        route = self.federation.resource_route(current_principal(), str(params.uri))
        await self.clients.subscribe(ctx, route)
        return types.EmptyResult()

    async def unsubscribe(self, ctx: Any, params: types.UnsubscribeRequestParams) -> types.EmptyResult:
        route = self.federation.resource_route(current_principal(), str(params.uri))
        await self.clients.unsubscribe(ctx, route)
        return types.EmptyResult()

    async def list_prompts(
        self, ctx: Any, params: types.PaginatedRequestParams | None
    ) -> types.ListPromptsResult:
        self.clients.remember(ctx)
        return types.ListPromptsResult(prompts=self.federation.list_prompts(current_principal()))

    async def get_prompt(self, ctx: Any, params: types.GetPromptRequestParams) -> types.GetPromptResult:
        self.clients.remember(ctx)
        with calling_as(RequestSink(ctx, self.clients)):
            return await self.federation.get_prompt(current_principal(), params.name, params.arguments)

    async def complete(self, ctx: Any, params: types.CompleteRequestParams) -> types.CompleteResult:
        self.clients.remember(ctx)
        return await self.federation.complete(current_principal(), params)

    async def set_logging_level(self, ctx: Any, params: types.SetLevelRequestParams) -> types.EmptyResult:
        await self.clients.set_level(ctx, params.level)
        return types.EmptyResult()

    async def listen(
        self, ctx: Any, params: types.SubscriptionsListenRequestParams
    ) -> types.SubscriptionsListenResult:
        """A 2026-07-28 change stream; the resources it names must be readable by the caller."""
        uris = params.notifications.resource_subscriptions or []
        routes = [self.federation.resource_route(current_principal(), str(uri)) for uri in uris]
        for route in routes:
            await self.clients.subscribe(ctx, route)
        try:
            return await self._listen(ctx, params)
        finally:
            with anyio.CancelScope(shield=True):  # the stream ends by the client going away
                for route in routes:
                    await self.clients.unsubscribe(ctx, route)

    def handlers(self) -> dict[str, Any]:
        """The low-level ``Server``'s keyword arguments for these handlers."""
        return {
            "on_list_resources": self.list_resources,
            "on_list_resource_templates": self.list_resource_templates,
            "on_read_resource": self.read_resource,
            "on_subscribe_resource": self.subscribe,
            "on_unsubscribe_resource": self.unsubscribe,
            "on_list_prompts": self.list_prompts,
            "on_get_prompt": self.get_prompt,
            "on_completion": self.complete,
            "on_set_logging_level": self.set_logging_level,
            "on_subscriptions_listen": self.listen,
        }
