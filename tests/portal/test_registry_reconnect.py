"""A server that dies after it was ready is reported at the first failed call, then reconnected."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from demo.gitlab import fake
from portal.config import ServerConfig
from portal.registry import Registry, UpstreamError

pytestmark = pytest.mark.anyio


@pytest.fixture
def gitlab() -> Iterator[fake.RunningFake]:
    with fake.start() as running:
        yield running


def stdio_gitlab(backend: fake.RunningFake) -> ServerConfig:
    env = {"GITLAB_URL": backend.url, "GITLAB_TOKEN": backend.settings["token"]}
    args = ["-m", "servers.gitlab"]
    return ServerConfig.model_validate(
        {
            "namespace": "gitlab",
            "transport": {"type": "stdio", "command": sys.executable, "args": args, "env": env},
        }
    )


def server_pids() -> set[int]:
    """Pids of `python -m servers.gitlab` children of this test process."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == os.getpid() and b"servers.gitlab" in cmdline:
            found.add(int(entry.name))
    return found


async def test_a_dead_server_is_reported_at_the_next_call_and_comes_back(gitlab: fake.RunningFake) -> None:
    async with Registry([stdio_gitlab(gitlab)]) as registry:
        (first,) = server_pids()
        os.kill(first, signal.SIGKILL)
        with pytest.raises(UpstreamError, match="Connection closed"):
            with anyio.fail_after(10):
                await registry.call("gitlab", "list_projects", {})
        (status,) = registry.statuses()
        assert (status.state, status.error) == ("failed", "connection lost: MCPError: Connection closed")
        with anyio.fail_after(20):  # the first reconnect comes after a 1 s back-off
            while registry.statuses()[0].state != "ready":
                await anyio.sleep(0.05)
        result = await registry.call("gitlab", "list_projects", {})
        assert len(result.structured_content["result"]) == 4
        assert server_pids() - {first}, "a new server process was started"
