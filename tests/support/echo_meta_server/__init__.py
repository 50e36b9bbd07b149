"""A test upstream whose tool reports the `_meta` the portal sent with the call."""

from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "build_server"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ECHO_META_", extra="ignore")


def build_server(settings: Settings) -> MCPServer:
    server = MCPServer(name="echo-meta")

    @server.tool()
    def whoami(ctx: Context) -> dict[str, Any]:
        """The request's _meta as the server received it."""
        meta = ctx.request_context.meta
        if meta is None:
            return {}
        items = meta.items() if hasattr(meta, "items") else meta.model_dump(by_alias=True).items()
        return {str(k): v for k, v in items if isinstance(v, str | int | float | bool)}

    return server
