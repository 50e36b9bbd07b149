"""Benchmark 3: one trivial execution through ``sandbox.run`` against spawning a bare interpreter."""

from __future__ import annotations

import sys

import anyio

import sandbox
from bench.common import Section, fmt_ms, percentile, ratio, time_async

__all__ = ["run_sandbox"]


async def _sandbox_once() -> None:
    result = await sandbox.run("x = 1\nx + 1")
    if not result.ok or result.value != 2:
        raise RuntimeError(f"sandbox failed on a trivial program: {result.error}")


async def _spawn_once() -> None:
    await anyio.run_process([sys.executable, "-c", "pass"], check=True)


async def _imports_once() -> None:
    """A fresh interpreter that imports the worker's modules, started the way the host starts one."""
    await anyio.run_process([sys.executable, "-I", "-c", "import sandbox.worker"], check=True, env={})


async def _measure(runs: int) -> tuple[list[float], list[float], list[float]]:
    kinds = (_sandbox_once, _spawn_once, _imports_once)
    samples: tuple[list[float], list[float], list[float]] = ([], [], [])
    for work in kinds:  # warm the OS caches before timing
        await work()
    for _ in range(runs):  # interleaved, so a noisy moment hits all alike
        for work, into in zip(kinds, samples, strict=True):
            into += await time_async(work, 1)
    return samples


def run_sandbox(quick: bool) -> Section:
    runs = 5 if quick else 30
    sandboxed, spawned, imported = anyio.run(_measure, runs)
    s50, s99 = percentile(sandboxed, 50), percentile(sandboxed, 99)
    p50, p99 = percentile(spawned, 50), percentile(spawned, 99)
    i50, i99 = percentile(imported, 50), percentile(imported, 99)
    rows = [
        ['`sandbox.run("x = 1; x + 1")`', fmt_ms(s50), fmt_ms(s99), ratio(s50, p50)],
        [
            '`python -I -c "import sandbox.worker"` (spawn + worker imports)',
            fmt_ms(i50),
            fmt_ms(i99),
            ratio(i50, p50),
        ],
        ['`python -c "pass"` (bare spawn, baseline)', fmt_ms(p50), fmt_ms(p99), "1.00x"],
    ]
    notes = f"""\
Each execution starts a fresh worker process (`python -I -m sandbox.worker`, empty environment,
resource limits), compiles the code with RestrictedPython, runs it and reports back over a pipe;
{runs} runs of each, interleaved. The baseline is the cheapest possible fresh process with the same
interpreter; the middle row isolates what importing the worker's modules (RestrictedPython, the
guards) adds to it. A trivial execution costs {ratio(s50, p50)} a bare interpreter start at the median
({fmt_ms(s50)} against {fmt_ms(p50)}); imports explain {fmt_ms(i50 - p50)} of the
{fmt_ms(s50 - p50)} gap, the rest is compiling, the pipe protocol, resource limits and killing the
process group. A fresh process per execution is the floor of this design; a warm pool of workers
would remove most of it, at the cost of reusing processes."""
    return Section(
        title="3. Sandbox start-up",
        header=["Per execution", "p50", "p99", "p50 ratio to bare spawn"],
        rows=rows,
        notes=notes,
        figures={"sandbox_p50_ms": s50, "sandbox_p99_ms": s99, "spawn_p50_ms": p50},
    )
