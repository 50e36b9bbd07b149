"""The MCP portal: one MCP endpoint with Code Mode over a registry of MCP servers."""

__version__ = "0.1.0"
