"""Access logging without the noise: scrapes of /metrics and health probes are left out by default.

A Prometheus scraping every 15 s and a load balancer probing every few seconds
would otherwise write most of the portal's access log. A probe that fails
(status 400 or more) is still logged; ``log_probes: true`` logs them all.
"""

from __future__ import annotations

import copy
import logging
from typing import Any, Final

from uvicorn.config import LOGGING_CONFIG

__all__ = ["PROBE_PATHS", "ProbeFilter", "uvicorn_log_config"]

PROBE_PATHS: Final = frozenset({"/metrics", "/healthz", "/readyz"})


class ProbeFilter(logging.Filter):
    """Drops uvicorn access records of successful GETs of the probe paths."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if not isinstance(args, tuple) or len(args) != 5:  # uvicorn's (client, method, path, version, status)
            return True
        _, method, path, _, status = args
        if method not in ("GET", "HEAD") or not isinstance(path, str) or not isinstance(status, int):
            return True
        return not (path.split("?", 1)[0] in PROBE_PATHS and status < 400)


def uvicorn_log_config(log_probes: bool) -> dict[str, Any]:
    """Uvicorn's own logging config, with the probe filter on its access handler unless asked not to."""
    config = copy.deepcopy(LOGGING_CONFIG)
    if not log_probes:
        config["filters"] = {"probes": {"()": ProbeFilter}}
        config["handlers"]["access"]["filters"] = ["probes"]
    return config
