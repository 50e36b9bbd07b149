"""Signing keys for access tokens: ES256, kept in the store so every replica signs and verifies alike.

One key is active: the newest not retired. Rotation (``portal keys rotate``,
or automatically when the active key is older than ``key_rotation_days``)
creates a new active key and retires the old one, which stays published in the
JWKS, and accepted, until every token it can have signed has expired. So a
rotation logs nobody out: refresh tokens are opaque rows in the store, signed
by no key, and access tokens signed before it keep verifying until they expire.

Creating and rotating happen under a PostgreSQL advisory lock, so replicas agree on
the one active key. Each replica caches the key set and reloads it every ``RELOAD_SECONDS``, or
sooner when a token names a ``kid`` it does not know (at most every
``MISS_RELOAD_SECONDS``, so a flood of made-up kids cannot hammer the database).
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.store import SigningKeyRecord, Store
from portal.store.database import KEYS_LOCK, advisory_lock

__all__ = ["ALGORITHM", "KeySet", "SigningKey", "rotate_keys"]

ALGORITHM = "ES256"  # the only algorithm the portal signs or accepts: no "none", no HMAC
RELOAD_SECONDS = 60.0
MISS_RELOAD_SECONDS = 5.0


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: ec.EllipticCurvePrivateKey
    created_at: datetime
    retired_at: datetime | None

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self.private_key.public_key()

    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(ECAlgorithm.to_jwk(self.public_key))
        jwk.update(kid=self.kid, use="sig", alg=ALGORITHM)
        return jwk


def _aware(moment: datetime) -> datetime:
    """SQLite hands timestamps back without a zone; they were written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _thumbprint(public_key: ec.EllipticCurvePublicKey) -> str:
    """RFC 7638 JWK thumbprint: a kid that names the key itself."""
    jwk = json.loads(ECAlgorithm.to_jwk(public_key))
    canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"))
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def _new_record(now: datetime) -> SigningKeyRecord:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return SigningKeyRecord(kid=_thumbprint(key.public_key()), private_pem=pem, created_at=now)


def _to_key(record: SigningKeyRecord) -> SigningKey:
    loaded = serialization.load_pem_private_key(record.private_pem.encode(), password=None)
    if not isinstance(loaded, ec.EllipticCurvePrivateKey):
        raise ValueError(f"signing key {record.kid} is not an EC key")
    retired = _aware(record.retired_at) if record.retired_at else None
    return SigningKey(record.kid, loaded, _aware(record.created_at), retired)


def _sync(
    session: Session, rotate_after: timedelta | None, retention: timedelta, force: bool
) -> list[SigningKey]:
    """Make sure one fresh key is active, drop keys past retention, return the published ones.

    Under the keys lock, so replicas starting together on an empty database make one key, not one each,
    and a rotation due on every replica at once happens once: all of them sign with the same key.
    """
    advisory_lock(session.connection(), KEYS_LOCK)
    now = datetime.now(UTC)
    session.execute(delete(SigningKeyRecord).where(SigningKeyRecord.retired_at < now - retention))
    live = list(
        session.scalars(
            select(SigningKeyRecord)
            .where(SigningKeyRecord.retired_at.is_(None))
            .order_by(SigningKeyRecord.created_at.desc())
        )
    )
    stale = rotate_after is not None and live and _aware(live[0].created_at) < now - rotate_after
    if force or not live or stale:
        fresh = _new_record(now)
        session.add(fresh)
        live.insert(0, fresh)
    for older in live[1:]:  # two replicas rotating at once leave two live keys: keep the newest
        older.retired_at = now
    session.flush()
    records = session.scalars(select(SigningKeyRecord).order_by(SigningKeyRecord.created_at.desc()))
    return [_to_key(record) for record in records]


def rotate_keys(store: Store, retention: timedelta) -> tuple[SigningKey, list[SigningKey]]:
    """Make a new active key now (``portal keys rotate``); returns it and the keys still published."""
    with store.session() as session:
        keys = _sync(session, None, retention, force=True)
    return keys[0], keys


class KeySet:
    """The published keys of this portal, cached; the active one signs."""

    def __init__(self, store: Store, *, rotation_days: int, max_token_ttl_seconds: int) -> None:
        self._store = store
        self._rotate_after = timedelta(days=rotation_days) if rotation_days else None
        # A retired key may still have signed a token that is valid for this long (plus clock leeway).
        self.retention = timedelta(seconds=max_token_ttl_seconds + 300)
        self._keys: list[SigningKey] = []
        self._loaded_at = -1e18
        self._missed_at = -1e18

    def load(self) -> None:
        """Load (and if needed create or rotate) the keys, blocking: start-up and the CLI."""
        with self._store.session() as session:
            self._install(_sync(session, self._rotate_after, self.retention, force=False))

    async def reload(self) -> None:
        keys = await self._store.call(lambda s: _sync(s, self._rotate_after, self.retention, force=False))
        self._install(keys)

    def _install(self, keys: list[SigningKey]) -> None:
        self._keys = keys
        self._loaded_at = time.monotonic()

    async def fresh(self) -> None:
        """Reload when the cache is older than RELOAD_SECONDS (rotations by other replicas, purges)."""
        if time.monotonic() - self._loaded_at > RELOAD_SECONDS:
            await self.reload()

    async def signing_key(self) -> SigningKey:
        await self.fresh()
        return self._keys[0]

    def active(self) -> SigningKey:
        if not self._keys:
            self.load()
        return self._keys[0]

    async def find(self, kid: str) -> SigningKey | None:
        """The published key with this kid, reloading once in a while for keys made by other replicas."""
        await self.fresh()
        key = self._lookup(kid)
        if key is None and time.monotonic() - self._missed_at > MISS_RELOAD_SECONDS:
            self._missed_at = time.monotonic()
            await self.reload()
            key = self._lookup(kid)
        return key

    def _lookup(self, kid: str) -> SigningKey | None:
        return next((key for key in self._keys if key.kid == kid), None)

    def all(self) -> list[SigningKey]:
        """The published keys, the active one first."""
        return list(self._keys)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.public_jwk() for key in self._keys]}
