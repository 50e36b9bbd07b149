"""Per-user admission for executions: a rate (token bucket) and a cap on runs in flight.

The sandbox bounds one run; this bounds how many runs one user may start, so
no single caller can occupy every worker or burn the upstream systems' quotas.
Kept in memory per replica: a user spread over N replicas gets N times the rate.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

__all__ = ["Admission", "RateLimited"]


class RateLimited(Exception):
    """Refused before running; ``retry_after`` is in seconds (0 when waiting on runs in flight)."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class Admission:
    per_minute: int | None
    in_flight_cap: int | None
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _running: dict[str, int] = field(default_factory=dict)

    @contextmanager
    def admit(self, user_id: str) -> Iterator[None]:
        """Hold one of the user's slots for the duration of a run, or raise RateLimited."""
        running = self._running.get(user_id, 0)
        if self.in_flight_cap is not None and running >= self.in_flight_cap:
            raise RateLimited(
                f"you already have {running} executions running (the limit is {self.in_flight_cap}): "
                "wait for them to finish, or combine the work into one program",
                0.0,
            )
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
        now, rate = self.clock(), self.per_minute / 60.0
        bucket = self._buckets.get(user_id) or _Bucket(float(self.per_minute), now)
        bucket.tokens = min(float(self.per_minute), bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens < 1.0:
            wait = (1.0 - bucket.tokens) / rate
            self._buckets[user_id] = bucket
            raise RateLimited(
                f"too many executions: the limit is {self.per_minute} a minute; retry in {wait:.1f} s, "
                "or do more in one program",
                wait,
            )
        bucket.tokens -= 1.0
        self._buckets[user_id] = bucket
