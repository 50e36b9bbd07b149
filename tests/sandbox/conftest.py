"""Sandbox test setup: test doubles for bridges and worker processes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from sandbox import ToolCallFailed
from sandbox.forkserver import default_server


class FakeBridge:
    """Answers tool calls from a dict of handlers and records every call."""

    def __init__(self, **handlers: Any) -> None:
        self.handlers = handlers
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> Any:
        self.calls.append((name, arguments))
        handler = self.handlers.get(name.replace(".", "__"))
        if handler is None:
            raise ToolCallFailed(f"no fake for {name}")
        result = handler(**arguments)
        return await result if hasattr(result, "__await__") else result

    @staticmethod
    def failing(message: str) -> Any:
        """A handler that fails the way a real bridge reports tool errors."""

        def handler(**_: Any) -> Any:
            raise ToolCallFailed(message)

        return handler


def worker_pids() -> list[int]:
    """Pids of the sandbox workers serving a run right now, checked to be alive
    children of this process's fork server."""
    server = default_server().pid
    pids = []
    for pid in sorted(default_server().running()):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == server:
            pids.append(pid)
    return pids


class Blocker:
    """A tool that reports the worker's pid and then waits until released."""

    def __init__(self) -> None:
        self.entered = anyio.Event()
        self.release = anyio.Event()
        self.pids: list[int] = []

    async def __call__(self, **_: Any) -> str:
        self.pids = worker_pids()
        self.entered.set()
        await self.release.wait()
        return "released"


@pytest.fixture
def fake_bridge() -> type[FakeBridge]:
    return FakeBridge


@pytest.fixture
def blocker() -> Blocker:
    return Blocker()


@pytest.fixture
def children() -> Callable[[], list[int]]:
    return worker_pids
