"""Start and stop the parts of a local cluster, and write ``cluster.json`` describing them.

Every part is a child process on 127.0.0.1 with its state under one folder
(``.portal-cluster/`` by default): PostgreSQL, the replicas (``portal serve
--config <folder>/portal.yaml --port P``, named r1..rN through
``PORTAL_REPLICA_ID``), nginx. All replicas share one config file: one
database (so one set of signing keys, one audit trail, shared limits) and one
``public_url``, nginx's, which is the audience of every token.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from deploy.nginx import start_nginx
from deploy.postgres import Postgres

__all__ = ["Cluster", "ClusterSpec", "Replica"]

ROOT = Path(__file__).resolve().parents[1]  # where `python -m deploy.fakes` finds demo/

START_SECONDS = 120.0  # a replica connects its upstream servers before it is ready
STOP_SECONDS = 40.0  # a replica drains for at most drain_seconds (the config below) first
DEMO_SERVERS = ("gitlab", "jira", "sentry", "elasticsearch", "backstage", "prometheus")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class ClusterSpec:
    folder: Path
    replicas: int = 3
    port: int = 0  # nginx's; 0 picks a free one
    servers: tuple[str, ...] = DEMO_SERVERS  # demo servers each replica runs
    executions: dict[str, Any] = field(default_factory=dict)  # the portal's `executions` limits
    drain_seconds: float = 20.0


@dataclass
class Replica:
    name: str
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None


class Cluster:
    """`start`, then `stop` (idempotent); replicas can be killed and restarted one by one meanwhile."""

    def __init__(self, spec: ClusterSpec) -> None:
        self.spec = spec
        self.folder = spec.folder.resolve()
        self.port = spec.port or free_port()
        self.postgres = Postgres(self.folder / "postgres", free_port())
        self.replicas = [Replica(f"r{i + 1}", free_port()) for i in range(spec.replicas)]
        self.nginx: subprocess.Popen[bytes] | None = None
        self.fakes: subprocess.Popen[bytes] | None = None
        self._servers: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.folder / "portal.yaml"

    def start(self) -> None:
        if (self.folder / "cluster.json").exists():
            raise RuntimeError(f"{self.folder} holds a running cluster: stop it first (make cluster-down)")
        (self.folder / "logs").mkdir(parents=True, exist_ok=True)
        self.postgres.create()
        self._servers = self._start_fakes()
        self.config_path.write_text(yaml.safe_dump(self._portal_config(), sort_keys=False))
        for replica in self.replicas:
            self.start_replica(replica, wait=False)
        for replica in self.replicas:
            self.wait_ready(replica)
        self.nginx = start_nginx(self.folder / "nginx", self.port, [(r.name, r.port) for r in self.replicas])
        self._wait(f"{self.url}/readyz", self.nginx, self.folder / "nginx" / "error.log")
        self.write_description()

    def _portal_config(self) -> dict[str, Any]:
        return {
            "host": "127.0.0.1",
            "public_url": self.url,  # every replica's tokens are for nginx's URL
            "state_dir": str(self.folder / "state"),
            "database_url": self.postgres.url,
            "drain_seconds": self.spec.drain_seconds,
            "auth": {"mode": "dev"},
            "executions": self.spec.executions or {"per_minute": 120, "in_flight": 4},
            "servers": self._servers,
        }

    def _start_fakes(self) -> list[dict[str, Any]]:
        """The demo's fakes for the configured servers, in their own process; their ``servers`` entries."""
        log = (self.folder / "logs" / "fakes.log").open("ab")
        self.fakes = subprocess.Popen(
            [sys.executable, "-m", "deploy.fakes", *self.spec.servers],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            cwd=ROOT,
            start_new_session=True,
        )
        line = self.fakes.stdout.readline() if self.fakes.stdout else b""
        if not line:
            raise RuntimeError(f"the demo's fakes did not start; see {self.folder / 'logs' / 'fakes.log'}")
        servers: list[dict[str, Any]] = json.loads(line)
        return servers

    def start_replica(self, replica: Replica, wait: bool = True) -> None:
        if replica.process is not None and replica.process.poll() is None:
            return  # still running: a second one could not bind the port, and would orphan the first
        env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
        env["PORTAL_REPLICA_ID"] = replica.name
        log = (self.folder / "logs" / f"{replica.name}.log").open("ab")
        command = [sys.executable, "-m", "portal.cli", "serve", "--config", str(self.config_path)]
        replica.process = subprocess.Popen(
            [*command, "--port", str(replica.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
            start_new_session=True,  # Ctrl-C reaches the launcher, which stops the replicas in order
        )
        if wait:
            self.wait_ready(replica)
        if (self.folder / "cluster.json").exists():
            self.write_description()  # a restarted replica has a new pid

    def wait_ready(self, replica: Replica) -> None:
        self._wait(f"{replica.url}/readyz", replica.process, self.folder / "logs" / f"{replica.name}.log")

    def _wait(self, url: str, process: subprocess.Popen[bytes] | None, log: Path) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"{url} exited with {process.returncode}; see {log}")
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)  # a child process without a readiness event; bounded by the deadline
        raise TimeoutError(f"{url} not ready after {START_SECONDS:.0f} s; see {log}")

    def kill_replica(self, replica: Replica) -> None:
        """``kill -9``: no drain, no goodbye; its sessions and in-flight requests die with it."""
        if replica.process and replica.process.poll() is None:
            os.killpg(replica.process.pid, signal.SIGKILL)  # the replica and its sandbox workers
            replica.process.wait()

    def stop_replica(self, replica: Replica) -> None:
        """SIGTERM: the replica drains its requests in flight, then exits."""
        process = replica.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop(self) -> None:
        """Stop nginx, then the replicas (draining), then PostgreSQL; forget cluster.json."""
        if self.nginx and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGQUIT)  # nginx's graceful stop
            try:
                self.nginx.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
                self.nginx.wait()
        for replica in self.replicas:
            self.stop_replica(replica)
        if self.postgres.data.exists():
            self.postgres.stop()
        if self.postgres.temporary:
            shutil.rmtree(self.postgres.folder, ignore_errors=True)
        if self.fakes and self.fakes.poll() is None:
            self.fakes.terminate()
            self.fakes.wait(timeout=15)
        (self.folder / "cluster.json").unlink(missing_ok=True)

    def description(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "mcp_url": f"{self.url}/mcp",
            "config": str(self.config_path),
            "database_url": self.postgres.url,
            "launcher_pid": os.getpid(),
            "nginx": {"pid": self.nginx.pid if self.nginx else None, "port": self.port},
            "postgres": {
                "pid": self.postgres.pid(),
                "port": self.postgres.port,
                "data": str(self.postgres.data),
            },
            "replicas": [{"name": r.name, "pid": r.pid, "port": r.port} for r in self.replicas],
        }

    def write_description(self) -> None:
        path = self.folder / "cluster.json"
        path.write_text(json.dumps(self.description(), indent=2) + "\n")
