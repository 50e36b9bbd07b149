"""Template MCP server: wraps a small status-page API. Copy this folder to wrap a new system."""

from .server import build_server
from .settings import Settings

__all__ = ["Settings", "build_server"]
