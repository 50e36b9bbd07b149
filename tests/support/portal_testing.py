"""Start ``portal serve`` as a real uvicorn process on 127.0.0.1 and talk MCP to it.

The servers behind it are configured as in production, a URL and a token in their settings:
``demo_servers("gitlab")`` starts the demo's fakes for a block and yields those entries.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import httpx2
import yaml
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from demo.backends import demo_config, demo_servers, running_backends, server_entry
from portal.config import load_config
from portal.identity import Identities
from portal.oauth import mint_dev_token
from portal.store import open_store
from portal.store.database import sqlite_url

__all__ = [
    "RunningPortal",
    "demo_config",
    "demo_servers",
    "free_port",
    "mcp_session",
    "running_backends",
    "running_portal",
    "server_entry",
]

STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class RunningPortal:
    base_url: str
    state_dir: Path
    log: Path
    config_path: Path

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    @property
    def mcp_url(self) -> str:
        return f"{self.base_url}/mcp"

    def user_id(self, email: str) -> str:
        """The portal's anonymous id for ``email`` (its SQLite store is shared with the test)."""
        store = open_store(sqlite_url(self.state_dir))
        try:
            return Identities(store).user_id_sync(email)
        finally:
            store.close()

    def token(self, user: str = "dev@example.com", groups: tuple[str, ...] = (), ttl: int = 600) -> str:
        """A development token (``portal token``) for ``user``; the portal must be in auth mode dev."""
        return mint_dev_token(load_config(self.config_path), user, list(groups), ttl)

    def health(self) -> dict:
        return httpx.get(f"{self.base_url}/healthz", timeout=10).json()


@contextmanager
def running_portal(tmp_path: Path, config: dict, port: int | None = None) -> Iterator[RunningPortal]:
    """Write the config, start the portal, wait for /healthz, stop it afterwards."""
    port = port or free_port()
    state_dir = tmp_path / "state"
    config = {**config, "host": "127.0.0.1", "port": port, "state_dir": str(state_dir)}
    config_path = tmp_path / "portal.yaml"
    config_path.write_text(yaml.safe_dump(config))
    log = tmp_path / "portal.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "portal.cli", "serve", "--config", str(config_path)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=tmp_path,
        )
    portal = RunningPortal(f"http://127.0.0.1:{port}", state_dir, log, config_path)
    try:
        _wait_until_healthy(portal, process)
        yield portal
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_healthy(portal: RunningPortal, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"portal exited with {process.returncode}:\n{portal.log.read_text()}")
        try:
            if httpx.get(f"{portal.base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # polling a child process that has no readiness event; bounded by the deadline
    raise TimeoutError(f"portal not healthy after {STARTUP_SECONDS} s:\n{portal.log.read_text()}")


@asynccontextmanager
async def mcp_session(portal: RunningPortal, token: str | None = None) -> AsyncIterator[Client]:
    """An official MCP client over Streamable HTTP with a bearer token."""
    headers = {"Authorization": f"Bearer {token or portal.token()}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(60.0)) as http,
        Client(streamable_http_client(portal.mcp_url, http_client=http)) as client,
    ):
        yield client
