"""A real ``portal serve`` process for the benchmarks: started on a free port, healthy, then stopped."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from portal.config import load_config
from portal.oauth import mint_dev_token

__all__ = ["ServedPortal", "served_portal"]

STARTUP_SECONDS = 90


@dataclass(frozen=True)
class ServedPortal:
    url: str
    state_dir: Path
    config_path: Path
    process: subprocess.Popen[bytes]
    log: Path

    def token(self, user: str = "bench@example.com") -> str:
        return mint_dev_token(load_config(self.config_path), user, [], 3600)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served_portal(workdir: Path, config: dict[str, Any]) -> Iterator[ServedPortal]:
    """Serve ``config`` (host, port and state folder filled in); stop that process, and only it, on exit."""
    port, state_dir = _free_port(), workdir / "state"
    config = {**config, "host": "127.0.0.1", "port": port, "state_dir": str(state_dir)}
    config_path = workdir / "portal.yaml"
    config_path.write_text(yaml.safe_dump(config))
    log = workdir / "portal.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "portal.cli", "serve", "--config", str(config_path)],
            stdout=log_file, stderr=subprocess.STDOUT, env=env, cwd=workdir,
        )  # fmt: skip
    portal = ServedPortal(f"http://127.0.0.1:{port}", state_dir, config_path, process, log)
    try:
        _wait_healthy(portal)
        yield portal
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_healthy(portal: ServedPortal) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if portal.process.poll() is not None:
            raise RuntimeError(f"portal exited with {portal.process.returncode}:\n{portal.log.read_text()}")
        try:
            if httpx.get(f"{portal.url}/healthz", timeout=2).json().get("status") == "ok":
                return
        except (httpx.TransportError, ValueError):
            pass
        time.sleep(0.1)  # polling a child process that has no readiness event; bounded by the deadline
    raise TimeoutError(f"portal not healthy after {STARTUP_SECONDS} s:\n{portal.log.read_text()}")
