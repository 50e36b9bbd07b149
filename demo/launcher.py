"""``python -m demo`` (``make run``): start the fakes, then serve the portal against them.

The fakes listen on free ports of 127.0.0.1; the portal gets a config whose
servers name those URLs and tokens in their settings, as a production config
names real ones. The config is written to ``<state dir>/demo.yaml`` for the
life of the demo, so ``portal token`` and the other commands find it without
``--config``; it is removed when the demo stops.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from demo.backends import demo_config, demo_names
from demo.prometheus import fake as prometheus_fake

__all__ = ["CONFIG_NAME", "main", "servable_names", "unservable", "write_config"]

CONFIG_NAME = "demo.yaml"
_HEADER = (
    "# Written by `python -m demo` (make run) for as long as the demo runs; removed when it stops.\n"
    "# Each server is configured as in production, a URL and a token, here those of a fake on 127.0.0.1.\n"
)


def servable_names(names: tuple[str, ...]) -> tuple[str, ...]:
    """The servers the demo can start here: Prometheus only where its Debian package is installed."""
    return tuple(n for n in names if n not in unservable(names))


def unservable(names: tuple[str, ...]) -> dict[str, str]:
    """The servers the demo cannot start here, each with the reason and the fix, in one phrase."""
    if "prometheus" in names and not Path(prometheus_fake.BINARY).exists():
        package = prometheus_fake.DEBIAN_PACKAGE
        return {"prometheus": f"Debian package {package} not installed; run make system-deps"}
    return {}


def _disabled(name: str, reason: str) -> dict[str, Any]:
    """A server listed but off, so the portal's startup line names it and says why (portal/status_line.py)."""
    transport = {"type": "module", "module": f"servers.{name}"}
    return {"namespace": name, "transport": transport, "enabled": False, "disabled_reason": reason}


def write_config(path: Path, config: Mapping[str, Any]) -> None:
    """The config as YAML with a header saying where it comes from."""
    path.write_text(_HEADER + yaml.safe_dump(dict(config), sort_keys=False), encoding="utf-8")


def _options(host: str, port: int) -> Mapping[str, Mapping[str, Any]]:
    # Prometheus scrapes the portal's own /metrics; the portal is not up yet, so do not wait for it.
    # Every 15 s, as a real Prometheus would: a scrape each second floods the demo's log for nothing.
    return {
        "prometheus": {
            "scrape_targets": [f"{host}:{port}"], "wait_for_scrape": False, "scrape_interval_seconds": 15,
        }
    }  # fmt: skip


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address the portal listens on")
    parser.add_argument("--port", type=int, default=8000, help="port the portal listens on")
    parser.add_argument("--state-dir", default=".portal", help="the portal's state folder")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    from portal.cli import serve  # the demo drives the product; the product never imports the demo

    args = _parse(argv)
    state_dir = Path(args.state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / CONFIG_NAME
    names = servable_names(demo_names())
    with demo_config(
        names, _options(args.host, args.port), host=args.host, port=args.port, state_dir=str(state_dir)
    ) as config:
        missing = unservable(demo_names())
        listed = [*config["servers"], *(_disabled(name, why) for name, why in missing.items())]
        # The operator page for the demo's development users (docs/operators.md): /admin on a laptop.
        write_config(path, {**config, "servers": listed, "admin": {"group": "developers"}})
        for server in config["servers"]:
            print(f"demo: {server['namespace']} -> {server['transport']['settings']['url']}", file=sys.stderr)
        # uvicorn re-raises the SIGTERM it handled once it has stopped; as SystemExit, it unwinds
        # through here, so the fakes stop and the config goes (tests/e2e/test_demo_launcher.py).
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
        try:
            serve(config=path)
        finally:
            path.unlink(missing_ok=True)
