"""Graceful and honest health: the drain gate, /readyz apart from /healthz, replica-named session ids."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from portal_testing import free_port
from sqlalchemy import create_engine
from starlette.types import Receive, Scope, Send

from portal.app import create_app
from portal.config import PortalConfig
from portal.drain import Drain, DrainGate
from portal.readiness import Readiness
from portal.session_affinity import ReplicaSessionIds
from portal.store import Store

pytestmark = pytest.mark.anyio


class HeldApp:
    """An ASGI app whose POST answers only when told to: a request in flight."""

    def __init__(self) -> None:
        self.entered = anyio.Event()
        self.proceed = anyio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] == "POST":
            self.entered.set()
            await self.proceed.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"answered"})


def client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:9")


async def test_a_request_in_flight_is_answered_while_new_ones_get_503_with_retry_after() -> None:
    held, drain = HeldApp(), Drain(deadline_seconds=30)
    answers: list[httpx.Response] = []
    async with client(DrainGate(held, drain)) as http:

        async def in_flight() -> None:
            answers.append(await http.post("/mcp", json={}))

        with anyio.fail_after(20):
            async with anyio.create_task_group() as group:
                group.start_soon(in_flight)
                await held.entered.wait()
                drain.begin()
                refused = await http.post("/mcp", json={})
                assert drain.in_flight == 1
                held.proceed.set()
                assert await drain.wait_idle() is True
    assert (refused.status_code, refused.headers["retry-after"]) == (503, "1")
    assert refused.json()["error"]["code"] == -32000
    assert [(a.status_code, a.text) for a in answers] == [(200, "answered")]


async def test_the_drain_stops_waiting_at_its_deadline() -> None:
    held, drain = HeldApp(), Drain(deadline_seconds=0.2)
    async with client(DrainGate(held, drain)) as http:
        with anyio.fail_after(20):
            async with anyio.create_task_group() as group:
                group.start_soon(http.post, "/mcp")
                await held.entered.wait()
                drain.begin()
                assert await drain.wait_idle() is False
                held.proceed.set()


async def test_a_session_can_still_be_closed_while_draining() -> None:
    held, drain = HeldApp(), Drain(deadline_seconds=1)
    drain.begin()
    async with client(DrainGate(held, drain)) as http:
        closed = await http.delete("/mcp")
        refused = await http.get("/mcp")
    assert (closed.status_code, refused.status_code) == (200, 503)


async def test_readyz_says_not_ready_when_the_database_is_unreachable_and_healthz_stays_ok(
    tmp_path: Path,
) -> None:
    unreachable = Store(create_engine(f"postgresql+psycopg://portal@127.0.0.1:{free_port()}/portal"))
    readiness = Readiness(unreachable, Drain(1))
    readiness.catalog_loaded = True
    try:
        ready, checks = await readiness.check()
    finally:
        unreachable.close()
    assert (ready, checks["database"], checks["status"]) == (False, "unreachable", "not ready")


async def test_readyz_turns_503_when_the_drain_begins_while_healthz_stays_200(tmp_path: Path) -> None:
    app = create_app(PortalConfig.model_validate({"state_dir": str(tmp_path / "state")}))
    async with app.router.lifespan_context(app), client(app) as http:
        before = await http.get("/readyz")
        app.state.drain.begin()
        after, alive = await http.get("/readyz"), await http.get("/healthz")
    assert (before.status_code, before.json()) == (
        200,
        {"status": "ready", "catalog": "loaded", "database": "reachable", "draining": False},
    )
    assert (after.status_code, after.json()["draining"], alive.status_code) == (503, True, 200)


class SessionEcho:
    """Answers with the session id it was sent (or a new one) in the Mcp-Session-Id header."""

    def __init__(self) -> None:
        self.seen: list[str | None] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sent = dict(scope["headers"]).get(b"mcp-session-id")
        self.seen.append(sent.decode() if sent else None)
        headers = [(b"mcp-session-id", sent or b"abc123")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


async def test_session_ids_name_their_replica_going_out_and_lose_the_name_coming_in() -> None:
    echo = SessionEcho()
    async with client(ReplicaSessionIds(echo, "r2")) as http:
        opened = await http.post("/mcp")
        again = await http.post("/mcp", headers={"mcp-session-id": opened.headers["mcp-session-id"]})
        foreign = await http.post("/mcp", headers={"mcp-session-id": "r1.abc123"})
    assert opened.headers["mcp-session-id"] == again.headers["mcp-session-id"] == "r2.abc123"
    assert echo.seen == [None, "abc123", "r1.abc123"]  # another replica's id reaches the SDK: unknown, 404
    assert foreign.status_code == 200


def test_a_replica_id_that_could_break_a_header_or_a_balancer_map_is_refused() -> None:
    with pytest.raises(ValueError, match="must match"):
        ReplicaSessionIds(SessionEcho(), "r1;\nx")
