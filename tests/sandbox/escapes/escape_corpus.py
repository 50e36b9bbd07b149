"""Payload tables for the escape corpus, and how each entry is run and judged.

A `Payload` is data: a sentence naming the attack, where the technique comes
from, the code, and what a safe sandbox must answer: an exact error type
(`error`), or a harmless value (`value`) for code the sandbox may run because
it reaches nothing. `needs` names a hardening feature the intended behaviour
depends on; such entries run as strict xfails until the feature lands, so the
assertion stays the intended one rather than today's behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import anyio
import pytest

from sandbox import ExecutionResult, Limits, run

# Small limits keep the denial-of-service payloads fast (see the brief in docs/sandbox.md).
DOS_LIMITS: Final = Limits(wall_seconds=2, cpu_seconds=1, memory_bytes=256 * 1024 * 1024)

# How long a trivial run beside an attack may take before the portal counts as starved.
BYSTANDER_SECONDS: Final = 5

_NO_VALUE: Final = object()


@dataclass(frozen=True)
class Payload:
    """One attack and the answer a safe sandbox gives it."""

    name: str
    technique: str
    code: str
    error: str | None = None
    value: Any = _NO_VALUE
    needs: str | None = None


def blocked(name: str, technique: str, code: str, error: str, *, needs: str | None = None) -> Payload:
    """An attack the sandbox must stop with exactly `error`."""
    return Payload(name, technique, code, error=error, needs=needs)


def harmless(name: str, technique: str, code: str, value: Any) -> Payload:
    """Code that runs but must reach nothing beyond the harmless `value`."""
    return Payload(name, technique, code, value=value)


def params(payloads: list[Payload]) -> list[Any]:
    """pytest parameters, one per payload, the name as the id."""
    names = [p.name for p in payloads]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"payload names must be unique: {sorted(duplicates)}")
    return [pytest.param(p, id=p.name, marks=_marks(p)) for p in payloads]


def _marks(payload: Payload) -> list[Any]:
    if payload.needs is None:
        return []
    return [pytest.mark.xfail(strict=True, reason=f"needs {payload.needs}")]


def assert_stopped(result: ExecutionResult, payload: Payload) -> None:
    """The result is the one the payload expects, and nothing leaked alongside an error."""
    context = f"{payload.name} ({payload.technique}): {result}"
    if payload.error is not None:
        assert result.error is not None, context
        assert result.error.type == payload.error, context
        assert not result.ok and result.value is None, context
    else:
        assert result.error is None, context
        assert result.value == payload.value, context


class _StartSignal:
    """A bridge whose one tool, `probe.started()`, tells the test the attack is running."""

    def __init__(self) -> None:
        self.started = anyio.Event()

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> None:
        self.started.set()


async def run_beside_a_bystander(code: str, *, limits: Limits, runs_code: bool = True) -> ExecutionResult:
    """Run an attack while another client runs `1+1`, which must be answered promptly.

    With `runs_code` the attack first calls `probe.started()`, and the bystander
    starts only once the attack's worker is executing, so it truly runs during
    the attack. Compile-time bombs never execute; their bystander starts at once.
    """
    signal = _StartSignal()
    if runs_code:
        code = "probe.started()\n" + code
    attack: list[ExecutionResult] = []

    async def attacker() -> None:
        attack.append(await run(code, tools={"probe": ["started"]}, bridge=signal, limits=limits))

    with anyio.fail_after(limits.wall_seconds + 2 * BYSTANDER_SECONDS):
        async with anyio.create_task_group() as group:
            group.start_soon(attacker)
            if runs_code:
                await signal.started.wait()
            with anyio.fail_after(BYSTANDER_SECONDS):
                bystander = await run("1+1")
            assert bystander.ok and bystander.value == 2, bystander
    return attack[0]
