"""The conformance fixture: the tools, resources and prompts the official suite's server scenarios expect.

Written from the expected values in ``@modelcontextprotocol/conformance``'s own
scenario sources (its ``dist/index.js``: each scenario's "Server Implementation
Requirements"), on the SDK's low-level ``Server``. It is a plain MCP server:
the suite runs against it directly, and the portal serves it as an upstream
(tests/e2e/test_conformance.py). Run it with ``python -m conformance_fixture``
(stdio) or ``python -m conformance_fixture --port N`` (Streamable HTTP on 127.0.0.1).
"""

from conformance_fixture.server import Settings, build_server

__all__ = ["Settings", "build_server"]
