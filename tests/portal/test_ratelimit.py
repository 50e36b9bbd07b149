"""Per-user admission: a rate per minute and a cap on runs in flight, each refused with its own error."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest

from portal.config import PortalConfig
from portal.ratelimit import LocalAdmission, RateLimited
from portal.runtime import open_runtime


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.anyio
async def test_the_bucket_refills_at_the_configured_rate_per_user() -> None:
    clock = Clock()
    admission = LocalAdmission(per_minute=2, in_flight_cap=None, clock=clock)
    for _ in range(2):
        async with admission.admit("ann"):
            pass
    with pytest.raises(RateLimited) as refused:
        async with admission.admit("ann"):
            pass
    assert refused.value.retry_after == pytest.approx(30.0)
    async with admission.admit("bob"):  # another user has a bucket of their own
        pass
    clock.now += 30
    async with admission.admit("ann"):
        pass


@pytest.mark.anyio
async def test_runs_in_flight_are_capped_and_released() -> None:
    admission = LocalAdmission(per_minute=None, in_flight_cap=1)
    async with admission.admit("ann"):
        with pytest.raises(RateLimited, match="already have 1 executions running"):
            async with admission.admit("ann"):
                pass
        async with admission.admit("bob"):
            pass
    async with admission.admit("ann"):  # released when the first run ended
        pass


@pytest.mark.anyio
async def test_a_slot_is_released_when_the_run_fails() -> None:
    admission = LocalAdmission(per_minute=None, in_flight_cap=1)
    with pytest.raises(ZeroDivisionError):
        async with admission.admit("ann"):
            1 / 0  # noqa: B018
    async with admission.admit("ann"):
        pass


@pytest.mark.anyio
async def test_execute_refuses_past_the_rate_with_its_own_error_and_audits_it(tmp_path: Path) -> None:
    from portal.audit import AuditQuery

    config = PortalConfig.model_validate(
        {"state_dir": str(tmp_path), "executions": {"per_minute": 3, "in_flight": None}}
    )
    async with open_runtime(config) as runtime:
        principal = await runtime.principal_for("ann@example.com")
        outcomes = [await runtime.codemode.execute("1 + 1", principal) for _ in range(4)]
        records = runtime.audit.query(AuditQuery())
    answers = [json.loads(o.text) for o in outcomes]
    assert [a["value"] for a in answers[:3]] == [2, 2, 2]
    assert answers[3]["error"]["type"] == "RateLimited"
    assert "the limit is 3 a minute" in answers[3]["error"]["message"]
    assert records[0]["outcome"] == records[0]["limit_hit"] == "RateLimited"


@pytest.mark.anyio
async def test_concurrent_runs_of_one_user_beyond_the_cap_are_refused(tmp_path: Path) -> None:
    config = PortalConfig.model_validate(
        {"state_dir": str(tmp_path), "executions": {"per_minute": None, "in_flight": 2}}
    )
    types: list[str | None] = []
    async with open_runtime(config) as runtime:
        principal = await runtime.principal_for("ann@example.com")

        async def run() -> None:
            outcome = await runtime.codemode.execute("sum(range(3_000_000))", principal)
            error = json.loads(outcome.text)["error"]
            types.append(error["type"] if error else None)

        async with anyio.create_task_group() as group:
            for _ in range(4):
                group.start_soon(run)
    assert sorted(t or "ok" for t in types) == ["RateLimited", "RateLimited", "ok", "ok"]
