"""The fork server and the OS layers: fresh isolated workers, restarts, concurrency, kills."""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path
from typing import Any

import anyio
import pytest

from sandbox import Limits, policy, run
from sandbox.forkserver import default_server
from sandbox.isolation import prepare, probe
from sandbox.landlock import restrict
from sandbox.seccomp import install

pytestmark = pytest.mark.anyio

PLATFORM = probe()


def _status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {key: value.strip() for key, _, value in (line.partition(":") for line in lines)}


async def test_a_running_worker_has_every_layer_the_machine_provides(fake_bridge: Any, children: Any) -> None:
    seen: dict[str, Any] = {}

    def inspect() -> str:
        (pid,) = children()
        status = _status(pid)
        seen.update(
            uid=status["Uid"].split()[0],
            seccomp=status["Seccomp"],
            nnp=status["NoNewPrivs"],
            fds=sorted(os.listdir(f"/proc/{pid}/fd")),
            netns=os.readlink(f"/proc/{pid}/ns/net") != os.readlink("/proc/self/ns/net"),
        )
        return "ok"

    result = await run("t.inspect()", tools={"t": ["inspect"]}, bridge=fake_bridge(t__inspect=inspect))
    assert result.value == "ok"
    assert len(seen["fds"]) == 5  # /dev/null on 0-2, the channel, the output buffer (mmap's own dup)
    if PLATFORM.drop_user:
        assert seen["uid"] == str(policy.WORKER_UID)
    if PLATFORM.seccomp:
        assert seen["seccomp"] == "2" and seen["nnp"] == "1"
    if PLATFORM.netns:
        assert seen["netns"]
    assert set(PLATFORM.layers()) == set(result.layers)


def _in_child(action: Any) -> int:
    """Run `action` in a forked child; its return value is the exit status."""
    pid = os.fork()
    if pid == 0:
        try:
            os._exit(action())
        finally:
            os._exit(99)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@pytest.mark.skipif(not PLATFORM.seccomp, reason="no seccomp on this machine")
@pytest.mark.parametrize("call", ["socket", "fork", "execve"])
def test_the_seccomp_filter_answers_eperm_to_denied_syscalls(call: str) -> None:
    prepared = prepare(PLATFORM)

    def attempt() -> int:
        install(prepared.seccomp_program)
        try:
            if call == "socket":
                socket.socket()
            elif call == "fork":
                os.fork()
            else:
                os.execv("/bin/true", ["true"])
        except PermissionError:
            return 0
        except OSError as exc:
            return 1 if exc.errno != errno.EPERM else 0
        return 2

    assert _in_child(attempt) == 0


@pytest.mark.skipif(PLATFORM.landlock_abi == 0, reason="no Landlock on this machine")
def test_landlock_lets_a_worker_read_the_standard_library_and_nothing_else() -> None:
    prepared = prepare(PLATFORM)
    project_file = Path(__file__)

    def attempt() -> int:
        restrict(prepared.landlock_fd)
        Path(os.__file__).read_bytes()  # the standard library stays readable
        try:
            project_file.read_bytes()
        except PermissionError:
            return 0
        return 1

    assert _in_child(attempt) == 0


async def test_twenty_runs_at_once_all_finish_with_their_own_results() -> None:
    results: dict[int, Any] = {}

    async def one(i: int) -> None:
        results[i] = await run(f"print({i})\n{i} * 2")

    with anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            for i in range(20):
                group.start_soon(one, i)
    assert {i: (r.value, r.stdout) for i, r in results.items()} == {i: (i * 2, f"{i}\n") for i in range(20)}


async def test_the_next_run_restarts_a_dead_fork_server() -> None:
    await run("1")
    server = default_server()
    old = server.pid
    assert old is not None
    os.kill(old, 9)
    os.waitid(os.P_PID, old, os.WEXITED | os.WNOWAIT)  # dead (a run racing its death may crash)
    result = await run("2 + 2")
    assert result.value == 4 and server.pid != old


async def test_a_timed_out_run_does_not_hold_up_another(fake_bridge: Any) -> None:
    results: dict[str, Any] = {}

    async def slow() -> None:
        results["slow"] = await run("while True:\n    pass", limits=Limits(wall_seconds=1))

    async def quick() -> None:
        results["quick"] = await run("21 * 2")

    with anyio.fail_after(20):
        async with anyio.create_task_group() as group:
            group.start_soon(slow)
            group.start_soon(quick)
    assert results["quick"].value == 42
    assert results["slow"].error is not None and results["slow"].error.type == "Timeout"


async def test_output_printed_before_a_timeout_is_kept() -> None:
    result = await run("print('started')\nwhile True:\n    pass", limits=Limits(wall_seconds=1))
    assert result.error is not None and result.error.type == "Timeout"
    assert result.stdout == "started\n"


async def test_output_printed_before_the_cpu_limit_is_kept() -> None:
    result = await run(
        "print('started')\nwhile True:\n    pass", limits=Limits(wall_seconds=20, cpu_seconds=1)
    )
    assert result.error is not None and result.error.type == "CPUTimeExceeded"
    assert result.stdout == "started\n"


async def test_hitting_the_output_cap_is_reported_without_failing_the_run() -> None:
    result = await run("for i in range(100):\n    print('x' * 50)\n7", limits=Limits(output_bytes=1000))
    assert result.ok and result.value == 7
    assert result.limits_hit == ("OutputLimitExceeded",)
    assert result.stdout.endswith("... [output truncated at 1000 bytes]\n")


async def test_output_under_the_cap_reports_no_limit() -> None:
    result = await run("print('hi')")
    assert result.limits_hit == ()


async def test_code_nested_too_deeply_is_code_too_complex() -> None:
    result = await run("x = " + "[" * 90 + "]" * 90, limits=Limits(max_ast_depth=50))
    assert result.error is not None and result.error.type == "CodeTooComplex"


async def test_recursion_depth_follows_the_limit() -> None:
    code = "def f(n):\n    return f(n + 1)\nf(0)"
    result = await run(code, limits=Limits(recursion_depth=100))
    assert result.error is not None and result.error.type == "RecursionLimitExceeded"
    assert "100" in result.error.message
