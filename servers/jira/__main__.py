"""`python -m servers.jira` (stdio) or `python -m servers.jira --http 8000` (Streamable HTTP at /mcp)."""

from servers._runner import main

from . import Settings, build_server

if __name__ == "__main__":
    main(build_server, Settings, prog="python -m servers.jira")
