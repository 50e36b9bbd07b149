"""One line at startup that says which upstream servers are up, and for each that is not, why.

``make run`` prints it so a newcomer sees at once that, say, Prometheus is
missing and what to run; the same line goes to any operator's log.
"""

from __future__ import annotations

from collections.abc import Iterable

from portal.config import ServerConfig
from portal.registry import ServerStatus

__all__ = ["servers_line"]


def servers_line(statuses: Iterable[ServerStatus], configs: Iterable[ServerConfig]) -> str:
    """``servers up: a (3 tools), b (5 tools); c failed: <reason>; d disabled: <reason>``."""
    reasons = {config.namespace: config.disabled_reason for config in configs}
    up, down = [], []
    for status in statuses:
        if status.state == "ready":
            up.append(f"{status.namespace} ({status.tool_count} tools)")
        elif status.state == "disabled":
            down.append(f"{status.namespace} disabled: {reasons.get(status.namespace) or 'enabled: false'}")
        else:
            reason = status.error or "no answer yet"
            down.append(f"{status.namespace} {status.state}: {reason}; `portal tools` shows every server")
    head = f"servers up: {', '.join(up)}" if up else "servers up: none"
    return "; ".join([head, *down])
