"""OAuth state in the store, on SQLite and a real PostgreSQL: hashed secrets, single use, families, keys."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from sqlalchemy import func, select

from portal.oauth.keys import KeySet, rotate_keys
from portal.oauth.storage import CodeGrant, OAuthStore, family_of_code, hash_secret, new_secret
from portal.store import OAuthClient, OAuthCode, OAuthConsent, RefreshToken, Store, open_store
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


async def test_a_consent_is_for_one_user_client_and_redirect_uri_and_widens_its_scopes(store: Store) -> None:
    oauth, user, other = OAuthStore(store), str(uuid.uuid4()), str(uuid.uuid4())
    uri = "http://127.0.0.1:5000/cb"
    assert not await oauth.consented(user, "client-c", uri, ["mcp"])
    async with anyio.create_task_group() as tasks:  # two replicas approving at once make one row
        for _ in range(4):
            tasks.start_soon(oauth.add_consent, user, "client-c", uri, ["mcp"])
    assert await oauth.consented(user, "client-c", uri, ["mcp"])
    assert not await oauth.consented(user, "client-c", uri, ["mcp", "offline_access"])  # more than approved
    assert not await oauth.consented(other, "client-c", uri, ["mcp"])
    assert not await oauth.consented(user, "client-d", uri, ["mcp"])
    assert not await oauth.consented(user, "client-c", uri + "/other", ["mcp"])
    await oauth.add_consent(user, "client-c", uri, ["offline_access"])
    assert await OAuthStore(store).consented(user, "client-c", uri, ["mcp", "offline_access"])
    (listed,) = await oauth.consents(user)
    assert (listed.client_id, listed.redirect_uri, listed.scopes) == (
        "client-c",
        uri,
        ["mcp", "offline_access"],
    )
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(OAuthConsent)
                              .where(OAuthConsent.user_id == user)) == 1  # fmt: skip


async def test_a_consent_revoke_ends_the_clients_logins_for_that_user_only(store: Store) -> None:
    oauth, user, other = OAuthStore(store), str(uuid.uuid4()), str(uuid.uuid4())
    families = {}
    for owner, client in [(user, "client-e"), (user, "client-e"), (user, "client-f"), (other, "client-e")]:
        family = family_of_code(hash_secret(new_secret()))
        login = CodeGrant(client, owner, [], ["mcp"], None, "http://127.0.0.1/cb", True, "c" * 43)
        await oauth.add_refresh(new_secret(), family, login, ttl_seconds=600)
        families.setdefault((owner, client), []).append(family)
        await oauth.add_consent(owner, client, "http://127.0.0.1/cb", ["mcp"])
    code = new_secret()
    await oauth.add_code(code, CodeGrant("client-e", user, [], ["mcp"], None, "http://127.0.0.1/cb", True,
                                         "c" * 43), ttl_seconds=60)  # fmt: skip

    done = await oauth.revoke_consent(user, "client-e")

    assert (done.consents, done.families, done.codes) == (1, 2, 1)
    replica = OAuthStore(store)  # another replica sees it through the database
    assert all([await replica.family_revoked(f) for f in families[(user, "client-e")]])
    assert not await replica.family_revoked(families[(user, "client-f")][0])
    assert not await replica.family_revoked(families[(other, "client-e")][0])
    found = await oauth.code(code)
    assert found is not None and found[2] is True  # the unexchanged code counts as used
    assert {c.client_id for c in await oauth.consents(user)} == {"client-f"}
    assert [c.client_id for c in await oauth.consents(other)] == ["client-e"]
