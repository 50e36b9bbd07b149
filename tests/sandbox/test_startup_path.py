"""The fast start-up path: spares locked before their run, reserved workers,
the host's channel framing, inline answers to lone calls, the compile fast path."""

from __future__ import annotations

import ast
import contextlib
import os
import socket
from pathlib import Path
from typing import Any

import anyio
import pytest

from sandbox import Limits, compiler, protocol, run
from sandbox.forkserver import ChannelClosed, ForkServer, HostChannel
from sandbox.isolation import probe
from sandbox.modules import build_modules

pytestmark = pytest.mark.anyio

PLATFORM = probe()
IMPORTABLE = build_modules().keys()


def _status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {key: value.strip() for key, _, value in (line.partition(":") for line in lines)}


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


async def test_spares_and_reserved_workers_wait_with_seccomp_and_landlock_already_on() -> None:
    server = ForkServer()
    try:
        server.start()
        assert (await run("1", server=server)).value == 1
        with anyio.fail_after(10):
            while True:  # until the spares forked for this run have set up and wait
                await anyio.sleep(0.05)
                statuses = []
                for pid in _children(server.pid or 0):
                    with contextlib.suppress(OSError):
                        statuses.append(_status(pid))
                # the spares and the worker reserved for the next run, all waiting in read()
                if len(statuses) >= 3 and all(s["State"].startswith("S") for s in statuses):
                    break
        for status in statuses:
            if PLATFORM.seccomp:
                assert status["Seccomp"] == "2" and status["NoNewPrivs"] == "1"
            if PLATFORM.drop_user:
                assert status["Uid"].split()[0] == "65534"
    finally:
        server.stop()


async def test_a_reserved_worker_with_other_limits_is_killed_unused() -> None:
    server = ForkServer()
    try:
        server.start()
        first = await run("1", server=server)
        reserved = list(server._reserved)  # noqa: SLF001 - the mechanism under test
        assert len(reserved) == 1
        other = await run("2", server=server, limits=Limits(memory_bytes=256 * 1024 * 1024))
        assert first.value == 1 and other.value == 2
        assert reserved[0].status.fileno() == -1  # closed: the fork server kills that worker
        assert (await run("3", server=server)).value == 3
    finally:
        server.stop()


async def test_a_reserved_worker_that_died_is_replaced_by_a_fresh_one() -> None:
    server = ForkServer()
    try:
        server.start()
        await run("1", server=server)
        before = set(_children(server.pid or 0))
        await anyio.sleep(0.2)  # the reservation is assigned by now
        for pid in before:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)  # every spare and the reserved worker
        await anyio.sleep(0.2)
        result = await run("40 + 2", server=server)
        assert result.ok and result.value == 42
    finally:
        server.stop()


async def test_the_host_channel_splits_and_joins_frames() -> None:
    ours, theirs = socket.socketpair()
    channel = HostChannel(ours)
    frames = protocol.encode({"type": "a"}) + protocol.encode({"type": "b", "x": "y" * 100_000})
    theirs.sendall(frames[:3])
    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:

            async def rest() -> None:
                await anyio.sleep(0.05)
                theirs.sendall(frames[3:])
                theirs.close()

            group.start_soon(rest)
            assert await channel.receive() == {"type": "a"}
            assert (await channel.receive())["x"] == "y" * 100_000
            with pytest.raises(ChannelClosed):
                await channel.receive()
    channel.close()


async def test_a_channel_closed_mid_frame_is_reported() -> None:
    ours, theirs = socket.socketpair()
    channel = HostChannel(ours)
    theirs.sendall(protocol.encode({"type": "a"})[:-1])
    theirs.close()
    with pytest.raises(ChannelClosed):
        await channel.receive()
    channel.close()


async def test_lone_calls_are_answered_inline_and_in_order(fake_bridge: Any) -> None:
    bridge = fake_bridge(t__get=lambda x: x * 2)
    result = await run("[t.get(x=i) for i in range(25)]", tools={"t": ["get"]}, bridge=bridge)
    assert result.value == [i * 2 for i in range(25)]
    assert [args["x"] for _, args in bridge.calls] == list(range(25))


SAMPLES = [
    "x = 1\nx + 1",
    "[t.get(x=i)['x'] for i in range(3)]",
    "import json\nfrom collections import Counter\njson.dumps(dict(Counter('abc')))",
    "import os",
    "from os import path",
    "from . import x",
    "import urllib.parse\nurllib.parse.quote('a b')",
    "from urllib import parse",
    "class C(metaclass=type):\n    pass",
    "class C:\n    pass",
    "[y := 1 for _ in range(2)]",
    "(y := 3)",
    "global g",
    "async def f():\n    pass",
    "match 1:\n    case 1:\n        pass",
    "try:\n    pass\nexcept* ValueError:\n    pass",
    "def g():\n    yield from [1]",
    "-" * 150 + "1",
    "(" * 90 + "1" + ")" * 90,
]


@pytest.mark.parametrize("source", SAMPLES)
def test_the_compile_fast_path_agrees_with_the_detailed_checks(source: str) -> None:
    tree = ast.parse(source)
    detailed_ok = compiler._depth(tree) <= 100 and (  # noqa: SLF001
        compiler._denied_syntax(tree) or compiler._forbidden_import(tree, IMPORTABLE)  # noqa: SLF001
    ) is None
    if compiler._plainly_allowed(tree, IMPORTABLE, 100):  # noqa: SLF001
        assert detailed_ok
    fast = compiler.compile_code(source, IMPORTABLE)
    assert type(fast) is type(_detailed_compile(source))
    if not isinstance(fast, compiler.CompiledCode):
        assert fast == _detailed_compile(source)


def _detailed_compile(source: str) -> Any:
    """compile_code as it was before the fast path: every detailed check, always."""
    try:
        tree = ast.parse(source, filename="<code>")
    except SyntaxError:
        return compiler.compile_code(source, IMPORTABLE)
    if compiler._depth(tree) > 100:  # noqa: SLF001
        return compiler._too_complex(100)  # noqa: SLF001
    refused = compiler._denied_syntax(tree) or compiler._forbidden_import(tree, IMPORTABLE)  # noqa: SLF001
    if refused is not None:
        return refused
    return compiler._restrict(tree)  # noqa: SLF001
