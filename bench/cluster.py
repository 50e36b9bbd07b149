"""Benchmark 9: the portal as a cluster (nginx, N replicas, one PostgreSQL) on this machine.

``make bench-cluster`` (``python -m bench.cluster``) runs, in one go:

1. the same load against 1, 2 and 3 replicas (a fresh cluster each), side by side;
2. the kill test: 3 replicas, 64 handshake sessions for 60 s, ``kill -9`` of one replica
   at 20 s and its restart at 40 s;
3. PostgreSQL stopped for 5 s under load, then started again;

and writes its section into docs/benchmarks.md. Each execute carries a nonce, so
the audit check can match every answer to its record by the code's SHA-256:
every execute answered ok must have exactly one record, and no code may have two.
Traffic goes to 127.0.0.1 only, bounded in sessions and time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import anyio
import anyio.to_thread
import httpx
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from sqlalchemy import create_engine, select

from bench.common import Section, fmt_ms, percentile
from deploy import Cluster, ClusterSpec
from portal.config import load_config
from portal.oauth import mint_dev_token
from portal.store import ExecutionRecord

__all__ = ["AuditCheck", "Tally", "audit_check", "drive", "main", "program", "run_cluster_bench"]

ROOT = Path(__file__).resolve().parents[1]
SERVERS = ("gitlab", "jira")  # two demo servers: replicas start in seconds
REPORT_TITLE = "9. Cluster: replicas behind nginx, one PostgreSQL"
RETRY_PAUSE_SECONDS = 0.2  # a client whose session or connection failed waits this long, then re-initialises


def program(nonce: str) -> str:
    """Two tool calls, as in benchmark 6, and a nonce that makes the code (and its SHA-256) unique."""
    return (
        f'nonce = "{nonce}"\n'
        'p = gitlab.get_project(project="infra/api")\n'
        'i = jira.get_issue(key="OPS-31")\n'
        '[nonce, p["id"], i["key"]]\n'
    )


@dataclass
class Tally:
    """What the clients saw."""

    ok_codes: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    sessions_opened: int = 0
    wall_seconds: float = 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def _classify(exc: BaseException) -> str:
    text = str(exc)
    if "Session terminated" in text or "Session not found" in text:
        return "session gone (404): re-initialised"
    if "error response" in text:
        return "HTTP error from the balancer (502/503)"
    return f"{type(exc).__name__}: {text[:80]}"


async def _session(mcp_url: str, token: str, until: Callable[[], bool], tally: Tally, legacy: bool) -> None:
    """One client: executes back to back; a failed session is closed and a new one initialised."""
    while not until():
        opened = False
        try:
            async with AsyncExitStack() as stack:
                headers = {"Authorization": f"Bearer {token}"}
                http = await stack.enter_async_context(
                    httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(60.0))
                )
                transport = streamable_http_client(mcp_url, http_client=http)
                client = await stack.enter_async_context(
                    Client(transport, mode="legacy" if legacy else "auto")
                )
                opened = True
                tally.sessions_opened += 1
                while not until():
                    if not await _execute(client, tally):
                        break
        except Exception as exc:  # noqa: BLE001 - counted when opening failed; closing a dead session may fail
            if not opened:
                tally.errors[f"could not open a session: {_classify(exc)}"] += 1
                await anyio.sleep(RETRY_PAUSE_SECONDS)


async def _execute(client: Client, tally: Tally) -> bool:
    """One execute; False when the session should be replaced."""
    code = program(uuid.uuid4().hex)
    started = time.perf_counter()
    try:
        result = await client.call_tool("portal_codemode_execute", {"code": code})
    except Exception as exc:  # noqa: BLE001 - every failure is counted, none stops the run
        tally.errors[_classify(exc)] += 1
        await anyio.sleep(RETRY_PAUSE_SECONDS)
        return False
    answer = json.loads(result.content[0].text)  # type: ignore[union-attr]
    if answer.get("ok"):
        tally.ok_codes.append(code)
        tally.latencies_ms.append((time.perf_counter() - started) * 1000)
    else:
        tally.errors[f"answered not ok: {(answer.get('error') or {}).get('type')}"] += 1
    return True


async def drive(
    mcp_url: str,
    tokens: list[str],
    seconds: float,
    *,
    legacy: bool = True,
    events: Sequence[tuple[float, Callable[[], Awaitable[None]]]] = (),
) -> Tally:
    """``len(tokens)`` sessions executing for ``seconds``; ``events`` run at their offsets meanwhile."""
    tally = Tally()
    started = time.monotonic()

    def over() -> bool:
        return time.monotonic() - started >= seconds

    async def at(offset: float, action: Callable[[], Awaitable[None]]) -> None:
        await anyio.sleep(max(0.0, offset - (time.monotonic() - started)))
        await action()

    with anyio.fail_after(seconds + 120):
        async with anyio.create_task_group() as group:
            for token in tokens:
                group.start_soon(_session, mcp_url, token, over, tally, legacy)
            for offset, action in events:
                group.start_soon(at, offset, action)
    tally.wall_seconds = time.monotonic() - started
    print(
        f"bench-cluster: {len(tokens)} sessions, {tally.wall_seconds:.0f} s: {len(tally.ok_codes)} ok, "
        f"errors {dict(tally.errors)}",
        file=sys.stderr,
    )
    return tally


@dataclass(frozen=True)
class AuditCheck:
    answered_ok: int
    recorded_once: int
    missing: int  # answered ok, no record
    duplicated: int  # codes with more than one record
    not_ok_in_audit: int  # answered ok, recorded as a failure

    @property
    def holds(self) -> bool:
        return (
            self.missing == self.duplicated == self.not_ok_in_audit == 0
            and self.recorded_once == self.answered_ok
        )

    def describe(self) -> str:
        verdict = "holds" if self.holds else "**fails**"
        return (
            f"{verdict}: {self.recorded_once:,} of {self.answered_ok:,} ok answers have exactly one record; "
            f"{self.missing} missing, {self.duplicated} duplicated, {self.not_ok_in_audit} recorded as failed"
        )


def audit_check(database_url: str, ok_codes: list[str], since: datetime) -> AuditCheck:
    """Match every ok answer to the audit trail by the SHA-256 of its (unique) code."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(ExecutionRecord.code_sha256, ExecutionRecord.outcome).where(
                    ExecutionRecord.started_at >= since
                )
            ).all()
    finally:
        engine.dispose()
    records = Counter(row.code_sha256 for row in rows)
    outcomes = {row.code_sha256: row.outcome for row in rows}
    answered = [hashlib.sha256(code.encode()).hexdigest() for code in ok_codes]
    return AuditCheck(
        answered_ok=len(answered),
        recorded_once=sum(1 for digest in answered if records[digest] == 1),
        missing=sum(1 for digest in answered if records[digest] == 0),
        duplicated=sum(1 for count in records.values() if count > 1),
        not_ok_in_audit=sum(1 for digest in answered if outcomes.get(digest, "ok") != "ok"),
    )


def tokens_for(cluster: Cluster, count: int, prefix: str = "load") -> list[str]:
    """One user per session, as in real use; development tokens for nginx's URL."""
    config = load_config(cluster.config_path)
    return [mint_dev_token(config, f"{prefix}{i}@example.com", [], 3600) for i in range(count)]


def _spec(folder: Path, replicas: int) -> ClusterSpec:
    # The per-user rate is generous: each session is one user executing back to back.
    return ClusterSpec(
        folder=folder, replicas=replicas, servers=SERVERS, executions={"per_minute": 6000, "in_flight": 4}
    )


# --- the three runs ---------------------------------------------------------------------------------


def _scaling(workdir: Path, sessions: int, seconds: float) -> list[tuple[int, Tally, AuditCheck]]:
    results = []
    for replicas in (1, 2, 3):
        cluster = Cluster(_spec(workdir / f"scale-{replicas}", replicas))
        try:
            cluster.start()
            since = datetime.now(UTC)
            tally = anyio.run(drive, f"{cluster.url}/mcp", tokens_for(cluster, sessions), seconds)
            results.append((replicas, tally, audit_check(cluster.postgres.url, tally.ok_codes, since)))
        finally:
            cluster.stop()
    return results


def _kill_test(workdir: Path, sessions: int, seconds: float) -> tuple[Tally, AuditCheck, list[str]]:
    cluster = Cluster(_spec(workdir / "kill", 3))
    log: list[str] = []
    victim = None
    try:
        cluster.start()
        victim = cluster.replicas[1]
        start = time.monotonic()

        async def kill() -> None:
            await anyio.to_thread.run_sync(cluster.kill_replica, victim)
            log.append(f"{time.monotonic() - start:.1f} s: kill -9 {victim.name}")

        async def restart() -> None:
            log.append(f"{time.monotonic() - start:.1f} s: {victim.name} started again")
            await anyio.to_thread.run_sync(cluster.start_replica, victim)
            log.append(f"{time.monotonic() - start:.1f} s: {victim.name} restarted and ready")

        since = datetime.now(UTC)
        tokens = tokens_for(cluster, sessions)
        events = [(seconds / 3, kill), (2 * seconds / 3, restart)]
        tally = anyio.run(lambda: drive(f"{cluster.url}/mcp", tokens, seconds, events=events))
        return tally, audit_check(cluster.postgres.url, tally.ok_codes, since), log
    finally:
        cluster.stop()


def _ready_states(cluster: Cluster) -> str:
    states = []
    for replica in cluster.replicas:
        try:
            states.append(str(httpx.get(f"{replica.url}/readyz", timeout=5).status_code))
        except httpx.TransportError:
            states.append("down")
    return "/".join(states)


def _postgres_test(workdir: Path, sessions: int, seconds: float) -> tuple[Tally, AuditCheck, list[str]]:
    cluster = Cluster(_spec(workdir / "postgres", 3))
    log: list[str] = []
    try:
        cluster.start()
        start = time.monotonic()

        async def stop_database() -> None:
            await anyio.to_thread.run_sync(cluster.postgres.stop)
            log.append(f"{time.monotonic() - start:.1f} s: PostgreSQL stopped (fast: every session ended)")
            await anyio.sleep(1)
            states = await anyio.to_thread.run_sync(_ready_states, cluster)
            log.append(f"{time.monotonic() - start:.1f} s: /readyz of the replicas: {states}")

        async def start_database() -> None:
            await anyio.to_thread.run_sync(cluster.postgres.start)
            log.append(f"{time.monotonic() - start:.1f} s: PostgreSQL started")
            await anyio.sleep(2)
            states = await anyio.to_thread.run_sync(_ready_states, cluster)
            log.append(f"{time.monotonic() - start:.1f} s: /readyz of the replicas: {states}")

        since = datetime.now(UTC)
        tokens = tokens_for(cluster, sessions, prefix="pg")
        third = seconds / 3
        events = [(third, stop_database), (third + 5, start_database)]
        tally = anyio.run(lambda: drive(f"{cluster.url}/mcp", tokens, seconds, events=events))
        return tally, audit_check(cluster.postgres.url, tally.ok_codes, since), log
    finally:
        cluster.stop()


# --- the report -------------------------------------------------------------------------------------


def _percentile(tally: Tally, q: float) -> str:
    return fmt_ms(percentile(tally.latencies_ms, q)) if tally.latencies_ms else "-"


def _errors(tally: Tally) -> str:
    if not tally.errors:
        return "0"
    return (
        f"{tally.error_count:,} (" + "; ".join(f"{n} {kind}" for kind, n in tally.errors.most_common()) + ")"
    )


def run_cluster_bench(quick: bool = False) -> Section:
    sessions, seconds = (8, 6.0) if quick else (32, 20.0)
    kill_sessions, kill_seconds = (16, 15.0) if quick else (64, 60.0)
    pg_sessions, pg_seconds = (8, 15.0) if quick else (16, 30.0)
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        workdir = Path(tmp)
        scaling = _scaling(workdir, sessions, seconds)
        killed, killed_audit, kill_log = _kill_test(workdir, kill_sessions, kill_seconds)
        database, database_audit, database_log = _postgres_test(workdir, pg_sessions, pg_seconds)
    rows = []
    for replicas, tally, check in scaling:
        throughput = len(tally.ok_codes) / tally.wall_seconds
        rows.append(
            [
                f"{replicas} replica{'s' if replicas > 1 else ''}",
                f"{throughput:,.1f}/s",
                _percentile(tally, 50),
                _percentile(tally, 99),
                _errors(tally),
                "holds" if check.holds else "**fails**",
            ]
        )
    notes = f"""\
Each row is a fresh cluster from `deploy/` (the parts of `make cluster`): PostgreSQL 15 from
Debian's package, N replicas (`portal serve`, the demo GitLab and Jira servers against their fakes) and
nginx 1.22 in front, all on 127.0.0.1 of this {_cores()}-core machine, which also runs the load
generator. Same load for each row: {sessions} handshake-era sessions of the official MCP client (one
user each) through nginx, each executing back to back for {seconds:.0f} s a program with two tool
calls; throughput is executes answered ok over the wall time, latency is per execute at the client.
On this machine the replicas share two cores with nginx, PostgreSQL and the clients, so more
replicas cannot add CPU: the rows show the overhead and the correctness of spreading, not the gain
of more machines. Other work on this shared machine moves the figures by a quarter between runs.

**Kill test** ({kill_sessions} sessions for {kill_seconds:.0f} s, 3 replicas): {"; ".join(kill_log)}.
Executes answered ok: {len(killed.ok_codes):,}; errors seen by clients: {_errors(killed)};
sessions opened: {killed.sessions_opened:,} ({kill_sessions} at the start, the rest re-initialised
after their replica died). Only requests in flight on the killed replica fail ("SSE stream ended
without a response": the answer was cut off; a session that was idle then gets 404 on its next
request); each such client opens a new session and goes on. Audit check: {killed_audit.describe()}.

**PostgreSQL restarted** ({pg_sessions} sessions for {pg_seconds:.0f} s, 3 replicas):
{"; ".join(database_log)}. Executes answered ok: {len(database.ok_codes):,}; errors: {_errors(database)}.
While the database is away an execute is answered `PortalError` (its audit record cannot be written,
so it is never answered ok) and `/readyz` answers 503. Audit check: {database_audit.describe()}.
"""
    return Section(
        title=REPORT_TITLE,
        header=["Cluster", "Throughput (ok)", "p50", "p99", "Errors", "Audit check"],
        rows=rows,
        notes=notes,
        figures={
            "kill_ok": len(killed.ok_codes),
            "kill_errors": killed.error_count,
            "kill_audit_holds": float(killed_audit.holds),
            "postgres_audit_holds": float(database_audit.holds),
        },
    )


def _cores() -> int:
    return os.cpu_count() or 1


def write_section(report: Path, section: Section) -> None:
    """Replace this benchmark's section of the report (or append it); other sections stay as they are."""
    text = report.read_text(encoding="utf-8") if report.exists() else ""
    heading = f"## {REPORT_TITLE}"
    start = text.find(heading)
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section.markdown()
    else:
        end = text.find("\n## ", start + len(heading))
        text = text[:start] + section.markdown() + (text[end + 1 :] if end != -1 else "")
    report.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cluster", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter runs, fewer sessions")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    section = run_cluster_bench(args.quick)
    write_section(args.output, section)
    print(section.markdown())
    return 0 if section.figures["kill_audit_holds"] and section.figures["postgres_audit_holds"] else 1


if __name__ == "__main__":
    sys.exit(main())
