"""Issue 10, item 4: 2,000 registrations in 30 s grew the database from 440 KB to 12 MB.

Registration is open (RFC 7591), so ``/register`` is rate-limited per client
address (portal/oauth/throttle.py) and answers a flood with 429, ``Retry-After``
and an OAuth JSON error, before the body is read or anything is stored.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from oauth_app import oauth_app

from portal.oauth.throttle import RegistrationLimiter, address_key

pytestmark = pytest.mark.anyio

LIMITS = {"registration": {"per_minute": 1, "burst": 5}}


async def test_registration_flood_from_one_address_is_rate_limited(tmp_path: Path) -> None:
    with oauth_app(tmp_path, LIMITS) as portal:
        before = portal.rows()["clients"]
        answers = [await portal.register("198.51.100.9") for _ in range(40)]
        statuses = [answer.status_code for answer in answers]
        assert statuses == [201] * 5 + [429] * 35
        refused = answers[-1]
        assert refused.json()["error"] == "temporarily_unavailable"
        assert "1 a minute" in refused.json()["error_description"]
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.headers["cache-control"] == "no-store"
        assert portal.rows()["clients"] == before + 5
        # Another address is not punished for the flood.
        assert (await portal.register("198.51.100.10")).status_code == 201


def test_addresses_of_one_ipv6_64_share_a_bucket() -> None:
    assert address_key("2001:db8:1:2::1") == address_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:198.51.100.9") == "198.51.100.9"
    assert address_key(None) == address_key("not an address") == "unknown"


def test_the_bucket_refills_at_the_configured_rate() -> None:
    now = [0.0]
    limiter = RegistrationLimiter(per_minute=6, burst=2, clock=lambda: now[0])
    assert [limiter.take("192.0.2.1") for _ in range(2)] == [None, None]
    wait = limiter.take("192.0.2.1")
    assert wait is not None and wait == pytest.approx(10.0)
    now[0] = 10.0
    assert limiter.take("192.0.2.1") is None
    assert limiter.take("192.0.2.1") is not None
