"""Anonymous identity: a user's email maps to a stable random UUID, kept in the store.

Downstream servers, logs, metrics and the audit trail see only the UUID. The
mapping is cached in memory; the database is the source of truth, so every
replica sharing it gives a user the same UUID.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.store import Store, User

__all__ = ["USER_META_KEY", "Identities"]

# The `_meta` key under which each downstream request carries the caller's anonymous id.
USER_META_KEY = "dev.mcp-portal/user-id"
_CACHE_LIMIT = 100_000


def normalise_email(email: str) -> str:
    return email.strip().lower()


class Identities:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._cache: dict[str, str] = {}

    async def user_id(self, email: str) -> str:
        """The UUID for ``email``, created on first sight."""
        key = normalise_email(email)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        user_id = await self._store.call(lambda session: _find_or_create(session, key))
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[key] = user_id
        return user_id

    def user_id_sync(self, email: str) -> str:
        key = normalise_email(email)
        with self._store.session() as session:
            return _find_or_create(session, key)


def _find_or_create(session: Session, email: str) -> str:
    found = session.scalar(select(User.id).where(User.email == email))
    if found is not None:
        return found
    user = User(id=str(uuid.uuid4()), email=email, created_at=datetime.now(UTC))
    try:
        with session.begin_nested():  # another replica may insert the same email at the same moment
            session.add(user)
    except IntegrityError:
        return session.scalars(select(User.id).where(User.email == email)).one()
    return user.id
