"""Start the demo's fake backends and describe the servers that point at them.

One helper for the launcher, the tests and the benchmarks: each starts the fakes
it needs here, then configures a server exactly as production would, a module
transport whose ``settings`` hold the backend's URL and token.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, Protocol

__all__ = [
    "DEMO_NAMES",
    "RunningBackend",
    "demo_config",
    "demo_names",
    "demo_servers",
    "running_backends",
    "server_entry",
]

# The bundled servers in the order the demo lists them; a scaffolded one is found by its folder.
DEMO_NAMES = ("gitlab", "jira", "sentry", "elasticsearch", "backstage", "prometheus")
_HERE = Path(__file__).resolve().parent


class RunningBackend(Protocol):
    """What every ``demo.<name>.fake.start()`` returns."""

    url: str
    settings: dict[str, str]

    def stop(self) -> None: ...


def demo_names() -> tuple[str, ...]:
    """Every server with a fake under demo/: the bundled ones first, then any added since."""
    found = {p.parent.name for p in _HERE.glob("*/fake.py") if not p.parent.name.startswith("_")}
    return tuple(n for n in DEMO_NAMES if n in found) + tuple(sorted(found - set(DEMO_NAMES)))


def server_entry(name: str, backend: RunningBackend) -> dict[str, Any]:
    """The config entry of server ``name`` against ``backend``: what an operator would write."""
    return {
        "namespace": name,
        "transport": {"type": "module", "module": f"servers.{name}", "settings": dict(backend.settings)},
    }


@contextmanager
def running_backends(
    names: Iterable[str], options: Mapping[str, Mapping[str, Any]] | None = None
) -> Iterator[dict[str, RunningBackend]]:
    """Start the fake of each name on 127.0.0.1 (``options[name]`` go to its start()); stop them after."""
    with ExitStack() as stack:
        running: dict[str, RunningBackend] = {}
        for name in names:
            start = importlib.import_module(f"demo.{name}.fake").start
            backend = start(host="127.0.0.1", port=0, **dict((options or {}).get(name, {})))
            stack.callback(backend.stop)
            running[name] = backend
        yield running


@contextmanager
def demo_servers(
    *names: str, options: Mapping[str, Mapping[str, Any]] | None = None
) -> Iterator[list[dict[str, Any]]]:
    """The config entries of the named servers, each against a fake started for the block."""
    with running_backends(names, options) as running:
        yield [server_entry(name, backend) for name, backend in running.items()]


@contextmanager
def demo_config(
    names: Iterable[str] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    **top: Any,
) -> Iterator[dict[str, Any]]:
    """The demo's whole portal config (a dict for YAML), its servers against fakes started for the block.

    ``top`` overrides top-level keys (host, port, state_dir, codemode, ...).
    """
    base: dict[str, Any] = {"host": "127.0.0.1", "port": 8000, "state_dir": ".portal", "codemode": True}
    # Prometheus answers queries once ready; waiting for its first scrapes too would cost ~6 s.
    merged = {"prometheus": {"wait_for_scrape": False}, **(options or {})}
    with demo_servers(*(demo_names() if names is None else names), options=merged) as servers:
        yield {**base, **top, "servers": servers}
