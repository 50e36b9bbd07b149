"""A test upstream like most third-party servers: its tools publish no outputSchema.

`list_tickets` answers JSON text whose items do not all have the same keys, and
`owners` answers an object keyed by e-mail addresses (data, not field names).
"""

import json

from mcp.server.mcpserver import MCPServer
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["SECRET_TITLE", "Settings", "build_server"]

SECRET_TITLE = "payroll export leaks salaries"  # a value that must never be stored as a shape


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="UNTYPED_", extra="ignore")


def build_server(settings: Settings) -> MCPServer:
    server = MCPServer(name="untyped")

    @server.tool(structured_output=False)
    def list_tickets(project: str) -> str:
        """List a project's tickets as JSON text."""
        tickets = [
            {"id": 1, "title": SECRET_TITLE, "author": {"login": "ann", "id": 7}},
            {"id": 2, "title": f"{project} is slow", "author": {"login": "bob", "id": 8}, "tags": ["perf"]},
        ]
        return json.dumps(tickets)

    @server.tool(structured_output=False)
    def owners() -> str:
        """Who owns what, keyed by e-mail address, as JSON text."""
        return json.dumps({"ann@example.com": ["api"], "bob@example.com": ["web"]})

    return server
