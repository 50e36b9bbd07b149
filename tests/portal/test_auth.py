"""Access tokens and signing keys, in process against a SQLite store (the HTTP matrix is in tests/auth)."""

import time
from dataclasses import replace
from pathlib import Path

import anyio
import jwt
import pytest

from portal.config import PortalConfig
from portal.oauth import AccessTokens, KeySet, key_set_for, rotate_keys, token_settings
from portal.oauth.tokens import DEV_CLIENT_ID
from portal.store import open_store
from portal.store.database import sqlite_url


@pytest.fixture
def parts(tmp_path: Path):
    config = PortalConfig(state_dir=tmp_path, port=9999)
    store = open_store(sqlite_url(tmp_path))
    keys = key_set_for(config, store)
    keys.load()
    yield config, store, keys, AccessTokens(keys, token_settings(config), None)
    store.close()


def mint(tokens: AccessTokens, keys: KeySet, **changes: object) -> str:
    fields = {"user_id": "u-1", "groups": ["dev"], "client_id": "c-1", "scopes": ["mcp"]}
    fields.update(changes)
    return tokens.encode(keys.active(), **fields)  # type: ignore[arg-type]


def test_a_minted_token_verifies_with_subject_groups_scope_and_audience(parts) -> None:
    _, _, keys, tokens = parts
    access = anyio.run(tokens.verify, mint(tokens, keys))
    assert access is not None
    assert (access.subject, access.scopes, access.claims["groups"], access.resource) == (
        "u-1",
        ["mcp"],
        ["dev"],
        "http://127.0.0.1:9999/mcp",
    )


def test_the_key_is_created_once_and_shared_through_the_store(parts) -> None:
    config, store, keys, _ = parts
    again = key_set_for(config, store)
    again.load()
    assert again.active().kid == keys.active().kid
    assert len(again.all()) == 1


def test_rotation_keeps_tokens_signed_by_the_retired_key_valid(parts) -> None:
    config, store, keys, tokens = parts
    before = mint(tokens, keys)
    new, published = rotate_keys(store, keys.retention)
    fresh = key_set_for(config, store)
    fresh.load()
    after_tokens = AccessTokens(fresh, token_settings(config), None)
    assert new.kid != keys.active().kid and len(published) == 2
    assert {k["kid"] for k in fresh.jwks()["keys"]} == {new.kid, keys.active().kid}
    assert anyio.run(after_tokens.verify, before) is not None
    assert jwt.get_unverified_header(mint(after_tokens, fresh))["kid"] == new.kid


def test_age_based_rotation_makes_a_new_key_when_the_active_one_is_too_old(tmp_path: Path) -> None:
    store = open_store(sqlite_url(tmp_path))
    try:
        first = KeySet(store, rotation_days=30, max_token_ttl_seconds=3600)
        first.load()
        with store.session() as session:
            from portal.store import SigningKeyRecord

            record = session.get(SigningKeyRecord, first.active().kid)
            assert record is not None
            record.created_at = record.created_at.replace(year=record.created_at.year - 1)
        later = KeySet(store, rotation_days=30, max_token_ttl_seconds=3600)
        later.load()
        assert later.active().kid != first.active().kid
        assert [k.retired_at is not None for k in later.all()] == [False, True]
    finally:
        store.close()


def test_development_tokens_verify_only_in_dev_mode(parts) -> None:
    config, _, keys, tokens = parts
    dev_token = mint(tokens, keys, client_id=DEV_CLIENT_ID)
    strict = AccessTokens(keys, replace(token_settings(config), accept_dev_tokens=False), None)
    assert anyio.run(tokens.verify, dev_token) is not None
    assert anyio.run(strict.verify, dev_token) is None


def test_an_expired_token_is_refused_beyond_the_leeway(parts) -> None:
    _, _, keys, tokens = parts
    assert anyio.run(tokens.verify, mint(tokens, keys, ttl_seconds=1)) is not None
    old = jwt.decode(mint(tokens, keys), options={"verify_signature": False})
    old.update(exp=int(time.time()) - 120)
    headers = {"kid": keys.active().kid, "typ": "at+jwt"}
    forged = jwt.encode(old, keys.active().private_key, algorithm="ES256", headers=headers)
    assert anyio.run(tokens.verify, forged) is None
