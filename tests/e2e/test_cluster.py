"""A real cluster: PostgreSQL, two portal replicas and nginx in front (deploy/, what `make cluster` runs).

Executes go through nginx with the official MCP client; the limits of a user hold
across replicas; a session whose replica dies is answered 404 and a new one works;
a replica killed under load loses no audit record; SIGTERM drains an execute in flight.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import anyio
import anyio.to_thread
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from sqlalchemy import create_engine, func, select

from bench.cluster import audit_check, drive, tokens_for
from deploy import Cluster, ClusterSpec, Replica
from portal.identity import Identities
from portal.store import AdmissionLease, open_store

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(240)]
PER_MINUTE, IN_FLIGHT = 40, 2
SLOW = "sum(range(60_000_000))"  # about a second of CPU in the sandbox


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    spec = ClusterSpec(
        folder=tmp_path_factory.mktemp("cluster"),
        replicas=2,
        servers=("gitlab", "jira"),
        executions={"per_minute": PER_MINUTE, "in_flight": IN_FLIGHT},
        drain_seconds=20,
    )
    running = Cluster(spec)
    try:
        running.start()
        yield running
    finally:
        running.stop()


@asynccontextmanager
async def session(
    url: str, token: str, legacy: bool = False, seen: list[tuple[int, str | None]] | None = None
) -> AsyncIterator[Client]:
    """An official MCP client; ``seen`` collects each HTTP answer's status and session id."""

    async def record(response: httpx2.Response) -> None:
        if seen is not None:
            seen.append((response.status_code, response.headers.get("mcp-session-id")))

    async with (
        httpx2.AsyncClient(
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx2.Timeout(60.0),
            event_hooks={"response": [record]},
        ) as http,
        Client(
            streamable_http_client(f"{url}/mcp", http_client=http), mode="legacy" if legacy else "auto"
        ) as c,
    ):
        yield c


async def execute(client: Client, code: str) -> dict:
    result = await client.call_tool("portal_codemode_execute", {"code": code})
    return json.loads(result.content[0].text)  # type: ignore[union-attr]


def executions_served(replica: Replica) -> float:
    """The replica's own count of executions answered ok (its /metrics, loopback only)."""
    for line in httpx.get(f"{replica.url}/metrics", timeout=10).text.splitlines():
        if line.startswith('portal_executions_total{outcome="ok"}'):
            return float(line.split()[-1])
    return 0.0


def token(cluster: Cluster, user: str) -> str:
    return tokens_for(cluster, 1, prefix=user)[0]


async def test_executes_through_nginx_reach_both_replicas_and_each_ok_answer_has_one_audit_record(
    cluster: Cluster,
) -> None:
    since = datetime.now(UTC)
    tally = await drive(f"{cluster.url}/mcp", tokens_for(cluster, 6, prefix="spread"), 3.0, legacy=False)
    # Refusals of the low per-minute limit the rate test needs are answers, not errors.
    failures = tally.error_count - tally.errors["answered not ok: RateLimited"]
    assert (failures, len(tally.ok_codes) > 10) == (0, True), tally.errors
    assert all(executions_served(replica) > 0 for replica in cluster.replicas)
    assert (await anyio.to_thread.run_sync(audit_check, cluster.postgres.url, tally.ok_codes, since)).holds


async def test_the_rate_of_a_user_holds_across_replicas(cluster: Cluster) -> None:
    minted = token(cluster, "rate")
    types: list[str] = []
    started = time.monotonic()
    async with (
        session(cluster.replicas[0].url, minted) as first,
        session(cluster.replicas[1].url, minted) as second,
    ):
        for index in range(PER_MINUTE + 20):  # alternating: each replica alone would admit all of them
            answer = await execute((first, second)[index % 2], "1 + 1")
            types.append("ok" if answer["ok"] else answer["error"]["type"])
    refilled = math.ceil((time.monotonic() - started) * PER_MINUTE / 60)
    assert PER_MINUTE <= types.count("ok") <= PER_MINUTE + refilled
    assert set(types) == {"ok", "RateLimited"}
    assert types[:PER_MINUTE] == ["ok"] * PER_MINUTE


async def test_runs_in_flight_of_a_user_are_capped_across_replicas(cluster: Cluster) -> None:
    minted = token(cluster, "inflight")
    types: list[str] = []

    async def run(url: str) -> None:
        async with session(url, minted) as client:
            answer = await execute(client, SLOW)
            types.append("ok" if answer["ok"] else answer["error"]["type"])

    with anyio.fail_after(60):
        async with anyio.create_task_group() as group:
            for replica in cluster.replicas * 2:
                group.start_soon(run, replica.url)
    assert sorted(types) == ["RateLimited"] * (4 - IN_FLIGHT) + ["ok"] * IN_FLIGHT


async def test_a_session_whose_replica_died_is_answered_404_and_a_new_session_works(cluster: Cluster) -> None:
    minted, seen = token(cluster, "affinity"), []
    async with session(cluster.url, minted, legacy=True, seen=seen) as client:
        assert (await execute(client, "1 + 1"))["ok"] is True
        session_id = next(sid for _, sid in seen if sid)
        home = next(r for r in cluster.replicas if session_id.startswith(f"{r.name}."))  # the replica made it
        await anyio.to_thread.run_sync(cluster.kill_replica, home)
        try:
            with pytest.raises(MCPError):
                await execute(client, "1 + 1")
            assert seen[-1] == (404, None)
            async with session(cluster.url, minted, legacy=True) as again:  # the client re-initialises
                assert (await execute(again, "2 + 2"))["value"] == 4
        finally:
            await anyio.to_thread.run_sync(cluster.start_replica, home)


async def test_killing_a_replica_under_load_loses_no_audit_record(cluster: Cluster) -> None:
    victim = cluster.replicas[1]

    async def kill() -> None:
        await anyio.to_thread.run_sync(cluster.kill_replica, victim)

    since = datetime.now(UTC)
    tokens = tokens_for(cluster, 8, prefix="killed")
    try:
        tally = await drive(f"{cluster.url}/mcp", tokens, 6.0, events=[(2.0, kill)])
    finally:
        await anyio.to_thread.run_sync(cluster.start_replica, victim)
    check = await anyio.to_thread.run_sync(audit_check, cluster.postgres.url, tally.ok_codes, since)
    assert (check.holds, check.missing, check.duplicated) == (True, 0, 0)
    assert len(tally.ok_codes) > 20
    # The rate test wants a low per-minute limit: a fast machine reaches it here, and that is no failure.
    failures = tally.error_count - tally.errors["answered not ok: RateLimited"]
    assert failures <= 2 * len(tokens)  # at most the request in flight and the 404 of each session


async def test_sigterm_answers_the_execute_in_flight_and_then_the_replica_stops(cluster: Cluster) -> None:
    replica = cluster.replicas[0]
    minted, answers = token(cluster, "drain"), []

    async def run() -> None:
        try:
            async with session(replica.url, minted) as client:
                # The client checks a result against the tool's outputSchema: list the tools now, while
                # the replica still listens, so the execute is the only request left in flight.
                await client.list_tools()
                answers.append(await execute(client, SLOW))
        except Exception:  # noqa: BLE001 - closing the client reaches a replica that has stopped listening
            if not answers:
                raise

    try:
        with anyio.fail_after(90):
            async with anyio.create_task_group() as group:
                group.start_soon(run)
                user_id = await anyio.to_thread.run_sync(_user_id, cluster, "drain0@example.com")
                await anyio.to_thread.run_sync(_wait_for_a_lease, cluster, user_id)  # the execute runs
                assert replica.process is not None
                replica.process.send_signal(signal.SIGTERM)
                code = await anyio.to_thread.run_sync(replica.process.wait)
        assert [a["ok"] for a in answers] == [True]
        assert code in (0, -signal.SIGTERM)
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{replica.url}/healthz", timeout=5)
    finally:
        await anyio.to_thread.run_sync(cluster.start_replica, replica)


def _user_id(cluster: Cluster, email: str) -> str:
    store = open_store(cluster.postgres.url)
    try:
        return Identities(store).user_id_sync(email)
    finally:
        store.close()


def _wait_for_a_lease(cluster: Cluster, user_id: str) -> None:
    """Until the user holds an admission lease: their execute was admitted and runs (bounded)."""
    engine = create_engine(cluster.postgres.url)
    deadline = time.monotonic() + 30
    leases = select(func.count()).select_from(AdmissionLease).where(AdmissionLease.user_id == user_id)
    try:
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                if connection.scalar(leases):
                    return
            time.sleep(0.02)  # polling another process's database row; bounded by the deadline
    finally:
        engine.dispose()
    raise TimeoutError("no execute was admitted within 30 s")


async def test_the_cluster_description_names_every_part_and_portal_token_mints_for_nginx(
    cluster: Cluster,
) -> None:
    described = json.loads((cluster.folder / "cluster.json").read_text())
    assert described["url"] == cluster.url
    assert Path(described["config"]) == cluster.config_path
    assert [(r["pid"], r["port"]) for r in described["replicas"]] == [
        (r.pid, r.port) for r in cluster.replicas
    ]
    minted = subprocess.run(
        [
            sys.executable,
            "-m",
            "portal.cli",
            "token",
            "--config",
            described["config"],
            "--user",
            "cli@example.com",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")},
    )
    assert minted.returncode == 0, minted.stderr
    async with session(described["url"], minted.stdout.strip()) as client:
        assert (await execute(client, "6 * 7"))["value"] == 42
