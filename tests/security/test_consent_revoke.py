"""Revoking a consent (``portal consents revoke``) takes back everything the client got for the user.

A user who approved a client by mistake must be able to undo it: the approval
goes (the next login asks again), and so do the refresh tokens, the access
tokens minted from them and any code not yet exchanged, for that client and that
user only.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from oauth_testing import (
    REDIRECT_URI,
    authorize_url,
    consent_ticket,
    decide,
    follow,
    pkce,
    redirect_query,
    register,
)
from portal_testing import RunningPortal, running_portal

ANN, BOB = "ann@example.com", "bob@example.com"
AUTH = {"dev": {"users": [{"email": ANN, "groups": ["dev"]}, {"email": BOB}], "auto_login": ANN}}
CLIENT_INFO = {"name": "revoke-test", "version": "1"}
INITIALIZE = {
    "jsonrpc": "2.0", "id": 1, "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": CLIENT_INFO},
}  # fmt: skip
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPortal]:
    with running_portal(tmp_path_factory.mktemp("revoke"), {"auth": AUTH}) as running:
        yield running


def cli(portal: RunningPortal, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "portal.cli", "consents", *args, "--config", str(portal.config_path)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=portal.config_path.parent)


def code_for(portal: RunningPortal, client: dict, approve: bool = True) -> tuple[str, str]:
    """A code (and its verifier) through auto_login, approving the consent page if it is shown."""
    verifier, challenge = pkce()
    with httpx.Client(timeout=10) as browser:
        landed = follow(browser, browser.get(authorize_url(portal.base_url, client["client_id"], challenge)))
        ticket = consent_ticket(landed)
        if ticket is not None:
            assert approve, "the consent page was shown again"
            landed = decide(browser, portal.base_url, ticket)
    return redirect_query(landed)["code"], verifier


def exchange(portal: RunningPortal, client: dict, code: str, verifier: str) -> httpx.Response:
    data = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier,
            "redirect_uri": REDIRECT_URI, "client_id": client["client_id"]}  # fmt: skip
    return httpx.post(f"{portal.base_url}/token", data=data)


def tokens_for(portal: RunningPortal, client: dict) -> dict:
    response = exchange(portal, client, *code_for(portal, client))
    assert response.status_code == 200, response.text
    return response.json()


def mcp_status(portal: RunningPortal, access_token: str) -> int:
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {access_token}"}
    return httpx.post(portal.mcp_url, json=INITIALIZE, headers=headers).status_code


def refresh_error(portal: RunningPortal, client: dict, refresh_token: str) -> tuple[int, str | None]:
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client["client_id"]}
    response = httpx.post(f"{portal.base_url}/token", data=data)
    return response.status_code, response.json().get("error")


def test_revoked_consent_revokes_the_clients_tokens(portal: RunningPortal) -> None:
    mistaken = register(portal.base_url, client_name="Mistake", token_endpoint_auth_method="none").json()
    trusted = register(portal.base_url, client_name="Trusted", token_endpoint_auth_method="none").json()
    first, second = tokens_for(portal, mistaken), tokens_for(portal, mistaken)  # two logins of the client
    pending_code = code_for(portal, mistaken)  # approved already: a code, not exchanged yet
    kept = tokens_for(portal, trusted)
    listed = json.loads(cli(portal, "list", "--user", ANN, "--json").stdout)
    assert {row["client_id"] for row in listed} == {mistaken["client_id"], trusted["client_id"]}
    assert {row["client_name"] for row in listed} == {"Mistake", "Trusted"}

    done = cli(portal, "revoke", "--user", ANN, "--client", mistaken["client_id"])

    assert done.returncode == 0, done.stderr
    assert "1 consent(s), 2 login(s)" in done.stdout and "1 unused code(s)" in done.stdout
    for issued in (first, second):  # these access tokens were never used: no replica cache holds them
        assert mcp_status(portal, issued["access_token"]) == 401
        assert refresh_error(portal, mistaken, issued["refresh_token"]) == (400, "invalid_grant")
    refused = exchange(portal, mistaken, *pending_code)
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_grant")
    assert mcp_status(portal, kept["access_token"]) == 200  # another client of the same user keeps working
    after = json.loads(cli(portal, "list", "--json").stdout)
    assert [row["client_id"] for row in after] == [trusted["client_id"]]
    verifier, challenge = pkce()
    with httpx.Client(timeout=10) as browser:  # the next login asks again
        page = follow(browser, browser.get(authorize_url(portal.base_url, mistaken["client_id"], challenge)))
    assert consent_ticket(page) is not None


def test_revoking_a_consent_that_does_not_exist_says_so(portal: RunningPortal) -> None:
    for user in (ANN, "nobody@example.com", "00000000-0000-0000-0000-000000000000"):
        done = cli(portal, "revoke", "--user", user, "--client", "no-such-client")
        assert done.returncode == 1 and "no consent or token of client no-such-client" in done.stderr


def test_consents_list_shows_a_users_approvals_as_text(portal: RunningPortal) -> None:
    client = register(
        portal.base_url, client_name='Say "hi"  two  spaces', token_endpoint_auth_method="none"
    ).json()
    tokens_for(portal, client)
    shown = cli(portal, "list", "--user", portal.user_id(ANN))
    assert shown.returncode == 0, shown.stderr
    line = next(line for line in shown.stdout.splitlines() if client["client_id"] in line)
    assert portal.user_id(ANN) in line and REDIRECT_URI in line and "scopes: mcp" in line
    assert json.dumps('Say "hi"  two  spaces') in line  # quoted and escaped: a name cannot fake the columns
    assert cli(portal, "list", "--user", BOB).stdout == ""
