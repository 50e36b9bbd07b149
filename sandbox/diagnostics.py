"""What `python -m sandbox doctor` reports: the isolation layers in force here.

The report comes from the fork server's own probe of the machine (the layers
every worker applies) and one trivial run through it, so it describes what
workers really get, not what the host process could do.
"""

from __future__ import annotations

from typing import Any, Final

import anyio

from sandbox import policy
from sandbox.forkserver import ForkServer
from sandbox.host import run

_DETAILS: Final = {
    "restricted-python": "RestrictedPython compile + runtime guards (sandbox.policy)",
    "fresh-process": "one forked worker per run, never reused",
    "empty-environment": "no environment variables",
    "closed-fds": "only the channel, the output buffer and /dev/null on 0-2",
    "empty-cwd": "an empty temporary working directory",
    "rlimits": ", ".join(policy.RLIMITS),
    "netns": f"own network namespace (scope: {policy.NETWORK_NAMESPACE})",
    "user-nobody": f"uid/gid {policy.WORKER_UID}/{policy.WORKER_GID}, no groups",
    "seccomp": f"{len(policy.SECCOMP_DENIED_SYSCALLS)} syscalls answer EPERM, foreign ABIs killed",
    "landlock": "read-only standard library, nothing else",
}


def _layer_rows(platform: dict[str, Any], active: tuple[str, ...]) -> list[dict[str, Any]]:
    rows = []
    for name, detail in _DETAILS.items():
        on = any(layer == name or layer.startswith(name + "-abi") for layer in active)
        if name == "landlock" and on:
            detail = f"ABI {platform.get('landlock_abi')}: {detail}"
        rows.append({"name": name, "active": on, "detail": detail})
    return rows


async def _probe(server: ForkServer) -> dict[str, Any]:
    result = await run("1 + 1", server=server)
    return {"probe_ok": result.ok and result.value == 2, "probe_ms": result.duration_ms}


def doctor_report() -> dict[str, Any]:
    """Start a fork server, run `1 + 1` through it, and describe its layers."""
    server = ForkServer()
    try:
        server.start()
        probe = anyio.run(_probe, server)
        return {
            "forkserver_pid": server.pid,
            **probe,
            "platform": server.platform,
            "layers": _layer_rows(server.platform, server.layers),
        }
    finally:
        server.stop()
