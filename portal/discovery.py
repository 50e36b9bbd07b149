"""Client discovery: what an MCP client needs to connect, served by the portal itself.

``/.well-known/mcp-portal`` gives the MCP URL, the OAuth metadata URLs and a
ready-made configuration for each common client; ``/.well-known/opencode`` is
the document ``opencode auth login <portal>`` reads (an ``auth`` command and a
``config`` merged into OpenCode's own). Nothing here is secret: clients log in
with OAuth (dynamic registration, PKCE) on first use, so no document carries a
token, and both endpoints answer without auth.
"""

from __future__ import annotations

from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from portal import __version__
from portal.config import PortalConfig

__all__ = [
    "CLIENTS",
    "DISCOVERY_PATH",
    "OPENCODE_PATH",
    "SERVER_NAME",
    "client_config",
    "discovery_document",
    "discovery_routes",
    "opencode_document",
]

DISCOVERY_PATH: Final = "/.well-known/mcp-portal"
OPENCODE_PATH: Final = "/.well-known/opencode"
SERVER_NAME: Final = "portal"  # the key each client's config file holds the portal under
OPENCODE_SCHEMA: Final = "https://opencode.ai/config.json"
# OpenCode's `auth login <url>` runs auth.command and keeps its output under auth.env for `{env:...}`
# substitution in the config. The portal's MCP login is OAuth, which OpenCode does by itself on first
# use (config.mcp.portal.oauth), so the command only confirms that; the value is referenced nowhere.
OPENCODE_AUTH_ENV: Final = "MCP_PORTAL_LOGIN"
CLIENTS: Final = ("claude-code", "cursor", "vscode", "opencode", "mcp-remote")


def _urls(base: str) -> dict[str, str]:
    return {
        "mcp_url": f"{base}/mcp",
        "authorization_server_metadata": f"{base}/.well-known/oauth-authorization-server",
        "protected_resource_metadata": f"{base}/.well-known/oauth-protected-resource/mcp",
        "jwks_uri": f"{base}/.well-known/jwks.json",
    }


def client_config(client: str, mcp_url: str, name: str = SERVER_NAME) -> dict[str, Any]:
    """The JSON block a client's config file holds for the portal (merged under its own key)."""
    if client == "claude-code":  # ~/.claude.json, as `claude mcp add --scope user --transport http` writes
        return {"mcpServers": {name: {"type": "http", "url": mcp_url}}}
    if client == "cursor":  # ~/.cursor/mcp.json
        return {"mcpServers": {name: {"url": mcp_url}}}
    if client == "vscode":  # the user's mcp.json
        return {"servers": {name: {"type": "http", "url": mcp_url}}}
    if client == "opencode":  # opencode.json; `oauth: {}` makes OpenCode register and log in by itself
        return {"$schema": OPENCODE_SCHEMA, "mcp": {name: {"type": "remote", "url": mcp_url, "oauth": {}}}}
    if client == "mcp-remote":  # any stdio-only client (Claude Desktop and others) through mcp-remote
        return {"mcpServers": {name: {"command": "npx", "args": ["-y", "mcp-remote", mcp_url]}}}
    raise ValueError(f"unknown client {client!r}: use one of {', '.join(CLIENTS)}")


def _commands(base: str, mcp_url: str) -> dict[str, str]:
    return {
        "claude-code": f"claude mcp add --scope user --transport http {SERVER_NAME} {mcp_url}",
        "cursor": "portal connect cursor --write",
        "vscode": "portal connect vscode --write",
        "opencode": f"opencode auth login {base}",
        "mcp-remote": f"npx -y mcp-remote {mcp_url}",
    }


def discovery_document(config: PortalConfig) -> dict[str, Any]:
    """Everything a client or a person needs to connect, for ``/.well-known/mcp-portal``."""
    base = config.base_url()
    urls = _urls(base)
    commands = _commands(base, urls["mcp_url"])
    return {
        "name": "MCP portal",
        "version": __version__,
        "server_name": SERVER_NAME,
        **urls,
        "opencode_well_known": f"{base}{OPENCODE_PATH}",
        "login": "OAuth 2.1 with dynamic client registration and PKCE; the client opens a browser once",
        "clients": {
            client: {"command": commands[client], "config": client_config(client, urls["mcp_url"])}
            for client in CLIENTS
        },
    }


def opencode_document(config: PortalConfig) -> dict[str, Any]:
    """The ``/.well-known/opencode`` document: ``auth`` for ``opencode auth login``, ``config`` to merge."""
    mcp_url = f"{config.base_url()}/mcp"
    config_block = client_config("opencode", mcp_url)
    return {
        "auth": {
            "command": ["echo", "the portal logs in with OAuth when OpenCode first connects"],
            "env": OPENCODE_AUTH_ENV,
        },
        "config": config_block,
    }


def discovery_routes(config: PortalConfig) -> list[Route]:
    """Both documents, public and cacheable for a few minutes (they change only with the config)."""
    portal_doc, opencode_doc = discovery_document(config), opencode_document(config)
    headers = {"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"}

    async def portal(_: Request) -> Response:
        return JSONResponse(portal_doc, headers=headers)

    async def opencode(_: Request) -> Response:
        return JSONResponse(opencode_doc, headers=headers)

    return [Route(DISCOVERY_PATH, portal, methods=["GET"]), Route(OPENCODE_PATH, opencode, methods=["GET"])]
