"""The portal reports its own errors to Sentry when a DSN is configured (sentry-sdk)."""

from __future__ import annotations

import gzip
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from portal_testing import running_portal


class _Ingest(BaseHTTPRequestHandler):
    received: list[bytes] = []
    arrived = threading.Event()

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        type(self).received.append(body)
        type(self).arrived.set()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def sentry_ingest() -> Iterator[tuple[int, type[_Ingest]]]:
    handler = type("Ingest", (_Ingest,), {"received": [], "arrived": threading.Event()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], handler
    finally:
        server.shutdown()


def test_an_upstream_that_cannot_start_is_reported_to_sentry(
    tmp_path: Path, sentry_ingest: tuple[int, type[_Ingest]]
) -> None:
    port, ingest = sentry_ingest
    config = {
        "error_reporting": {"sentry_dsn": f"http://public@127.0.0.1:{port}/7", "environment": "test"},
        "servers": [{"namespace": "ops", "transport": {"type": "stdio", "command": "/nonexistent/server"}}],
    }
    with running_portal(tmp_path, config):
        assert ingest.arrived.wait(timeout=30), "no event reached the Sentry endpoint"
    events = b"\n".join(ingest.received)
    assert b"upstream ops unavailable" in events
    assert b'"environment":"test"' in events
