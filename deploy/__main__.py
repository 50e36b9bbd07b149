"""``python -m deploy up|down``: what ``make cluster`` and ``make cluster-down`` run."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

from deploy.launcher import Cluster, ClusterSpec
from deploy.postgres import Postgres

DEFAULT_FOLDER = Path(".portal-cluster")


def up(folder: Path, replicas: int, port: int) -> int:
    """Start everything, print READY <url>, and stay until Ctrl-C or SIGTERM; then stop everything."""
    if (folder / "cluster.json").exists():
        print(f"error: {folder}/cluster.json exists: run `make cluster-down` first", file=sys.stderr)
        return 2
    for leftover in ("postgres", "logs", "nginx", "state"):  # a previous cluster's: it is throwaway
        shutil.rmtree(folder / leftover, ignore_errors=True)
    (folder / "portal.yaml").unlink(missing_ok=True)
    cluster = Cluster(ClusterSpec(folder=folder, replicas=replicas, port=port))
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        cluster.start()
        print(f"READY {cluster.url}", flush=True)
        print(f"  config {cluster.config_path}: portal token --config <it> --user you@example.com")
        print(f"  described in {folder / 'cluster.json'}; Ctrl-C or `make cluster-down` stops it", flush=True)
        while not stop.wait(1.0):
            dead = [r.name for r in cluster.replicas if r.process and r.process.poll() is not None]
            if cluster.nginx and cluster.nginx.poll() is not None:
                print("nginx exited: stopping the cluster", file=sys.stderr)
                break
            if dead:
                cluster.write_description()  # a replica killed by hand stays dead: the others serve
    except Exception as exc:  # noqa: BLE001 - reported, then everything started is stopped
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        print("stopping the cluster", file=sys.stderr)
        cluster.stop()
    return 0


def down(folder: Path) -> int:
    """Stop the cluster described in cluster.json: its launcher, or each part it lists when that is gone."""
    path = folder / "cluster.json"
    if not path.exists():
        print(f"no cluster running in {folder}")
        return 0
    described = json.loads(path.read_text())
    launcher = described.get("launcher_pid")
    if isinstance(launcher, int) and _alive(launcher):
        os.kill(launcher, signal.SIGTERM)
        deadline = time.monotonic() + 90
        while _alive(launcher) and time.monotonic() < deadline:
            time.sleep(0.2)  # the launcher stops the parts in order
    if path.exists():  # the launcher died without cleaning up: stop each part it started
        for pid in [described["nginx"]["pid"], *(r["pid"] for r in described["replicas"])]:
            if isinstance(pid, int) and _alive(pid):
                os.kill(pid, signal.SIGTERM)
        Postgres(Path(described["postgres"]["data"]).parent, described["postgres"]["port"]).stop()
        path.unlink(missing_ok=True)
    print("cluster stopped")
    return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy", description=__doc__)
    parser.add_argument("command", choices=["up", "down"])
    parser.add_argument("--dir", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--port", type=int, default=8090, help="nginx's port on 127.0.0.1 (0: a free one)")
    args = parser.parse_args()
    if args.command == "up":
        if not 1 <= args.replicas <= 16:
            parser.error("--replicas must be between 1 and 16")
        return up(args.dir, args.replicas, args.port)
    return down(args.dir)


if __name__ == "__main__":
    sys.exit(main())
