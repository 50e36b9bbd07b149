"""Sentry MCP server on Sentry's REST API (httpx): projects, issues, events with stack traces, releases."""

from .server import build_server
from .settings import Settings

__all__ = ["Settings", "build_server"]
