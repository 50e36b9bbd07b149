"""Benchmark 6: many concurrent MCP sessions executing code against one real portal process.

One ``portal serve`` (uvicorn on 127.0.0.1, a free port, a temporary state folder, the
demo GitLab and Jira servers only, so it starts fast) and N official MCP clients over
Streamable HTTP, each with its own user's development token. Every session connects, runs one warm-up
execute, waits for the others, then runs a fixed number of executes of a small program
making two tool calls, one after the other. Meanwhile a thread samples /proc for the
portal process and all its descendants (the sandbox's fork server and workers).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from bench.common import Section, fmt_ms, percentile
from bench.served import ServedPortal, served_portal
from demo.backends import demo_servers

__all__ = ["run_load"]

STARTUP_SECONDS = 60
SAMPLE_SECONDS = 0.02
PROGRAM = """\
p = gitlab.get_project(project="infra/api")
i = jira.get_issue(key="OPS-31")
[p["id"], i["key"], i["status"]]
"""


# --- the portal process -------------------------------------------------------------------------


@contextmanager
def _portal(workdir: Path) -> Iterator[ServedPortal]:
    """``portal serve`` on a GitLab + Jira config (their fakes started for it), to start fast."""
    with demo_servers("gitlab", "jira") as servers, served_portal(workdir, {"servers": servers}) as served:
        yield served


def _audit_count(config_path: Path) -> int:
    """Records in the portal's audit trail, read with ``portal audit --json``."""
    done = subprocess.run(
        [sys.executable, "-m", "portal.cli", "audit", "--json", "--limit", "100000",
         "--config", str(config_path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"portal audit failed: {done.stderr[-2000:]}")
    return len(json.loads(done.stdout))


# --- memory sampling ------------------------------------------------------------------------------


def _rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None  # a zombie has no VmRSS


def _pss_kib(pid: int) -> int:
    """Proportional set size: shared pages split between the processes sharing them."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return 0
    return 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
            found += [int(child) for child in text.split()]
    except OSError:
        pass
    return found


def _descendants(pid: int) -> list[int]:
    out, todo = [], _children(pid)
    while todo:
        child = todo.pop()
        out.append(child)
        todo += _children(child)
    return out


@dataclass
class _Memory:
    """Peaks of RSS (KiB) over the samples."""

    portal: int = 0
    helpers: dict[int, int] = field(default_factory=dict)  # descendants already there before the load
    worker_total: int = 0  # the most RSS all workers held at one sample
    worker_single: int = 0
    worker_pss_total: int = 0  # the same, in PSS (pages shared with the fork server split)
    workers_at_once: int = 0
    workers_seen: set[int] = field(default_factory=set)
    samples: int = 0


class _Sampler:
    """Samples the portal and its descendants every SAMPLE_SECONDS in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.memory = _Memory()
        self.baseline = set(_descendants(pid))  # fork server and the like, started with the app
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> _Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        m = self.memory
        while not self._stop.is_set():
            m.portal = max(m.portal, _rss_kib(self.pid) or 0)
            total = count = pss = 0
            for child in _descendants(self.pid):
                rss = _rss_kib(child)
                if rss is None:
                    continue
                if child in self.baseline:
                    m.helpers[child] = max(m.helpers.get(child, 0), rss)
                    continue
                total, count, pss = total + rss, count + 1, pss + _pss_kib(child)
                m.worker_single = max(m.worker_single, rss)
                m.workers_seen.add(child)
            m.worker_total = max(m.worker_total, total)
            m.worker_pss_total = max(m.worker_pss_total, pss)
            m.workers_at_once = max(m.workers_at_once, count)
            m.samples += 1
            self._stop.wait(SAMPLE_SECONDS)


# --- the load -------------------------------------------------------------------------------------


@dataclass
class _Outcome:
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    executes: int = 0  # every execute sent, warm-ups included
    wall_seconds: float = 0.0


async def _execute(client: Client, outcome: _Outcome) -> float:
    started = time.perf_counter()
    outcome.executes += 1
    try:
        result = await client.call_tool("portal_codemode_execute", {"code": PROGRAM})
        answer = json.loads(result.content[0].text)  # type: ignore[union-attr]
        if result.is_error or not answer.get("ok"):
            outcome.errors.append(str(answer)[:300])
    except Exception as exc:  # noqa: BLE001 - every failure is counted, none stops the run
        outcome.errors.append(f"{type(exc).__name__}: {exc}"[:300])
    return (time.perf_counter() - started) * 1000


async def _drive(url: str, tokens: list[str], per_session: int) -> _Outcome:
    sessions = len(tokens)
    outcome = _Outcome()
    ready = anyio.Event()
    connected = 0
    all_connected = anyio.Event()

    async def session(token: str) -> None:
        nonlocal connected
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(120.0)) as http,
            Client(streamable_http_client(f"{url}/mcp", http_client=http)) as client,
        ):
            await _execute(client, outcome)  # warm-up, not timed (counted in the audit)
            connected += 1
            if connected == sessions:
                all_connected.set()
            await ready.wait()
            for _ in range(per_session):
                outcome.latencies_ms.append(await _execute(client, outcome))

    async with anyio.create_task_group() as group:
        for token in tokens:
            group.start_soon(session, token)
        with anyio.fail_after(STARTUP_SECONDS * 2):
            await all_connected.wait()
        started = time.perf_counter()
        ready.set()
    outcome.wall_seconds = time.perf_counter() - started
    return outcome


def _mib(kib: int) -> str:
    return f"{kib / 1024:,.0f} MiB"


def run_load(quick: bool) -> Section:
    sessions, per_session = (4, 3) if quick else (32, 20)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp, _portal(Path(tmp)) as portal:
        # One user per session, as in real use: the portal admits a few runs at once per user.
        tokens = [portal.token(f"load{i}@example.com") for i in range(sessions)]
        with _Sampler(portal.process.pid) as sampler:
            outcome = anyio.run(_drive, portal.url, tokens, per_session)
        deadline = time.monotonic() + 15
        audited = _audit_count(portal.config_path)
        while audited < outcome.executes and time.monotonic() < deadline:  # records may land just after
            time.sleep(0.5)
            audited = _audit_count(portal.config_path)
    memory = sampler.memory
    measured = len(outcome.latencies_ms)
    throughput = measured / outcome.wall_seconds
    p50, p99 = percentile(outcome.latencies_ms, 50), percentile(outcome.latencies_ms, 99)
    helpers = sum(memory.helpers.values())
    rows = [
        ["Concurrent MCP sessions", f"{sessions}"],
        ["Executes measured (per session x sessions)", f"{measured:,} ({per_session} x {sessions})"],
        ["Throughput", f"{throughput:,.1f} executes/s ({2 * throughput:,.1f} tool calls/s)"],
        ["Latency p50 (client side, per execute)", fmt_ms(p50)],
        ["Latency p99", fmt_ms(p99)],
        ["Errors", f"{len(outcome.errors)}"],
        ["Audit records written / executes sent (warm-ups included)", f"{audited:,} / {outcome.executes:,}"
         + (" (match)" if audited == outcome.executes else " (**mismatch**)")],
        ["Peak RSS, portal process", _mib(memory.portal)],
        [f"Peak RSS, sandbox processes already there at idle ({len(memory.helpers)}: fork server, "
         "pre-started workers)",
         _mib(helpers)],
        ["Peak RSS, all sandbox workers at one moment", _mib(memory.worker_total)],
        ["Peak PSS, all sandbox workers at one moment (shared pages split)", _mib(memory.worker_pss_total)],
        ["Peak RSS, one sandbox worker", _mib(memory.worker_single)],
        ["Most sandbox workers alive at one moment (workers seen in all)",
         f"{memory.workers_at_once} ({len(memory.workers_seen):,})"],
    ]  # fmt: skip
    error_note = f" First errors: {'; '.join(outcome.errors[:3])}." if outcome.errors else ""
    notes = f"""\
One real portal process (`portal serve`, uvicorn, the demo GitLab and Jira servers against their fakes,
temporary SQLite state) and {sessions} concurrent sessions of the official MCP client over Streamable HTTP
on 127.0.0.1, one development token per session (a user each). Each session connects and runs one
warm-up execute; once all are connected, each runs {per_session} executes back to back of a program
with two tool calls (`gitlab.get_project`, then `jira.get_issue`). Throughput is measured executes over
the wall time from the start signal to the last answer ({outcome.wall_seconds:.1f} s); latency is each
execute's client-side time, queueing in the portal included. An error is an exception, an `isError` result or
`ok: false`.{error_note}
Audit records are counted with `portal audit --json --limit 100000` on the portal's database after the
run; every execute, warm-ups included, must leave exactly one. Memory is sampled every
{SAMPLE_SECONDS * 1000:.0f} ms ({memory.samples:,} samples) from /proc (VmRSS) for the portal process and
all its descendants: processes already there at idle (the sandbox's fork server) are reported apart from those
started during the run (the workers); RSS counts pages shared between a fork server and its workers once per
process, so the "all workers" RSS overstates their real footprint, which the PSS row (from
`smaps_rollup`) does not; short-lived workers may end between
two samples, so worker figures are lower bounds. This machine also runs everything else
(clients, fakes): on {os.cpu_count()} cores the figures are a floor for the portal, not its ceiling.
"""
    return Section(
        title="6. Load: concurrent sessions against one portal",
        header=["Measure", "Value"],
        rows=rows,
        notes=notes,
        figures={"load_executes_per_s": throughput, "load_p50_ms": p50, "load_p99_ms": p99,
                 "load_errors": len(outcome.errors), "load_audit_records": audited,
                 "load_portal_rss_mib": memory.portal / 1024},
    )  # fmt: skip
