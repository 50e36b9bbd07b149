"""Benchmark 3: executions through ``sandbox.run`` against a bare interpreter start and Monty.

Side by side in one run, interleaved so a noisy moment hits all alike:
a trivial program and one making three tool calls, through ``sandbox.run`` (a
fresh worker forked from the fork server per execution), through
``pydantic-monty`` (a Python-subset interpreter in Rust, its worker pool
reused across sessions) and, as the floor of any process-per-execution design
that starts an interpreter, ``python3 -c "pass"``. The per-call overhead is
(run with 20 calls - trivial run) / 20 minus one direct ``bridge.call_tool``
in the host.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

import sandbox
from bench.common import Section, fmt_ms, percentile, ratio, time_async

__all__ = ["run_sandbox"]

TRIVIAL = "x = 1\nx + 1"
THREE_CALLS = "[t.get(x=i)['x'] for i in range(3)]"
TWENTY_CALLS = "[t.get(x=i)['x'] for i in range(20)]"
CONCURRENT = 20


class _Bridge:
    async def call_tool(self, name: str, arguments: dict[str, Any]) -> Any:
        return {"x": arguments["x"]}


def _get(x: int) -> dict[str, int]:
    return {"x": x}


async def _sandbox(code: str, expected: object) -> None:
    result = await sandbox.run(code, tools={"t": ["get"]}, bridge=_Bridge())
    if not result.ok or result.value != expected:
        raise RuntimeError(f"sandbox failed on a benchmark program: {result.error}")


async def _spawn() -> None:
    await anyio.run_process([sys.executable, "-c", "pass"], check=True)


async def _direct_call() -> None:
    await _Bridge().call_tool("t.get", {"x": 1})


async def _concurrent() -> None:
    async with anyio.create_task_group() as group:
        for _ in range(CONCURRENT):
            group.start_soon(_sandbox, TRIVIAL, 2)


def _monty_work(pool: Any, code: str, lookup: dict[str, Any] | None) -> Callable[[], Awaitable[None]]:
    async def work() -> None:
        with pool.checkout() as session:
            session.feed_run(code, external_lookup=lookup)

    return work


async def _measure(runs: int, pool: Any) -> dict[str, list[float]]:
    kinds: dict[str, Callable[[], Awaitable[object]]] = {
        "trivial": lambda: _sandbox(TRIVIAL, 2),
        "three": lambda: _sandbox(THREE_CALLS, [0, 1, 2]),
        "twenty": lambda: _sandbox(TWENTY_CALLS, list(range(20))),
        "spawn": _spawn,
        "direct": _direct_call,
        "concurrent": _concurrent,
    }
    if pool is not None:
        kinds["monty_trivial"] = _monty_work(pool, TRIVIAL, None)
        kinds["monty_three"] = _monty_work(pool, THREE_CALLS.replace("t.get", "get"), {"get": _get})
    samples: dict[str, list[float]] = {name: [] for name in kinds}
    for work in kinds.values():  # warm the fork server and the OS caches before timing
        await work()
    for _ in range(runs):
        for name, work in kinds.items():
            samples[name] += await time_async(work, 1 if name in {"concurrent", "spawn"} else 3)
    return samples


def _monty_pool() -> Any:
    try:
        import pydantic_monty
    except ImportError:
        return None
    return pydantic_monty.Monty(min_processes=1, max_processes=1)


def _row(label: str, samples: list[float], baseline: float) -> list[str]:
    p50 = percentile(samples, 50)
    return [label, fmt_ms(p50), fmt_ms(percentile(samples, 99)), ratio(p50, baseline)]


def run_sandbox(quick: bool) -> Section:
    runs = 10 if quick else 60
    sandbox.start_pool()
    started = time.perf_counter()
    pool = _monty_pool()
    if pool is not None:
        with pool:
            s = anyio.run(_measure, runs, pool)
    else:
        s = anyio.run(_measure, runs, None)
    p50 = {name: percentile(values, 50) for name, values in s.items()}
    spawn = p50["spawn"]
    per_call = (p50["twenty"] - p50["trivial"]) / 20 - p50["direct"]
    rows = [
        _row(f"`sandbox.run` trivial (`{TRIVIAL.replace(chr(10), '; ')}`)", s["trivial"], spawn),
        _row("`sandbox.run`, 3 tool calls", s["three"], spawn),
        _row(f"{CONCURRENT} trivial `sandbox.run` at once (all done)", s["concurrent"], spawn),
        [
            '`python3 -c "pass"` (bare spawn, baseline)',
            fmt_ms(spawn),
            fmt_ms(percentile(s["spawn"], 99)),
            "1.00x",
        ],
    ]
    if pool is not None:
        rows += [
            _row("`pydantic-monty` 1.4 trivial (session from a warm pool)", s["monty_trivial"], spawn),
            _row("`pydantic-monty` 1.4, 3 host-function calls", s["monty_three"], spawn),
        ]
    rows.append(["Tool call round trip over a direct bridge call", fmt_ms(per_call), "-", "-"])
    monty_note = (
        f"Monty runs the trivial program {ratio(p50['trivial'], p50['monty_trivial'])} faster than the "
        f"sandbox and three calls {ratio(p50['three'], p50['monty_three'])} faster: it reuses a warm "
        "worker process and interprets a Python subset in Rust, where every sandbox run gets a new "
        "process with its own namespaces, uid, rlimits, Landlock and seccomp filter."
        if pool is not None
        else "pydantic-monty is not installed: `pip install pydantic-monty==1.4.0` adds its rows."
    )
    notes = f"""\
Each execution gets a fresh worker process, never reused, forked from a fork server that imported
RestrictedPython, the guards and the allowed modules once. It keeps two spare workers forked ahead of
demand, each already in its own network namespace, dropped to `nobody`, under its fixed rlimits,
Landlock and seccomp, and warmed up; the host reserves the next run's worker while a run goes on. On
its run the worker sets RLIMIT_AS and RLIMIT_CPU, then compiles with RestrictedPython, runs and
reports over its own socket. {runs} rounds, interleaved, {time.perf_counter() - started:.0f} s in all;
ratios are to a bare `python3 -c "pass"`. A trivial run costs {ratio(p50["trivial"], spawn)} a bare
interpreter start ({fmt_ms(p50["trivial"])} against {fmt_ms(spawn)}); each tool call adds
{fmt_ms(per_call)} over calling the bridge directly ({fmt_ms(p50["direct"])}). {monty_note}"""
    return Section(
        title="3. Sandbox start-up",
        header=["Per execution", "p50", "p99", "p50 ratio to bare spawn"],
        rows=rows,
        notes=notes,
        figures={
            "sandbox_p50_ms": p50["trivial"],
            "sandbox_p99_ms": percentile(s["trivial"], 99),
            "spawn_p50_ms": spawn,
            "tool_call_overhead_ms": per_call,
            **({"monty_p50_ms": p50["monty_trivial"]} if pool is not None else {}),
        },
    )
