"""`make run` (python -m demo): the fakes start, the portal serves against their URLs, and stops cleanly."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml
from portal_testing import free_port

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 60


def wait_until_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> dict:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the demo exited with {process.returncode}:\n{log.read_text()}")
        try:
            return httpx.get(f"{url}/healthz", timeout=2).raise_for_status().json()
        except httpx.HTTPError:
            time.sleep(0.1)  # a child process with no readiness event; bounded by the deadline
    raise TimeoutError(f"the demo was not healthy after {STARTUP_SECONDS} s:\n{log.read_text()}")


def test_the_launcher_serves_the_portal_against_fakes_configured_by_url_and_removes_its_config(
    tmp_path: Path,
) -> None:
    port, state, log = free_port(), tmp_path / "state", tmp_path / "demo.log"
    command = [sys.executable, "-m", "demo", "--port", str(port), "--state-dir", str(state)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", process, log)
        config = yaml.safe_load((state / "demo.yaml").read_text())
        servers = {s["namespace"]: s["transport"] for s in config["servers"]}
        assert {"gitlab", "jira", "sentry", "elasticsearch", "backstage"} <= set(servers)
        for name, transport in servers.items():
            assert transport["type"] == "module" and transport["module"] == f"servers.{name}"
            assert transport["settings"]["url"].startswith("http://127.0.0.1:")
            assert set(transport) == {"type", "module", "settings"}
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert not (state / "demo.yaml").exists()
