"""`python -m odd_names_server`: serve over stdio."""

import anyio
from mcp.server.stdio import stdio_server

from odd_names_server import Settings, build_server


async def main() -> None:
    server = build_server(Settings())
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


if __name__ == "__main__":
    anyio.run(main)
