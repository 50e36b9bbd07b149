"""Prometheus MCP server on the HTTP API (httpx): PromQL queries, alerts, targets, metric and label names."""

from .server import build_server
from .settings import Settings

__all__ = ["Settings", "build_server"]
