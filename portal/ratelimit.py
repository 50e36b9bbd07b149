"""Per-user admission for executions: a rate (token bucket) and a cap on runs in flight.

The sandbox bounds one run; this bounds how many runs one user may start, so
no single caller can occupy every worker or burn the upstream systems' quotas.

Two implementations of one `Admission` seam:

- `LocalAdmission` keeps the counts in memory: right for one process (the
  SQLite default); a user spread over N such replicas would get N times the rate.
- `SharedAdmission` keeps them in the database, so every replica on one
  PostgreSQL enforces the same limits. The user's bucket row is the lock: one
  transaction inserts it if missing, locks it (``SELECT ... FOR UPDATE``),
  counts the user's live leases, refills and takes a token, and writes a lease.
  A lease expires by itself after the run's wall limit plus a margin, so the
  runs of a replica killed mid-way stop counting without anyone cleaning up.

`admission_for` picks the shared one when the store is PostgreSQL.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

import anyio
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from portal.store import AdmissionBucket, AdmissionLease, Store

__all__ = [
    "LEASE_MARGIN_SECONDS",
    "Admission",
    "LocalAdmission",
    "RateLimited",
    "SharedAdmission",
    "admission_for",
]

logger = logging.getLogger(__name__)
# A lease outlives its run's wall limit by this much: the run's audit write and clock skew between replicas.
LEASE_MARGIN_SECONDS = 15.0


class RateLimited(Exception):
    """Refused before running; ``retry_after`` is in seconds (0 when waiting on runs in flight)."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Admission(Protocol):
    def admit(self, user_id: str, hold_seconds: float) -> AbstractAsyncContextManager[None]:
        """Hold one of the user's slots for a run of at most ``hold_seconds``, or raise RateLimited."""
        ...


def _too_many_running(running: int, cap: int) -> RateLimited:
    return RateLimited(
        f"you already have {running} executions running (the limit is {cap}): "
        "wait for them to finish, or combine the work into one program",
        0.0,
    )


def _too_fast(per_minute: int, tokens: float) -> RateLimited:
    wait = (1.0 - tokens) / (per_minute / 60.0)
    return RateLimited(
        f"too many executions: the limit is {per_minute} a minute; retry in {wait:.1f} s, "
        "or do more in one program",
        wait,
    )


def _refill(tokens: float, updated: float, now: float, per_minute: int) -> float:
    """The bucket's tokens at ``now``; a clock behind the last update (another replica's) adds nothing."""
    return min(float(per_minute), tokens + max(0.0, now - updated) * per_minute / 60.0)


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class LocalAdmission:
    """The limits of one process, in memory."""

    per_minute: int | None
    in_flight_cap: int | None
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _running: dict[str, int] = field(default_factory=dict)

    @asynccontextmanager
    async def admit(self, user_id: str, hold_seconds: float = 0.0) -> AsyncIterator[None]:
        running = self._running.get(user_id, 0)
        if self.in_flight_cap is not None and running >= self.in_flight_cap:
            raise _too_many_running(running, self.in_flight_cap)
        self._take_token(user_id)
        self._running[user_id] = running + 1
        try:
            yield
        finally:
            left = self._running[user_id] - 1
            if left:
                self._running[user_id] = left
            else:
                del self._running[user_id]

    def _take_token(self, user_id: str) -> None:
        if self.per_minute is None:
            return
        now = self.clock()
        bucket = self._buckets.get(user_id) or _Bucket(float(self.per_minute), now)
        bucket.tokens, bucket.updated = _refill(bucket.tokens, bucket.updated, now, self.per_minute), now
        self._buckets[user_id] = bucket
        if bucket.tokens < 1.0:
            raise _too_fast(self.per_minute, bucket.tokens)
        bucket.tokens -= 1.0


class SharedAdmission:
    """The limits of every replica on one database; times are wall-clock seconds (shared by replicas)."""

    def __init__(
        self,
        store: Store,
        per_minute: int | None,
        in_flight_cap: int | None,
        *,
        clock: Callable[[], float] = time.time,
        replica: str | None = None,
    ) -> None:
        self._store = store
        self.per_minute = per_minute
        self.in_flight_cap = in_flight_cap
        self._clock = clock
        self.replica = replica or uuid.uuid4().hex  # names this process's leases, for an operator

    @asynccontextmanager
    async def admit(self, user_id: str, hold_seconds: float) -> AsyncIterator[None]:
        if self.per_minute is None and self.in_flight_cap is None:
            yield
            return
        lease = await self._store.call(lambda session: self._take(session, user_id, hold_seconds))
        try:
            yield
        finally:
            if lease is not None:
                with anyio.CancelScope(shield=True):  # a cancelled run gives its slot back too
                    await self._release(lease)

    def _take(self, session: Session, user_id: str, hold_seconds: float) -> str | None:
        """Admit one run in this transaction, or raise RateLimited (which rolls it back)."""
        now = self._clock()
        tokens, updated = _locked_bucket(session, user_id, float(self.per_minute or 0), now)
        if self.in_flight_cap is not None:
            running = _live_leases(session, user_id, now)
            if running >= self.in_flight_cap:
                raise _too_many_running(running, self.in_flight_cap)
        if self.per_minute is not None:
            tokens = _refill(tokens, updated, now, self.per_minute)
            if tokens < 1.0:
                raise _too_fast(self.per_minute, tokens)
            session.execute(
                update(AdmissionBucket)
                .where(AdmissionBucket.user_id == user_id)
                .values(tokens=tokens - 1.0, updated_at=max(now, updated))
            )
        if self.in_flight_cap is None:
            return None
        lease = uuid.uuid4().hex
        expires = now + hold_seconds + LEASE_MARGIN_SECONDS
        session.add(AdmissionLease(id=lease, user_id=user_id, replica=self.replica, expires_at=expires))
        return lease

    async def _release(self, lease: str) -> None:
        """Delete the lease and, while at it, the user's expired ones; a failure only lets it lapse."""
        try:
            await self._store.call(lambda session: _drop_lease(session, lease, self._clock()))
        except Exception:
            logger.warning("could not release admission lease %s: it lapses at its expiry", lease)


def _locked_bucket(session: Session, user_id: str, full: float, now: float) -> tuple[float, float]:
    """The user's bucket, created full when missing, locked until the transaction ends (PostgreSQL)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(AdmissionBucket)
        .values(user_id=user_id, tokens=full, updated_at=now)
        .on_conflict_do_nothing(index_elements=["user_id"])
    )
    row = session.execute(
        select(AdmissionBucket.tokens, AdmissionBucket.updated_at)
        .where(AdmissionBucket.user_id == user_id)
        .with_for_update()
    ).one()
    return float(row.tokens), float(row.updated_at)


def _live_leases(session: Session, user_id: str, now: float) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(AdmissionLease)
            .where(AdmissionLease.user_id == user_id, AdmissionLease.expires_at > now)
        )
        or 0
    )


def _drop_lease(session: Session, lease: str, now: float) -> None:
    user_id = session.scalar(select(AdmissionLease.user_id).where(AdmissionLease.id == lease))
    session.execute(delete(AdmissionLease).where(AdmissionLease.id == lease))
    if user_id is not None:  # leases of killed replicas, which nobody else releases
        session.execute(
            delete(AdmissionLease).where(AdmissionLease.user_id == user_id, AdmissionLease.expires_at <= now)
        )


def admission_for(store: Store, per_minute: int | None, in_flight_cap: int | None) -> Admission:
    """Shared limits on PostgreSQL (several replicas); in memory on SQLite (one process)."""
    if store.engine.dialect.name == "postgresql":
        return SharedAdmission(store, per_minute, in_flight_cap)
    return LocalAdmission(per_minute, in_flight_cap)
