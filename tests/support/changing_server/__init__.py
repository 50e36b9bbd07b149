"""A tiny MCP server whose tool list changes at runtime, for the registry's list_changed tests.

``add_tool_now`` registers a new tool and tells the connected client through
``notifications/tools/list_changed`` (the handshake-era notification the
registry listens for). Importable as a module transport, or run over stdio
with ``python -m changing_server``.
"""

from __future__ import annotations

from mcp.server.mcpserver import Context, MCPServer
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "build_server"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHANGING_", extra="ignore")

    new_tool_name: str = "late_tool"


def build_server(settings: Settings) -> MCPServer:
    server = MCPServer("changing")

    @server.tool()
    def ping() -> str:
        """Answer pong."""
        return "pong"

    @server.tool()
    async def add_tool_now(ctx: Context) -> str:
        """Register one more tool, then announce the change to the client."""

        def late() -> str:
            """A tool that exists only after add_tool_now ran."""
            return "late"

        server.add_tool(late, name=settings.new_tool_name)
        await ctx.session.send_tool_list_changed()
        return settings.new_tool_name

    return server
