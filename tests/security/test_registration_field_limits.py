"""Issue 10, item 4: every registration field is bounded, so one registration stores little.

The SDK checks types and that the scopes are known; repeats passed (``"mcp mcp
mcp ..."``, ``grant_types`` listed a thousand times), and so did control
characters in contacts. Each is refused with ``invalid_client_metadata`` and
nothing is stored; fields RFC 7591 does not define are never stored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from oauth_app import oauth_app

from portal.store import OAuthClient

pytestmark = pytest.mark.anyio

OVERSIZED: dict[str, dict[str, Any]] = {
    "a scope repeated": {"scope": " ".join(["mcp"] * 2000)},
    "a scope list over ten": {"scope": " ".join(["mcp", "offline_access"] * 6)},
    "a scope split by tabs": {"scope": "mcp\toffline_access"},
    "grant_types repeated": {"grant_types": ["authorization_code"] * 500},
    "response_types repeated": {"response_types": ["code"] * 1000},
    "a contact with a newline": {"contacts": ["ops@example.com\nBcc: all@example.com"]},
    "too many contacts": {"contacts": [f"c{i}@example.com" for i in range(6)]},
    "an overlong contact": {"contacts": ["a" * 400 + "@example.com"]},
    "an overlong software_id": {"software_id": "s" * 201},
    "an overlong software_version": {"software_version": "1." * 150},
    "an overlong client_uri": {"client_uri": "https://app.example/" + "p" * 2100},
}


@pytest.mark.parametrize("case", OVERSIZED, ids=list(OVERSIZED))
async def test_oversized_or_repeated_registration_fields_are_refused(tmp_path: Path, case: str) -> None:
    with oauth_app(tmp_path) as portal:
        answer = await portal.register(**OVERSIZED[case])
        assert (answer.status_code, answer.json()["error"]) == (400, "invalid_client_metadata"), answer.text
        assert portal.rows()["clients"] == 0


async def test_unknown_registration_fields_are_not_stored(tmp_path: Path) -> None:
    with oauth_app(tmp_path) as portal:
        answer = await portal.register(
            padding="x" * 8000, client_id="chosen-by-me", issuer="https://evil.example"
        )
        assert answer.status_code == 201, answer.text
        registered = answer.json()
        assert {"padding", "issuer"}.isdisjoint(registered) and registered["client_id"] != "chosen-by-me"
        with portal.store.session() as session:
            row = session.get(OAuthClient, registered["client_id"])
            assert row is not None
            stored = row.client_metadata
        assert {"padding", "issuer", "client_id", "client_secret"}.isdisjoint(stored)
        assert len(repr(stored)) < 1000


async def test_a_real_clients_registration_is_accepted(tmp_path: Path) -> None:
    metadata = {
        "client_name": "Claude Code (portal)",
        "redirect_uris": ["http://localhost:49152/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "scope": "mcp offline_access",
        "contacts": ["dev@example.com"],
        "software_id": "claude-code",
        "software_version": "2.1.0",
    }
    with oauth_app(tmp_path) as portal:
        answer = await portal.register(**metadata)
        assert answer.status_code == 201, answer.text
        assert answer.json()["scope"] == "mcp offline_access"
