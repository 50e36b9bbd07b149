"""``python -m conformance_fixture [--port N]``: stdio, or Streamable HTTP on 127.0.0.1:N."""

from __future__ import annotations

import argparse
import warnings

import anyio
import uvicorn
from mcp.server.stdio import stdio_server

from conformance_fixture.events import MemoryEventStore
from conformance_fixture.server import build_server


async def _stdio() -> None:
    server = build_server()
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def main() -> None:
    warnings.simplefilter("ignore")  # the SDK flags logging and sampling as deprecated in 2026-07-28
    parser = argparse.ArgumentParser(prog="conformance_fixture")
    parser.add_argument("--port", type=int, default=None, help="serve Streamable HTTP on 127.0.0.1")
    args = parser.parse_args()
    if args.port is None:
        anyio.run(_stdio)
        return
    app = build_server().streamable_http_app(
        event_store=MemoryEventStore(), retry_interval=100, host="127.0.0.1"
    )
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
