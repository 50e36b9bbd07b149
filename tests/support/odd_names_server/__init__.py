"""A test upstream whose tool and parameter names are not Python identifiers, as many real ones.

Each tool answers with its own MCP name and the arguments exactly as they arrived,
so a test can see what the portal sent upstream. Importable as a module transport.
"""

from __future__ import annotations

from typing import Any

import mcp_types as types
from mcp.server.lowlevel import Server
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["TOOL_NAMES", "Settings", "build_server"]

_PARAMETERS = {
    "type": "object",
    "properties": {
        "user-id": {"type": "string", "description": "Whose objects."},
        "$filter": {"type": "string", "description": "An OData filter."},
        "class": {"type": "string"},
        "user_id": {"type": "integer", "description": "Collides with user-id once mapped."},
    },
    "required": ["user-id"],
}
TOOL_NAMES = ["API-get-self", "list-objects", "list.objects", "list_objects", "class", "2fa-verify", "café"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ODD_NAMES_", extra="ignore")


def _tool(name: str) -> types.Tool:
    return types.Tool(
        name=name,
        description=f"Answer as {name}.\nError Responses:\n400: Bad request",
        input_schema=_PARAMETERS,
        annotations=types.ToolAnnotations(read_only_hint=True),
    )


def build_server(settings: Settings) -> Server[Any]:
    async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[_tool(name) for name in TOOL_NAMES])

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        received = {"tool": params.name, "arguments": dict(params.arguments or {})}
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=str(received))], structured_content=received
        )

    return Server("odd-names", on_list_tools=list_tools, on_call_tool=call_tool)
