"""GitLab MCP server on python-gitlab: projects, merge requests, pipelines, files, commits, issues."""

from .server import build_server
from .settings import Settings

__all__ = ["Settings", "build_server"]
