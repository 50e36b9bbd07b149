import time
from pathlib import Path

import anyio
import jwt
import pytest

from portal.auth import AUDIENCE, DevTokenVerifier, load_signing_key


def test_the_signing_key_is_created_once_with_private_permissions(tmp_path: Path) -> None:
    first = load_signing_key(tmp_path, "issuer")
    second = load_signing_key(tmp_path, "issuer")
    assert (tmp_path / "signing-key.pem").stat().st_mode & 0o777 == 0o600
    token = first.mint("a@example.com", ["dev"], 60)
    assert second.verify(token)["sub"] == "a@example.com"


def verify(tmp_path: Path, token: str):
    verifier = DevTokenVerifier(load_signing_key(tmp_path, "issuer"))
    return anyio.run(verifier.verify_token, token)


def test_a_minted_token_verifies_with_user_groups_and_scope(tmp_path: Path) -> None:
    token = load_signing_key(tmp_path, "issuer").mint("a@example.com", ["dev", "ops"], 60)
    access = verify(tmp_path, token)
    assert access is not None
    assert (access.subject, access.scopes, access.claims["groups"]) == (
        "a@example.com",
        ["mcp"],
        ["dev", "ops"],
    )


def forged(tmp_path: Path, **changes: object) -> str:
    key = load_signing_key(tmp_path, "issuer")
    now = int(time.time())
    claims = {
        "iss": "issuer",
        "aud": AUDIENCE,
        "sub": "a@example.com",
        "scope": "mcp",
        "iat": now,
        "exp": now + 60,
    }
    claims.update(changes)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, key.private_key, algorithm="ES256")


@pytest.mark.parametrize(
    "changes",
    [
        {"exp": int(time.time()) - 3600},
        {"aud": "someone-else"},
        {"iss": "other"},
        {"sub": None},
        {"exp": None},
    ],
    ids=["expired", "wrong-audience", "wrong-issuer", "no-subject", "no-expiry"],
)
def test_a_token_with_bad_claims_is_refused(tmp_path: Path, changes: dict) -> None:
    assert verify(tmp_path, forged(tmp_path, **changes)) is None


def test_unsigned_foreign_and_garbage_tokens_are_refused(tmp_path: Path) -> None:
    key = load_signing_key(tmp_path, "issuer")
    good = key.mint("a@example.com", [], 60)
    unsigned = jwt.encode(jwt.decode(good, options={"verify_signature": False}), None, algorithm="none")
    other_key = load_signing_key(tmp_path / "other", "issuer").mint("a@example.com", [], 60)
    header, payload, signature = good.split(".")
    tampered = ".".join(
        [header, payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1], signature]
    )
    for token in (unsigned, other_key, tampered, "not-a-jwt", ""):
        assert verify(tmp_path, token) is None
