"""The worker: fresh, empty environment, no leftovers, killed on cancel."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import pytest

from sandbox import run

pytestmark = pytest.mark.anyio


async def test_code_cannot_find_a_secret_from_the_host_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_SECRET", "hunter2")
    for code in ["import os", "__import__('os')", "import sys"]:
        result = await run(code)
        assert result.error is not None and result.error.type in {"ForbiddenImport", "RestrictedCode"}


async def test_worker_process_has_an_empty_environment_and_empty_cwd(
    monkeypatch: pytest.MonkeyPatch, fake_bridge: Any, children: Callable[[], list[int]]
) -> None:
    monkeypatch.setenv("PORTAL_SECRET", "hunter2")
    seen: dict[str, object] = {}

    def inspect() -> str:
        (pid,) = [p for p in children()]
        seen["environ"] = Path(f"/proc/{pid}/environ").read_bytes()
        seen["cwd"] = list(Path(os.readlink(f"/proc/{pid}/cwd")).iterdir())
        return "ok"

    result = await run("t.inspect()", tools={"t": ["inspect"]}, bridge=fake_bridge(t__inspect=inspect))
    assert result.value == "ok"
    assert seen == {"environ": b"", "cwd": []}


async def test_cancelling_the_caller_kills_the_worker(fake_bridge: Any, blocker: Any) -> None:
    async with anyio.create_task_group() as group:
        bridge = fake_bridge(t__block=blocker)
        group.start_soon(partial(run, "t.block()", tools={"t": ["block"]}, bridge=bridge))
        with anyio.fail_after(10):
            await blocker.entered.wait()
        group.cancel_scope.cancel()
    (pid,) = blocker.pids
    assert not Path(f"/proc/{pid}").exists()


async def test_each_run_uses_a_fresh_worker(fake_bridge: Any, blocker: Any) -> None:
    first, second = blocker, type(blocker)()
    first.release.set()
    second.release.set()
    await run("t.block()", tools={"t": ["block"]}, bridge=fake_bridge(t__block=first))
    await run("t.block()", tools={"t": ["block"]}, bridge=fake_bridge(t__block=second))
    assert first.pids and second.pids and first.pids != second.pids


def _children() -> list[int]:
    from sandbox_helpers import worker_pids

    return worker_pids()
