"""OAuth state in the store, on SQLite and a real PostgreSQL: hashed secrets, single use, families, keys."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from portal.oauth.keys import KeySet, rotate_keys
from portal.oauth.storage import CodeGrant, OAuthStore, family_of_code, hash_secret, new_secret
from portal.store import OAuthClient, OAuthCode, RefreshToken, Store, open_store
from portal.store.database import sqlite_url

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = sqlite_url(tmp_path) if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    opened = open_store(url)
    yield opened
    opened.close()


def grant(client_id: str) -> CodeGrant:
    return CodeGrant(
        client_id, str(uuid.uuid4()), ["dev"], ["mcp"], "http://p/mcp", "http://127.0.0.1/cb", True, "c" * 43
    )


async def test_client_secrets_are_kept_only_as_hashes(store: Store) -> None:
    oauth, client_id, secret = OAuthStore(store), uuid.uuid4().hex, new_secret()
    await oauth.add_client(client_id, secret, {"redirect_uris": ["http://127.0.0.1/cb"]})
    assert await oauth.secret_matches(client_id, secret)
    assert not await oauth.secret_matches(client_id, secret + "x")
    with store.session() as session:
        row = session.get(OAuthClient, client_id)
        assert row is not None and row.client_secret_hash == hash_secret(secret) != secret


async def test_a_code_is_used_once_even_when_two_exchanges_race(store: Store) -> None:
    oauth, code = OAuthStore(store), new_secret()
    await oauth.add_code(code, grant("client-a"), ttl_seconds=60)
    wins: list[bool] = []

    async def exchange() -> None:
        wins.append(await oauth.use_code(hash_secret(code)))

    async with anyio.create_task_group() as tasks:
        for _ in range(4):
            tasks.start_soon(exchange)
    assert sorted(wins) == [False, False, False, True]
    found = await oauth.code(code)
    assert found is not None and found[2] is True
    with store.session() as session:
        assert session.get(OAuthCode, code) is None  # stored by hash, not by value


async def test_refresh_rotation_marks_the_old_token_and_family_revocation_stops_all(store: Store) -> None:
    oauth, first, second = OAuthStore(store), new_secret(), new_secret()
    family = family_of_code(hash_secret(new_secret()))
    await oauth.add_refresh(first, family, grant("client-b"), ttl_seconds=600)
    assert await oauth.use_refresh(hash_secret(first))
    assert not await oauth.use_refresh(hash_secret(first))  # rotated: a second use is a reuse
    await oauth.add_refresh(second, family, grant("client-b"), ttl_seconds=600)
    assert not await oauth.family_revoked(family)
    await oauth.revoke_family(family)
    assert await OAuthStore(store).family_revoked(family)  # another replica sees it through the database
    assert not await oauth.use_refresh(hash_secret(second))
    loaded = await oauth.refresh(second)
    assert loaded is not None and loaded.revoked
    with store.session() as session:
        assert session.get(RefreshToken, second) is None


async def test_replicas_share_the_signing_keys_and_see_rotations(store: Store) -> None:
    one = KeySet(store, rotation_days=30, max_token_ttl_seconds=3600)
    two = KeySet(store, rotation_days=30, max_token_ttl_seconds=3600)
    one.load()
    two.load()
    assert one.active().kid == two.active().kid
    new, published = rotate_keys(store, one.retention)
    await two.reload()
    assert two.active().kid == new.kid and one.active().kid in {key.kid for key in published}
    assert await one.find(new.kid) is not None  # an unknown kid makes a replica reload
