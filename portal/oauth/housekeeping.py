"""Deleting what expired: authorization codes, refresh tokens, and clients nobody used.

Registration is open, so without this the ``oauth_clients`` table grows with
every registration ever made (a flood of 2,000 grew the database from 440 KB to
12 MB). `purge_expired` runs one pass; `purge_periodically` runs it in the
background of the app (started by the lifespan in ``portal/app.py``). Every
replica may run it: each delete is one idempotent statement.

What goes, and why it is safe:

- a code an hour after it expired (the hour keeps replay detection, which
  revokes what a replayed code issued, working a while past expiry);
- a refresh token once it expired and every access token minted alongside it
  has expired too (``grace_seconds``, the access-token lifetime plus leeway):
  until then its ``revoked_at`` is what keeps a revoked login's access tokens out;
- a client registered more than ``unused_client_ttl_seconds`` ago that has no
  code and no refresh token left: it never completed a login, or every login
  it had has expired. Checked in the same statement as the delete, so a client
  that gets a code meanwhile is kept;
- the consents (``oauth_consents``) of a client that no longer exists: client
  ids are random and never reused, so such an approval can never apply again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import anyio
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.store import OAuthClient, OAuthCode, OAuthConsent, RefreshToken, Store

__all__ = ["Purged", "PurgePolicy", "purge_expired", "purge_periodically"]

logger = logging.getLogger(__name__)

CODE_GRACE = timedelta(hours=1)
LEEWAY = timedelta(seconds=60)


@dataclass(frozen=True)
class PurgePolicy:
    unused_client_ttl_seconds: int
    access_token_ttl_seconds: int
    interval_seconds: int


@dataclass(frozen=True)
class Purged:
    codes: int
    refresh_tokens: int
    clients: int
    consents: int = 0

    def __bool__(self) -> bool:
        return bool(self.codes or self.refresh_tokens or self.clients or self.consents)


def _purge(session: Session, policy: PurgePolicy, now: datetime) -> Purged:
    codes = session.execute(delete(OAuthCode).where(OAuthCode.expires_at < now - CODE_GRACE))
    grace = timedelta(seconds=policy.access_token_ttl_seconds) + LEEWAY
    refresh = session.execute(delete(RefreshToken).where(RefreshToken.expires_at < now - grace))
    has_code = select(OAuthCode.code_hash).where(OAuthCode.client_id == OAuthClient.client_id).exists()
    has_token = (
        select(RefreshToken.token_hash).where(RefreshToken.client_id == OAuthClient.client_id).exists()
    )
    clients = session.execute(
        delete(OAuthClient)
        .where(
            OAuthClient.created_at < now - timedelta(seconds=policy.unused_client_ttl_seconds),
            ~has_code,
            ~has_token,
        )
        .execution_options(synchronize_session=False)
    )
    client_exists = (
        select(OAuthClient.client_id).where(OAuthClient.client_id == OAuthConsent.client_id).exists()
    )
    consents = session.execute(
        delete(OAuthConsent).where(~client_exists).execution_options(synchronize_session=False)
    )
    return Purged(
        codes=codes.rowcount,  # type: ignore[attr-defined]
        refresh_tokens=refresh.rowcount,  # type: ignore[attr-defined]
        clients=clients.rowcount,  # type: ignore[attr-defined]
        consents=consents.rowcount,  # type: ignore[attr-defined]
    )


async def purge_expired(store: Store, policy: PurgePolicy, now: datetime | None = None) -> Purged:
    """One pass; ``now`` is for tests that look a day ahead instead of waiting one."""
    moment = now or datetime.now(UTC)
    return await store.call(lambda session: _purge(session, policy, moment))


async def purge_periodically(store: Store, policy: PurgePolicy) -> None:
    """Purge every ``interval_seconds`` until cancelled; a failed pass is logged and retried next time."""
    while True:
        try:
            purged = await purge_expired(store, policy)
        except Exception as exc:  # a database hiccup must not end the loop (or the app)
            logger.warning(
                "OAuth purge failed (%s); retrying in %d s", type(exc).__name__, policy.interval_seconds
            )
        else:
            if purged:
                logger.info(
                    "OAuth purge: %d codes, %d refresh tokens, %d unused clients, %d consents deleted",
                    purged.codes, purged.refresh_tokens, purged.clients, purged.consents,
                )  # fmt: skip
        await anyio.sleep(policy.interval_seconds)
