"""OAuth state in the portal's database: clients, codes, refresh-token families, users' consents.

Secrets are stored as SHA-256 hashes only (client secrets, codes, refresh
tokens): a copy of the database lets nobody log in. Every state change that
guards a single use (a code, a refresh token) is one conditional UPDATE, so two
replicas racing on the same secret cannot both win.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.store import OAuthClient, OAuthCode, OAuthConsent, RefreshToken, Store

__all__ = [
    "CodeGrant",
    "Consent",
    "ConsentRevoked",
    "Grant",
    "OAuthStore",
    "RefreshGrant",
    "family_of_code",
    "hash_secret",
    "new_secret",
]

_REVOKED_CACHE_LIMIT = 100_000
# How long a replica trusts "this family is not revoked" before asking the database again: a
# revocation made on another replica takes effect there within this time (at once on this one).
LIVE_SECONDS = 5.0


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    """256 bits, URL-safe (RFC 6749 §10.10 asks for at least 128)."""
    return secrets.token_urlsafe(32)


def family_of_code(code_hash: str) -> str:
    """The refresh-token family a code starts; derived, so a replayed code can revoke what it issued."""
    return str(uuid.UUID(bytes=hashlib.sha256(b"family:" + code_hash.encode()).digest()[:16]))


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Grant(Protocol):
    """What a token is minted from: a code's grant, or the refresh token being rotated."""

    client_id: str
    user_id: str
    groups: list[str]
    scopes: list[str]
    resource: str | None


@dataclass(frozen=True)
class CodeGrant:
    """What a login granted, bound to one client, redirect URI and PKCE challenge."""

    client_id: str
    user_id: str
    groups: list[str]
    scopes: list[str]
    resource: str | None
    redirect_uri: str
    redirect_uri_provided_explicitly: bool
    code_challenge: str


@dataclass(frozen=True)
class RefreshGrant:
    token_hash: str
    family_id: str
    client_id: str
    user_id: str
    groups: list[str]
    scopes: list[str]
    resource: str | None
    expires_at: datetime
    used: bool
    revoked: bool


@dataclass(frozen=True)
class Consent:
    """A user's approval: this client may get codes sent to this redirect URI, for these scopes."""

    user_id: str
    client_id: str
    redirect_uri: str
    scopes: list[str]
    approved_at: datetime


@dataclass(frozen=True)
class ConsentRevoked:
    """What a consent revoke undid: approvals deleted, login families revoked, codes voided."""

    consents: int
    families: int
    codes: int


class OAuthStore:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._revoked: set[str] = set()  # families known revoked: revocation is forever
        self._live: dict[str, float] = {}  # families seen live, and when: rechecked after LIVE_SECONDS

    # --- clients -------------------------------------------------------------------------------

    async def add_client(self, client_id: str, secret: str | None, metadata: dict[str, Any]) -> None:
        row = OAuthClient(
            client_id=client_id,
            client_secret_hash=hash_secret(secret) if secret else None,
            client_metadata=metadata,
            created_at=_now(),
        )
        await self._store.call(lambda s: s.add(row))

    async def client(self, client_id: str) -> tuple[dict[str, Any], bool] | None:
        """The client's metadata and whether it has a secret."""

        def load(session: Session) -> tuple[dict[str, Any], bool] | None:
            row = session.get(OAuthClient, client_id)
            return None if row is None else (dict(row.client_metadata), row.client_secret_hash is not None)

        return await self._store.call(load)

    async def secret_matches(self, client_id: str, secret: str) -> bool:
        def load(session: Session) -> str | None:
            row = session.get(OAuthClient, client_id)
            return row.client_secret_hash if row else None

        stored = await self._store.call(load)
        return stored is not None and hmac.compare_digest(stored, hash_secret(secret))

    # --- authorization codes -------------------------------------------------------------------

    async def add_code(self, code: str, grant: CodeGrant, ttl_seconds: int) -> None:
        row = OAuthCode(
            code_hash=hash_secret(code),
            client_id=grant.client_id,
            user_id=grant.user_id,
            redirect_uri=grant.redirect_uri,
            redirect_uri_provided_explicitly=grant.redirect_uri_provided_explicitly,
            code_challenge=grant.code_challenge,
            scopes=grant.scopes,
            resource=grant.resource,
            groups=grant.groups,
            expires_at=_now() + timedelta(seconds=ttl_seconds),
        )
        await self._store.call(lambda s: s.add(row))

    async def code(self, code: str) -> tuple[CodeGrant, datetime, bool] | None:
        """The grant behind a code, its expiry, and whether it was already used."""

        def load(session: Session) -> tuple[CodeGrant, datetime, bool] | None:
            row = session.get(OAuthCode, hash_secret(code))
            if row is None:
                return None
            grant = CodeGrant(
                row.client_id, row.user_id, list(row.groups), list(row.scopes), row.resource,
                row.redirect_uri, row.redirect_uri_provided_explicitly, row.code_challenge,
            )  # fmt: skip
            return grant, _aware(row.expires_at), row.used_at is not None

        return await self._store.call(load)

    async def use_code(self, code_hash: str) -> bool:
        """Mark the code used; False when it already was (a replay)."""

        def mark(session: Session) -> bool:
            done = session.execute(
                update(OAuthCode)
                .where(OAuthCode.code_hash == code_hash, OAuthCode.used_at.is_(None))
                .values(used_at=_now())
            )
            return done.rowcount == 1  # type: ignore[attr-defined]

        return await self._store.call(mark)

    # --- refresh tokens ------------------------------------------------------------------------

    async def add_refresh(self, token: str, family_id: str, grant: Grant, ttl_seconds: int) -> None:
        row = RefreshToken(
            token_hash=hash_secret(token),
            family_id=family_id,
            client_id=grant.client_id,
            user_id=grant.user_id,
            scopes=list(grant.scopes),
            resource=grant.resource,
            groups=list(grant.groups),
            expires_at=_now() + timedelta(seconds=ttl_seconds),
        )
        await self._store.call(lambda s: s.add(row))

    async def refresh(self, token: str) -> RefreshGrant | None:
        def load(session: Session) -> RefreshGrant | None:
            row = session.get(RefreshToken, hash_secret(token))
            if row is None:
                return None
            return RefreshGrant(
                row.token_hash, row.family_id, row.client_id, row.user_id, list(row.groups), list(row.scopes),
                row.resource, _aware(row.expires_at), row.used_at is not None, row.revoked_at is not None,
            )  # fmt: skip

        return await self._store.call(load)

    async def use_refresh(self, token_hash: str) -> bool:
        """Mark the refresh token used (rotated); False when it was used or revoked already."""

        def mark(session: Session) -> bool:
            done = session.execute(
                update(RefreshToken)
                .where(
                    RefreshToken.token_hash == token_hash,
                    RefreshToken.used_at.is_(None),
                    RefreshToken.revoked_at.is_(None),
                )
                .values(used_at=_now())
            )
            return done.rowcount == 1  # type: ignore[attr-defined]

        return await self._store.call(mark)

    # --- consents: which clients a user approved -------------------------------------------------

    async def consented(self, user_id: str, client_id: str, redirect_uri: str, scopes: list[str]) -> bool:
        """True when the user approved this client and redirect URI for at least these scopes."""

        def load(session: Session) -> list[str] | None:
            return session.scalar(
                select(OAuthConsent.scopes).where(*_consent_key(user_id, client_id, redirect_uri))
            )

        approved = await self._store.call(load)
        return approved is not None and set(scopes) <= set(approved)

    async def add_consent(self, user_id: str, client_id: str, redirect_uri: str, scopes: list[str]) -> None:
        """Record an approval; approving again widens the stored scopes (two replicas may race)."""

        def write(session: Session) -> None:
            key = _consent_key(user_id, client_id, redirect_uri)
            row = session.scalar(select(OAuthConsent).where(*key))
            if row is None:
                row = OAuthConsent(
                    user_id=user_id, client_id=client_id, redirect_uri=redirect_uri,
                    redirect_uri_hash=hash_secret(redirect_uri), scopes=sorted(set(scopes)),
                    approved_at=_now(),
                )  # fmt: skip
                try:
                    with session.begin_nested():
                        session.add(row)
                    return
                except IntegrityError:
                    row = session.scalars(select(OAuthConsent).where(*key)).one()
            row.scopes = sorted(set(row.scopes) | set(scopes))
            row.approved_at = _now()

        await self._store.call(write)

    async def consents(self, user_id: str | None = None) -> list[Consent]:
        """Every approval (of one user, when given), newest first."""

        def load(session: Session) -> list[Consent]:
            query = select(OAuthConsent).order_by(OAuthConsent.approved_at.desc(), OAuthConsent.id.desc())
            if user_id is not None:
                query = query.where(OAuthConsent.user_id == user_id)
            rows = session.scalars(query)
            return [Consent(r.user_id, r.client_id, r.redirect_uri, list(r.scopes), _aware(r.approved_at))
                    for r in rows]  # fmt: skip

        return await self._store.call(load)

    async def revoke_consent(self, user_id: str, client_id: str) -> ConsentRevoked:
        """Forget the user's approvals of the client and end every login the client holds for the user.

        Refresh families are revoked (access tokens are checked against them), and codes not yet
        exchanged are marked used, so an exchange after the revoke is refused as a replay.
        """

        def revoke(session: Session) -> tuple[ConsentRevoked, list[str]]:
            approvals = (OAuthConsent.user_id == user_id, OAuthConsent.client_id == client_id)
            removed = session.execute(delete(OAuthConsent).where(*approvals))
            mine = (RefreshToken.user_id == user_id, RefreshToken.client_id == client_id)
            families = list(session.scalars(select(RefreshToken.family_id).where(*mine).distinct()))
            session.execute(update(RefreshToken).where(*mine, RefreshToken.revoked_at.is_(None))
                            .values(revoked_at=_now()))  # fmt: skip
            voided = session.execute(
                update(OAuthCode)
                .where(OAuthCode.user_id == user_id, OAuthCode.client_id == client_id,
                       OAuthCode.used_at.is_(None))
                .values(used_at=_now())
            )  # fmt: skip
            counts = ConsentRevoked(removed.rowcount, len(families), voided.rowcount)  # type: ignore[attr-defined]
            return counts, families

        counts, families = await self._store.call(revoke)
        for family_id in families:
            self._remember_revoked(family_id)
        return counts

    # --- families: one login's chain of refresh tokens and the access tokens minted from it ------

    async def revoke_family(self, family_id: str) -> None:
        def revoke(session: Session) -> None:
            session.execute(
                update(RefreshToken)
                .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
                .values(revoked_at=_now())
            )

        await self._store.call(revoke)
        self._remember_revoked(family_id)

    async def family_revoked(self, family_id: str) -> bool:
        if family_id in self._revoked:
            return True
        seen = self._live.get(family_id)
        if seen is not None and time.monotonic() - seen < LIVE_SECONDS:
            return False

        def load(session: Session) -> bool:
            found = session.scalar(
                select(RefreshToken.token_hash)
                .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_not(None))
                .limit(1)
            )
            return found is not None

        revoked = await self._store.call(load)
        if revoked:
            self._remember_revoked(family_id)
        else:
            if len(self._live) >= _REVOKED_CACHE_LIMIT:
                self._live.clear()
            self._live[family_id] = time.monotonic()
        return revoked

    def _remember_revoked(self, family_id: str) -> None:
        if len(self._revoked) >= _REVOKED_CACHE_LIMIT:
            self._revoked.clear()
        self._revoked.add(family_id)
        self._live.pop(family_id, None)


def _consent_key(user_id: str, client_id: str, redirect_uri: str) -> tuple[Any, ...]:
    return (
        OAuthConsent.user_id == user_id,
        OAuthConsent.client_id == client_id,
        OAuthConsent.redirect_uri_hash == hash_secret(redirect_uri),
    )
