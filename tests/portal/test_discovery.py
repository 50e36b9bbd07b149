"""Client discovery: /.well-known/mcp-portal and /.well-known/opencode, as served by the portal app.

The OpenCode tests run the real client (opencode-ai from npm, `make node-tools`) on a temporary HOME:
`opencode auth login <portal>` reads our /.well-known/opencode, and `opencode debug config` parses and
validates the resulting configuration with OpenCode's own config schema (the package ships no JSON
schema file: its schema lives inside the binary, so the binary is the validator).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import anyio
import httpx
import pytest

from portal.app import create_app
from portal.config import PortalConfig
from portal.discovery import discovery_document, opencode_document

ROOT = Path(__file__).resolve().parents[2]
OPENCODE = ROOT / ".tools" / "node_modules" / ".bin" / "opencode"
BASE = "https://portal.example"
MCP_URL = f"{BASE}/mcp"

needs_opencode = pytest.mark.skipif(
    not OPENCODE.exists(), reason="opencode-ai not installed: make node-tools"
)


def _config(tmp_path: Path, **extra: object) -> PortalConfig:
    return PortalConfig.model_validate({"state_dir": str(tmp_path / "state"), **extra})


async def _get(config: PortalConfig, path: str) -> httpx.Response:
    app = create_app(config)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
            return await http.get(path)
    finally:
        app.state.runtime.close()


def test_the_discovery_document_is_served_without_auth_with_every_url_and_client(tmp_path: Path) -> None:
    config = _config(tmp_path, public_url=BASE)
    answer = anyio.run(_get, config, "/.well-known/mcp-portal")
    assert answer.status_code == 200
    document = answer.json()
    assert document["mcp_url"] == MCP_URL
    assert document["authorization_server_metadata"] == f"{BASE}/.well-known/oauth-authorization-server"
    assert document["protected_resource_metadata"] == f"{BASE}/.well-known/oauth-protected-resource/mcp"
    assert document["jwks_uri"] == f"{BASE}/.well-known/jwks.json"
    assert document["opencode_well_known"] == f"{BASE}/.well-known/opencode"
    assert set(document["clients"]) == {"claude-code", "cursor", "vscode", "opencode", "mcp-remote"}
    assert document == discovery_document(config)


def test_each_client_gets_the_block_its_own_config_file_expects(tmp_path: Path) -> None:
    clients = discovery_document(_config(tmp_path, public_url=BASE))["clients"]
    assert clients["claude-code"] == {
        "command": f"claude mcp add --scope user --transport http portal {MCP_URL}",
        "config": {"mcpServers": {"portal": {"type": "http", "url": MCP_URL}}},
    }
    assert clients["cursor"]["config"] == {"mcpServers": {"portal": {"url": MCP_URL}}}
    assert clients["vscode"]["config"] == {"servers": {"portal": {"type": "http", "url": MCP_URL}}}
    assert clients["opencode"] == {
        "command": f"opencode auth login {BASE}",
        "config": {
            "$schema": "https://opencode.ai/config.json",
            "mcp": {"portal": {"type": "remote", "url": MCP_URL, "oauth": {}}},
        },
    }
    assert clients["mcp-remote"] == {
        "command": f"npx -y mcp-remote {MCP_URL}",
        "config": {"mcpServers": {"portal": {"command": "npx", "args": ["-y", "mcp-remote", MCP_URL]}}},
    }


def test_no_discovery_document_carries_a_secret(tmp_path: Path) -> None:
    config = _config(tmp_path, public_url=BASE, metrics_token="scrape-secret-123")
    text = json.dumps([discovery_document(config), opencode_document(config)])
    assert "scrape-secret-123" not in text
    assert "token" not in text.lower().replace("token_endpoint", "")


def test_the_opencode_document_has_auth_and_config_mcp_and_is_served_at_its_path(tmp_path: Path) -> None:
    config = _config(tmp_path, public_url=BASE)
    answer = anyio.run(_get, config, "/.well-known/opencode")
    assert answer.status_code == 200
    document = answer.json()
    assert set(document) == {"auth", "config"}
    assert document["auth"]["env"] == "MCP_PORTAL_LOGIN"
    assert isinstance(document["auth"]["command"], list) and document["auth"]["command"]
    assert document["config"]["mcp"] == {"portal": {"type": "remote", "url": MCP_URL, "oauth": {}}}


def _opencode(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "NO_COLOR": "1"}
    return subprocess.run(
        [str(OPENCODE), *args],
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def _resolved_config(home: Path) -> dict:
    done = _opencode(home, "debug", "config")
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout[done.stdout.index("{") : done.stdout.rindex("}") + 1])


@needs_opencode
def test_opencode_logs_in_from_the_portals_well_known_document_and_gets_the_mcp_server(
    tmp_path: Path,
) -> None:
    from portal_testing import running_portal

    home = tmp_path / "home"
    home.mkdir()
    with running_portal(tmp_path, {"servers": []}) as portal:
        login = _opencode(home, "auth", "login", portal.base_url)
        assert login.returncode == 0, login.stdout + login.stderr
        resolved = _resolved_config(home)
    assert resolved["mcp"] == {"portal": {"type": "remote", "url": portal.mcp_url, "oauth": {}}}


@needs_opencode
def test_opencode_accepts_the_config_file_portal_connect_writes(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from portal.cli import app

    home = tmp_path / "home"
    (home / ".config" / "opencode").mkdir(parents=True)
    theirs = {"username": "ann", "autoupdate": False}
    (home / ".config" / "opencode" / "opencode.json").write_text(json.dumps(theirs))
    config_file = tmp_path / "portal.yaml"
    config_file.write_text(f"public_url: {BASE}\nstate_dir: {tmp_path / 'state'}\n")
    done = CliRunner().invoke(
        app,
        ["connect", "opencode", "--write", "--config", str(config_file)],
        env={"HOME": str(home), "XDG_CONFIG_HOME": None},
    )
    assert done.exit_code == 0, done.output
    resolved = _resolved_config(home)
    assert resolved["mcp"] == {"portal": {"type": "remote", "url": MCP_URL, "oauth": {}}}
    assert (resolved["username"], resolved["autoupdate"]) == ("ann", False)


@needs_opencode
def test_opencode_itself_rejects_a_broken_mcp_entry_so_the_check_above_can_fail(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".config" / "opencode").mkdir(parents=True)
    broken = {"mcp": {"portal": {"type": "remote", "uri": MCP_URL, "oauth": {}}}}
    (home / ".config" / "opencode" / "opencode.json").write_text(json.dumps(broken))
    done = _opencode(home, "debug", "config")
    assert done.returncode != 0
    assert "mcp.portal.url" in done.stdout + done.stderr
