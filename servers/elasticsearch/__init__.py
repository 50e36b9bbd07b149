"""Elasticsearch MCP server on the official `elasticsearch` client: search, count, aggregate, inspect."""

from .server import build_server
from .settings import Settings

__all__ = ["Settings", "build_server"]
