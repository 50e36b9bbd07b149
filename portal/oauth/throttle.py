"""A per-address rate on ``/register``: registration is open to anyone, so it is the cheapest thing to flood.

One token bucket per client address (``burst`` at once, then ``per_minute``),
kept in memory per replica: a flood spread over N replicas gets N times the
rate, and the purge (`portal.oauth.housekeeping`) removes whatever it leaves
behind. IPv6 addresses count per /64, the block one host is usually handed, so
cycling through one's own addresses does not reset the bucket. Behind a reverse
proxy the address is the one uvicorn takes from ``X-Forwarded-For`` when the
proxy is trusted (``--forwarded-allow-ips``); otherwise it is the proxy's.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["RegistrationLimiter", "address_key"]

# Memory bound: past this many addresses, buckets that have refilled (forgettable) are dropped.
MAX_TRACKED_ADDRESSES = 50_000


def address_key(host: str | None) -> str:
    """The bucket an address counts against: an IPv4 address, an IPv6 /64, or one shared bucket."""
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return "unknown"  # no peer address (a Unix socket, a test transport): all such callers share one
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RegistrationLimiter:
    def __init__(self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.burst = burst
        self._rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, host: str | None) -> float | None:
        """Count one registration from ``host``: None when admitted, else the seconds until one would be."""
        key, now = address_key(host), self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            self._make_room(now)
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self._rate)
        bucket.updated = now
        if bucket.tokens < 1.0:
            return (1.0 - bucket.tokens) / self._rate
        bucket.tokens -= 1.0
        return None

    def _make_room(self, now: float) -> None:
        if len(self._buckets) < MAX_TRACKED_ADDRESSES:
            return
        refilled = [
            key
            for key, bucket in self._buckets.items()
            if bucket.tokens + (now - bucket.updated) * self._rate >= self.burst
        ]
        for key in refilled:
            del self._buckets[key]
        if len(self._buckets) >= MAX_TRACKED_ADDRESSES:
            self._buckets.clear()  # every tracked address is mid-flood: start over rather than grow
