"""Jira MCP server on the `jira` library: JQL search, issues, comments, transitions, assignment, projects."""

from .server import build_server
from .settings import Settings

__all__ = ["Settings", "build_server"]
