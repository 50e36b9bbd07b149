"""Issue 10, item 4: a flood of registrations must not grow the database for good.

A client that got no code and no token within a day of registering is deleted,
and so are expired codes and refresh tokens (portal/oauth/housekeeping.py): in
the background of the app, and in one pass that the tests call with a clock
set ahead instead of waiting a day.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import pytest
import yaml
from oauth_app import REDIRECT_URI, oauth_app

from portal.app import create_app
from portal.oauth.housekeeping import purge_expired
from portal.oauth.storage import CodeGrant, OAuthStore
from portal.store import OAuthClient

pytestmark = pytest.mark.anyio

FLOOD = 150


async def _flood(portal_app: object, round_: int) -> list[str]:
    """One registration from each of FLOOD addresses: under the per-address limit, as a botnet would."""
    ids = []
    for n in range(FLOOD):
        answer = await portal_app.register(f"10.{round_}.{n // 250}.{n % 250}")  # type: ignore[attr-defined]
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["client_id"])
    return ids


async def _log_in(oauth: OAuthStore, client_id: str) -> None:
    """What a completed login leaves: a code, and the refresh token its exchange stored."""
    grant = CodeGrant(client_id, "u-1", [], ["mcp"], None, REDIRECT_URI, True, "c" * 43)
    await oauth.add_code(f"code-{client_id}", grant, ttl_seconds=300)
    await oauth.add_refresh(f"refresh-{client_id}", "family-1", grant, ttl_seconds=30 * 24 * 3600)


async def test_unused_clients_expire_and_are_purged(tmp_path: Path) -> None:
    with oauth_app(tmp_path) as portal:
        policy, oauth = portal.auth.purge_policy, OAuthStore(portal.store)
        empty = portal.rows()
        used = (await portal.register("192.0.2.1")).json()["client_id"]
        await _log_in(oauth, used)
        await _flood(portal, 1)
        assert portal.rows() == {"clients": empty["clients"] + FLOOD + 1, "codes": 1, "refresh": 1}
        now = datetime.now(UTC)

        # Within the day no client goes (one may take its time to log in); the expired code does.
        within_a_day = await purge_expired(portal.store, policy, now + timedelta(hours=23))
        assert (within_a_day.clients, within_a_day.codes, within_a_day.refresh_tokens) == (0, 1, 0)
        after_a_day = await purge_expired(portal.store, policy, now + timedelta(hours=25))
        assert (after_a_day.clients, after_a_day.codes, after_a_day.refresh_tokens) == (FLOOD, 0, 0)
        assert portal.rows() == {"clients": empty["clients"] + 1, "codes": 0, "refresh": 1}
        assert await oauth.client(used) is not None

        # A second flood, purged the same way: the database is back where it was, not bigger.
        await _flood(portal, 2)
        with portal.store.session() as session:  # as if registered a day ago
            for row in session.query(OAuthClient).filter(OAuthClient.client_id != used):
                row.created_at = row.created_at - timedelta(days=1, hours=1)
        await purge_expired(portal.store, policy)
        assert portal.rows() == {"clients": empty["clients"] + 1, "codes": 0, "refresh": 1}

        # Once its last refresh token expired (and every access token minted with it), the client goes
        # too, and with it the user's approval of it: its id is never reused.
        await oauth.add_consent("u-1", used, REDIRECT_URI, ["mcp"])
        later = now + timedelta(days=30) + timedelta(seconds=policy.access_token_ttl_seconds + 120)
        final = await purge_expired(portal.store, policy, later)
        assert (final.refresh_tokens, final.clients, final.consents) == (1, 1, 1)
        assert portal.rows() == empty
        assert not await oauth.consented("u-1", used, REDIRECT_URI, ["mcp"])


async def test_a_client_that_logs_in_within_the_day_is_kept(tmp_path: Path) -> None:
    with oauth_app(tmp_path) as portal:
        client_id = (await portal.register("192.0.2.1")).json()["client_id"]
        await _log_in(OAuthStore(portal.store), client_id)
        purged = await purge_expired(
            portal.store, portal.auth.purge_policy, datetime.now(UTC) + timedelta(days=2)
        )
        assert purged.clients == 0 and await OAuthStore(portal.store).client(client_id) is not None


class _Seen(logging.Handler):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text, self.event = text, anyio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.event.set()


async def test_the_purge_runs_in_the_background(tmp_path: Path) -> None:
    with oauth_app(tmp_path) as portal:
        stale = (await portal.register("192.0.2.1")).json()["client_id"]
        with portal.store.session() as session:
            row = session.get(OAuthClient, stale)
            assert row is not None
            row.created_at = row.created_at - timedelta(days=2)
        seen = _Seen("1 unused clients")
        logger = logging.getLogger("portal.oauth.housekeeping")
        logger.addHandler(seen)
        logger.setLevel(logging.INFO)
        try:
            async with anyio.create_task_group() as background:
                background.start_soon(portal.auth.purge_periodically)
                with anyio.fail_after(10):
                    await seen.event.wait()
                background.cancel_scope.cancel()
        finally:
            logger.removeHandler(seen)
        assert await OAuthStore(portal.store).client(stale) is None


async def test_the_app_lifespan_starts_the_purge(tmp_path: Path) -> None:
    with oauth_app(tmp_path) as portal:  # the same state directory the app opens below
        stale = (await portal.register("192.0.2.1")).json()["client_id"]
        with portal.store.session() as session:
            row = session.get(OAuthClient, stale)
            assert row is not None
            row.created_at = row.created_at - timedelta(days=2)
        config = portal.config
    seen = _Seen("1 unused clients")
    logger = logging.getLogger("portal.oauth.housekeeping")
    logger.addHandler(seen)
    logger.setLevel(logging.INFO)
    try:
        app = create_app(config)
        async with app.router.lifespan_context(app):
            with anyio.fail_after(30):
                await seen.event.wait()
    finally:
        logger.removeHandler(seen)


async def test_portal_oauth_purge_deletes_unused_clients_now(tmp_path: Path) -> None:
    with oauth_app(tmp_path) as portal:
        stale = (await portal.register("192.0.2.1")).json()["client_id"]
        fresh = (await portal.register("192.0.2.1")).json()["client_id"]
        with portal.store.session() as session:
            row = session.get(OAuthClient, stale)
            assert row is not None
            row.created_at = row.created_at - timedelta(days=2)
        config = tmp_path / "portal.yaml"
        config.write_text(yaml.safe_dump({"state_dir": str(portal.config.state_dir), "servers": []}))
        done = subprocess.run(
            [sys.executable, "-m", "portal.cli", "oauth", "purge", "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "deleted 0 codes, 0 refresh tokens, 1 unused clients, 0 consents"
        oauth = OAuthStore(portal.store)
        assert await oauth.client(stale) is None and await oauth.client(fresh) is not None
