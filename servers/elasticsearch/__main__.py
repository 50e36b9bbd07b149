"""`python -m servers.elasticsearch` (stdio) or `... --http 8000` (Streamable HTTP at /mcp)."""

from servers._runner import main

from . import Settings, build_server

if __name__ == "__main__":
    main(build_server, Settings, prog="python -m servers.elasticsearch")
