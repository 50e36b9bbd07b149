"""The shared entry point behind every `python -m servers.<name>`.

No flags: serve MCP over stdio. `--http PORT [--host H]`: serve Streamable HTTP
at `/mcp` with uvicorn. Logs go to stderr only, because in stdio mode stdout
IS the protocol channel and a stray print would corrupt it.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from typing import Any

from mcp.server.mcpserver import MCPServer
from pydantic import ValidationError
from pydantic_settings import BaseSettings

__all__ = ["main"]


def _parse(argv: list[str] | None, prog: str | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=prog, description="Serve this MCP server over stdio or HTTP.")
    parser.add_argument("--http", type=int, metavar="PORT", help="serve Streamable HTTP at /mcp on PORT")
    parser.add_argument("--host", default="127.0.0.1", help="interface for --http (default 127.0.0.1)")
    parser.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return parser.parse_args(argv)


def _load_settings(settings_cls: type[BaseSettings]) -> BaseSettings:
    """Read the environment once; on a missing or bad value, name the variable and exit."""
    try:
        return settings_cls()
    except ValidationError as exc:
        prefix = str(settings_cls.model_config.get("env_prefix", "")).upper()
        names = ", ".join(f"{prefix}{'.'.join(map(str, e['loc'])).upper()}" for e in exc.errors())
        sys.exit(f"error: set or fix the environment variable(s) {names}")


def main(
    build_server: Callable[[Any], MCPServer],
    settings_cls: type[BaseSettings],
    argv: list[str] | None = None,
    *,
    prog: str | None = None,
) -> None:
    args = _parse(argv, prog)
    logging.basicConfig(stream=sys.stderr, level=args.log_level)
    server = build_server(_load_settings(settings_cls))
    if args.http is None:
        server.run("stdio")
        return
    import uvicorn  # only the HTTP mode needs it

    app = server.streamable_http_app(streamable_http_path="/mcp", host=args.host)
    uvicorn.run(app, host=args.host, port=args.http, log_level=args.log_level.lower())
