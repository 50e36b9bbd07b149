"""Not a fake: starts a REAL Prometheus (Debian package `prometheus`) for tests and local runs.

Prometheus runs fine on these machines, so the tests talk to the real thing:
real PromQL errors, real alert and target payloads. Each `start()` gets a
fresh temp dir holding a generated prometheus.yml (1 s scrape and evaluation
intervals; Prometheus scraping itself plus any `scrape_targets` under job
`job_name`), a rules file, and the TSDB. `start()` returns once Prometheus
answers /-/ready, every target has been scraped once and the AlwaysFiring
alert fires (about 6 s: Prometheus applies its first target set after 5 s).

Seeded rules (group `acme-shop`): AlwaysFiring (`up{job="prometheus"} == 1`,
for 0s, severity info: firing), AlwaysPending (`vector(1)`, for 1h, severity
warning: pending forever), recording rule `job:up:sum` (`sum by (job) (up)`).

Error classes a real Prometheus cannot produce (401, 429, 5xx, malformed JSON,
slow answers) are served by a small misbehaving HTTP server in the tests.

    python -m demo.prometheus.fake --port 9090 [--scrape-target 127.0.0.1:8000 ...]
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

__all__ = ["BINARY", "DEBIAN_PACKAGE", "PrometheusNotInstalled", "RunningPrometheus", "start"]

BINARY = "/usr/bin/prometheus"
DEBIAN_PACKAGE = "prometheus"
READY_TIMEOUT = 30.0  # seconds; the first scrape alone takes about 5
POLL_INTERVAL = 0.05
PORT_ATTEMPTS = 3

RULES: dict[str, Any] = {
    "groups": [
        {
            "name": "acme-shop",
            "rules": [
                {
                    "alert": "AlwaysFiring",
                    "expr": 'up{job="prometheus"} == 1',
                    "for": "0s",
                    "labels": {"severity": "info"},
                    "annotations": {"summary": "Acme Shop test alert: Prometheus is up and scraping itself"},
                },
                {
                    "alert": "AlwaysPending",
                    "expr": "vector(1)",
                    "for": "1h",
                    "labels": {"severity": "warning"},
                    "annotations": {"summary": "Acme Shop test alert that stays pending for an hour"},
                },
                {"record": "job:up:sum", "expr": "sum by (job) (up)"},
            ],
        }
    ]
}


class PrometheusNotInstalled(RuntimeError):
    """No Prometheus binary; the message says which Debian package provides it."""


class _PortTaken(Exception):
    """The port picked as free was taken before Prometheus bound it."""


@dataclass
class RunningPrometheus:
    """A real Prometheus on `url`; `settings` point a server's Settings at it (no token: none needed)."""

    url: str
    settings: dict[str, str]
    workdir: Path
    _process: subprocess.Popen[bytes] = field(repr=False)

    def stop(self) -> None:
        """Terminate Prometheus (kill it after 10 s) and delete its temp dir. Safe to call twice."""
        atexit.unregister(self.stop)
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join((self.workdir / "prometheus.log").read_text().splitlines()[-lines:])
        return ""

    def __enter__(self) -> RunningPrometheus:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    scrape_targets: Sequence[str] = (),
    job_name: str = "portal",
    wait_for_scrape: bool = True,
    scrape_bearer_token: str | None = None,
    scrape_interval_seconds: int = 1,  # tests want fresh samples at once; the demo asks for 15
    binary: str = BINARY,
    ready_timeout: float = READY_TIMEOUT,
) -> RunningPrometheus:
    """Start Prometheus on host:port (0: a free port) and wait until it is ready to answer tests.

    With `wait_for_scrape=False` it returns as soon as /-/ready answers (in well under a second),
    before any target was scraped: enough for queries like vector(1).
    """
    if not Path(binary).exists():
        raise PrometheusNotInstalled(
            f"{binary} not found: install Prometheus with `apt-get install -y {DEBIAN_PACKAGE}` "
            f"(Debian package '{DEBIAN_PACKAGE}')"
        )
    deadline = time.monotonic() + ready_timeout
    for _attempt in range(1 if port else PORT_ATTEMPTS):
        running = _launch(
            binary, host, port or _free_port(host), scrape_targets, job_name, scrape_bearer_token,
            scrape_interval_seconds,
        )  # fmt: skip
        atexit.register(running.stop)  # no orphan Prometheus if a caller forgets stop()
        try:
            _wait_until_ready(running, deadline, wait_for_scrape)
            return running
        except _PortTaken:
            running.stop()  # another process took the free port we picked: pick again
        except BaseException:
            running.stop()
            raise
    raise RuntimeError(f"Prometheus found no free port on {host} in {PORT_ATTEMPTS} attempts")


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _launch(
    binary: str, host: str, port: int, targets: Sequence[str], job_name: str, bearer_token: str | None,
    interval: int = 1,
) -> RunningPrometheus:  # fmt: skip
    workdir = Path(tempfile.mkdtemp(prefix="prometheus-"))
    address = f"{host}:{port}"
    jobs: list[dict[str, Any]] = [{"job_name": "prometheus", "static_configs": [{"targets": [address]}]}]
    if targets:
        job: dict[str, Any] = {"job_name": job_name, "static_configs": [{"targets": list(targets)}]}
        if bearer_token:  # the portal's metrics_token: Prometheus sends it as "Authorization: Bearer"
            job["authorization"] = {"type": "Bearer", "credentials": bearer_token}
        jobs.append(job)
    config = {
        "global": {
            "scrape_interval": f"{interval}s",
            "scrape_timeout": f"{min(interval, 10)}s",
            "evaluation_interval": f"{interval}s",
        },
        "rule_files": [str(workdir / "rules.yml")],
        "scrape_configs": jobs,
    }
    # JSON is valid YAML: no YAML writer needed.
    (workdir / "prometheus.yml").write_text(json.dumps(config, indent=2))
    (workdir / "rules.yml").write_text(json.dumps(RULES, indent=2))
    command = [
        binary,
        f"--config.file={workdir / 'prometheus.yml'}",
        f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address={address}",
        "--log.level=warn",
    ]
    with (workdir / "prometheus.log").open("wb") as log:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    url = f"http://{address}"
    return RunningPrometheus(url=url, settings={"url": url}, workdir=workdir, _process=process)


def _wait_until_ready(running: RunningPrometheus, deadline: float, wait_for_scrape: bool) -> None:
    checks: list[tuple[str, Callable[[httpx.Client], bool]]] = [("answer /-/ready", _ready)]
    if wait_for_scrape:
        checks += [("scrape every target once", _scraped), ("fire AlwaysFiring", _firing)]
    with httpx.Client(base_url=running.url, timeout=2) as http:
        for what, check in checks:
            while not _passes(check, http):
                if running._process.poll() is not None:
                    if "address already in use" in running.log_tail():
                        raise _PortTaken
                    raise RuntimeError(
                        f"Prometheus exited ({running._process.returncode}):\n{running.log_tail()}"
                    )
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"Prometheus at {running.url} did not {what} in time:\n{running.log_tail()}"
                    )
                time.sleep(POLL_INTERVAL)


def _passes(check: Callable[[httpx.Client], bool], http: httpx.Client) -> bool:
    try:
        return check(http)
    except (httpx.HTTPError, ValueError, KeyError):
        return False


def _ready(http: httpx.Client) -> bool:
    return http.get("/-/ready").status_code == 200


def _scraped(http: httpx.Client) -> bool:
    """Every target scraped at least once, and Prometheus's own scrape succeeded."""
    targets = http.get("/api/v1/targets").json()["data"]["activeTargets"]
    own = [t for t in targets if t["labels"]["job"] == "prometheus"]
    return all(t["health"] != "unknown" for t in targets) and any(t["health"] == "up" for t in own)


def _firing(http: httpx.Client) -> bool:
    alerts = http.get("/api/v1/alerts").json()["data"]["alerts"]
    return any(a["labels"]["alertname"] == "AlwaysFiring" and a["state"] == "firing" for a in alerts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run a real Prometheus with the test configuration.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--scrape-target", action="append", default=[], metavar="HOST:PORT")
    args = parser.parse_args(argv)
    # SIGTERM (from a supervisor, or `kill`) unwinds like Ctrl-C, so Prometheus is stopped too.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    with start(host=args.host, port=args.port, scrape_targets=args.scrape_target) as running:
        print(f"Prometheus on {running.url}  (settings: PROMETHEUS_URL={running.url})", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            running._process.wait()


if __name__ == "__main__":
    main()
