"""The portal's own MCP server: two Code Mode tools, or every upstream tool in direct mode.

Built on the SDK's low-level `Server` because the tool list is dynamic. Bad
arguments become tool errors the model can read; nothing raises to the client
as a stack trace.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from typing import Any, Literal

import mcp_types as types
from mcp.server.lowlevel import NotificationOptions, Server
from mcp.server.models import InitializationOptions
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from portal import __version__
from portal.auth import current_principal
from portal.bridge import error_text
from portal.catalog import Catalog, CatalogEntry
from portal.codemode import (
    EXECUTE_DESCRIPTION,
    EXECUTE_INPUT_SCHEMA,
    EXECUTE_TOOL,
    MAX_QUERY_CHARS,
    MAX_SEARCH_LIMIT,
    SEARCH_DESCRIPTION,
    SEARCH_INPUT_SCHEMA,
    SEARCH_TOOL,
    CodeMode,
)
from portal.federation import Federation
from portal.identity import USER_META_KEY
from portal.naming import direct_name
from portal.notifications import ConnectedClients
from portal.progress import RequestSink
from portal.protocol_handlers import ProtocolHandlers
from portal.registry import Registry, UpstreamError
from portal.relay import calling_as
from portal.tracing import describe_execution, execute_span

__all__ = ["build_mcp_server", "codemode_tools", "direct_name"]

logger = logging.getLogger(__name__)


class _SearchArguments(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    limit: int = Field(default=10, ge=1, le=MAX_SEARCH_LIMIT)
    detail: Literal["brief", "full"] = "brief"


class _ExecuteArguments(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1)


def codemode_tools() -> list[types.Tool]:
    return [
        types.Tool(
            name=SEARCH_TOOL,
            title="Search tools",
            description=SEARCH_DESCRIPTION,
            input_schema=SEARCH_INPUT_SCHEMA,
            annotations=types.ToolAnnotations(read_only_hint=True, open_world_hint=False),
        ),
        types.Tool(
            name=EXECUTE_TOOL,
            title="Run Python against the tools",
            description=EXECUTE_DESCRIPTION,
            input_schema=EXECUTE_INPUT_SCHEMA,
            annotations=types.ToolAnnotations(
                read_only_hint=False, destructive_hint=True, open_world_hint=True
            ),
        ),
    ]


def _text_result(text: str, is_error: bool = False) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=is_error)


def _bad_arguments(tool: str, exc: ValidationError) -> types.CallToolResult:
    problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in exc.errors())
    return _text_result(f"Invalid arguments for {tool}: {problems}", is_error=True)


class _Handlers:
    def __init__(
        self,
        codemode_enabled: bool,
        registry: Registry,
        catalog: Catalog,
        codemode: CodeMode,
        prefixes: Mapping[str, str],
        clients: ConnectedClients,
    ) -> None:
        self.codemode_enabled = codemode_enabled
        self.registry = registry
        self.catalog = catalog
        self.codemode = codemode
        self.prefixes = prefixes  # namespace -> direct-mode tool prefix (portal/config.py tool_prefix)
        self.clients = clients

    def _direct_name(self, entry: CatalogEntry) -> str:
        return direct_name(entry.namespace, entry.python_name, self.prefixes.get(entry.namespace))

    async def list_tools(
        self, ctx: Any, params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        self.clients.remember(ctx)  # so it hears tools/list_changed
        if self.codemode_enabled:
            return types.ListToolsResult(tools=codemode_tools())
        principal = current_principal()  # only the tools this caller may use, as for search
        return types.ListToolsResult(
            tools=[
                self._direct_tool(entry)
                for entry in self.catalog.entries()
                if self.codemode.may_use(principal, entry)
            ]
        )

    def _direct_tool(self, entry: CatalogEntry) -> types.Tool:
        """The upstream tool under its direct-mode name; arguments keep the upstream's property names,
        and everything else (title, outputSchema, annotations, icons, _meta) passes as it is."""
        return entry.tool.model_copy(update={"name": self._direct_name(entry)})

    async def call_tool(self, ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        arguments = params.arguments or {}
        self.clients.remember(ctx)
        if self.codemode_enabled:
            if params.name == SEARCH_TOOL:
                return self._search(arguments)
            if params.name == EXECUTE_TOOL:
                limit = self.codemode.limits(current_principal()).max_tool_calls
                with calling_as(RequestSink(ctx, self.clients, call_limit=limit)):  # portal/progress.py
                    return await self._execute(arguments)
            return _text_result(f"Unknown tool {params.name!r}: use {SEARCH_TOOL} and {EXECUTE_TOOL}.", True)
        with calling_as(RequestSink(ctx, self.clients)):  # upstream logs, progress, questions: to this caller
            return await self._call_direct(params.name, arguments)

    def _search(self, arguments: dict[str, Any]) -> types.CallToolResult:
        try:
            parsed = _SearchArguments.model_validate(arguments)
        except ValidationError as exc:
            return _bad_arguments(SEARCH_TOOL, exc)
        return _text_result(
            self.codemode.search_text(parsed.query, parsed.limit, current_principal(), parsed.detail)
        )

    async def _execute(self, arguments: dict[str, Any]) -> types.CallToolResult:
        try:
            parsed = _ExecuteArguments.model_validate(arguments)
        except ValidationError as exc:
            return _bad_arguments(EXECUTE_TOOL, exc)
        principal = current_principal()
        with execute_span(self.codemode.user_id(principal), parsed.code) as span:  # portal/tracing.py
            outcome = await self.codemode.execute(parsed.code, principal)
            describe_execution(span, outcome.result)
        return _text_result(outcome.text, outcome.is_error)

    async def _call_direct(self, name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        entry = next((e for e in self.catalog.entries() if self._direct_name(e) == name), None)
        principal = current_principal()
        if entry is None or not self.codemode.may_use(principal, entry):
            return _text_result(f"Unknown tool {name!r}.", is_error=True)
        try:
            user_id = self.codemode.user_id(principal)
            result = await self.registry.call(
                entry.namespace, entry.tool.name, arguments, {USER_META_KEY: user_id}
            )
        except UpstreamError as exc:
            return _text_result(str(exc), is_error=True)
        if result.is_error:
            return _text_result(error_text(result), is_error=True)
        return result


class _PortalServer(Server[Any]):
    """Announces listChanged for tools, resources and prompts: upstreams change, and the portal relays it."""

    def create_initialization_options(
        self,
        notification_options: NotificationOptions | None = None,
        experimental_capabilities: dict[str, dict[str, Any]] | None = None,
        extensions: dict[str, dict[str, Any]] | None = None,
    ) -> InitializationOptions:
        changes = NotificationOptions(prompts_changed=True, resources_changed=True, tools_changed=True)
        return super().create_initialization_options(
            notification_options or changes, experimental_capabilities, extensions
        )


def build_mcp_server(
    codemode_enabled: bool,
    registry: Registry,
    catalog: Catalog,
    codemode: CodeMode,
    tool_prefixes: Mapping[str, str] | None = None,
) -> Server[Any]:
    """``tool_prefixes``: namespace -> direct-mode prefix (`ServerConfig.direct_prefix`); default ``ns_``."""
    prefixes = dict(tool_prefixes or {})
    federation = Federation(registry, prefixes, codemode.permissions)
    codemode.resource_reader = federation.read  # resources.read(uri=...) in the sandbox
    clients = ConnectedClients(registry, federation)
    handlers = _Handlers(codemode_enabled, registry, catalog, codemode, prefixes, clients)
    protocol = ProtocolHandlers(federation, clients)
    with warnings.catch_warnings():  # logging/setLevel: deprecated in 2026-07-28, served to the others
        warnings.simplefilter("ignore")
        return _build(codemode_enabled, handlers, protocol)


def _build(codemode_enabled: bool, handlers: _Handlers, protocol: ProtocolHandlers) -> Server[Any]:
    return _PortalServer(
        "mcp-portal",
        version=__version__,
        instructions=(
            f"Find tools with {SEARCH_TOOL}, then run Python that calls them with {EXECUTE_TOOL}."
            if codemode_enabled
            else None
        ),
        on_list_tools=handlers.list_tools,
        on_call_tool=handlers.call_tool,
        **protocol.handlers(),
    )
