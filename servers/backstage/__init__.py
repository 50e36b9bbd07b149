"""Backstage MCP server on the catalog REST API (httpx): entities, owners, dependencies, API definitions."""

from .server import build_server
from .settings import Settings

__all__ = ["Settings", "build_server"]
