"""`portal connect CLIENT [--write]` on temporary HOME folders: merges, backups, refusals."""

from __future__ import annotations

import json
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from starlette.applications import Starlette
from typer.testing import CliRunner

from portal.cli import app
from portal.connect import ConnectError, config_file, merge_block, write_block

BASE = "https://portal.example"
MCP_URL = f"{BASE}/mcp"


@pytest.fixture
def portal_config(tmp_path: Path) -> Path:
    path = tmp_path / "portal.yaml"
    path.write_text(f"public_url: {BASE}\nstate_dir: {tmp_path / 'state'}\n")
    return path


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


def _connect(home: Path, portal_config: Path, *args: str) -> tuple[int, str]:
    done = CliRunner().invoke(
        app,
        ["connect", *args, "--config", str(portal_config)],
        env={"HOME": str(home), "XDG_CONFIG_HOME": None, "APPDATA": None},
    )
    return done.exit_code, done.output


def test_connect_without_write_prints_the_block_and_touches_no_file(home: Path, portal_config: Path) -> None:
    code, output = _connect(home, portal_config, "claude-code")
    assert code == 0
    assert f"claude mcp add --scope user --transport http portal {MCP_URL}" in output
    block = json.loads(output[output.index("{") :])
    assert block == {"mcpServers": {"portal": {"type": "http", "url": MCP_URL}}}
    assert list(home.iterdir()) == []


def test_write_creates_a_missing_config_file_private_to_the_user(home: Path, portal_config: Path) -> None:
    code, output = _connect(home, portal_config, "cursor", "--write")
    target = home / ".cursor" / "mcp.json"
    assert code == 0, output
    assert json.loads(target.read_text()) == {"mcpServers": {"portal": {"url": MCP_URL}}}
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert list(target.parent.glob("*.bak-*")) == []


def test_write_keeps_the_users_own_servers_and_settings_and_a_backup(home: Path, portal_config: Path) -> None:
    target = home / ".claude.json"
    theirs = {
        "numStartups": 12,
        "mcpServers": {"github": {"type": "http", "url": "https://api.example/mcp", "headers": {"X": "1"}}},
        "projects": {"/src/app": {"allowedTools": ["Bash"]}},
    }
    original = json.dumps(theirs)
    target.write_text(original)
    target.chmod(0o640)
    code, output = _connect(home, portal_config, "claude-code", "--write")
    assert code == 0, output
    merged = json.loads(target.read_text())
    assert merged == {
        **theirs,
        "mcpServers": {**theirs["mcpServers"], "portal": {"type": "http", "url": MCP_URL}},
    }
    (backup,) = home.glob(".claude.json.bak-*")
    assert backup.read_text() == original
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_writing_twice_changes_nothing_the_second_time(home: Path, portal_config: Path) -> None:
    assert _connect(home, portal_config, "vscode", "--write")[0] == 0
    target = home / ".config" / "Code" / "User" / "mcp.json"
    before = target.read_text()
    code, output = _connect(home, portal_config, "vscode", "--write")
    assert (code, target.read_text()) == (0, before)
    assert "nothing changed" in output
    assert list(target.parent.glob("*.bak-*")) == []


def test_a_file_with_comments_is_refused_with_where_it_fails_and_left_untouched(
    home: Path, portal_config: Path
) -> None:
    target = home / ".config" / "opencode" / "opencode.json"
    target.parent.mkdir(parents=True)
    jsonc = '{\n  // my settings\n  "theme": "dark"\n}\n'
    target.write_text(jsonc)
    code, output = _connect(home, portal_config, "opencode", "--write")
    assert code == 1
    assert f"{target} is not valid JSON (line 2, column 3" in output
    assert "nothing was written" in output
    assert "Traceback" not in output
    assert target.read_text() == jsonc
    assert list(target.parent.iterdir()) == [target]


def test_a_servers_key_that_is_not_an_object_is_refused(home: Path, portal_config: Path) -> None:
    target = home / ".cursor" / "mcp.json"
    target.parent.mkdir()
    target.write_text('{"mcpServers": ["a", "b"]}')
    code, output = _connect(home, portal_config, "cursor", "--write")
    assert code == 1
    assert "'mcpServers' is a list, not an object; nothing was written" in output
    assert target.read_text() == '{"mcpServers": ["a", "b"]}'


def test_a_json_array_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "mcp.json"
    target.write_text("[1, 2]")
    with pytest.raises(ConnectError, match="holds a JSON list, not an object"):
        write_block(target, {"mcpServers": {"portal": {"url": MCP_URL}}})


def test_opencode_keeps_an_existing_schema_and_other_mcp_servers() -> None:
    existing = {"$schema": "./my-schema.json", "mcp": {"local": {"type": "local", "command": ["x"]}}}
    block = {"$schema": "https://opencode.ai/config.json", "mcp": {"portal": {"type": "remote"}}}
    assert merge_block(existing, block, "f") == {
        "$schema": "./my-schema.json",
        "mcp": {"local": {"type": "local", "command": ["x"]}, "portal": {"type": "remote"}},
    }


def test_an_old_portal_entry_is_replaced_not_merged_field_by_field(tmp_path: Path) -> None:
    target = tmp_path / "mcp.json"
    target.write_text(
        json.dumps({"mcpServers": {"portal": {"url": "http://old/mcp", "headers": {"A": "b"}}}})
    )
    written = write_block(target, {"mcpServers": {"portal": {"url": MCP_URL}}})
    assert written.changed and written.backup is not None
    assert json.loads(target.read_text()) == {"mcpServers": {"portal": {"url": MCP_URL}}}


def test_each_client_writes_where_it_reads(tmp_path: Path) -> None:
    home = tmp_path
    env: dict[str, str] = {}
    assert config_file("claude-code", home, env) == home / ".claude.json"
    assert config_file("cursor", home, env) == home / ".cursor" / "mcp.json"
    assert config_file("vscode", home, env) == home / ".config" / "Code" / "User" / "mcp.json"
    assert config_file("opencode", home, env) == home / ".config" / "opencode" / "opencode.json"
    assert config_file("opencode", home, {"XDG_CONFIG_HOME": "/x"}) == Path("/x/opencode/opencode.json")
    assert config_file("mcp-remote", home, env) is None


def test_mcp_remote_cannot_be_written_and_an_unknown_client_is_refused(
    home: Path, portal_config: Path
) -> None:
    code, output = _connect(home, portal_config, "mcp-remote", "--write")
    assert code == 2 and "mcp-remote has no config file" in output
    code, output = _connect(home, portal_config, "emacs")
    assert code == 2 and "unknown client 'emacs': use one of claude-code, cursor, vscode" in output


def test_a_server_name_with_odd_characters_is_refused(home: Path, portal_config: Path) -> None:
    code, output = _connect(home, portal_config, "cursor", "--name", "../x")
    assert code == 2 and "--name may hold letters" in output


@pytest.fixture
def published(tmp_path: Path) -> Iterator[str]:
    """A portal's discovery documents served on 127.0.0.1 (uvicorn in a thread); yields its base URL.

    The socket listens before uvicorn starts, so a request made at once waits in its backlog.
    """
    from portal.config import PortalConfig
    from portal.discovery import discovery_routes

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    config = PortalConfig(public_url="https://remote.example", state_dir=tmp_path / "state")
    app = Starlette(routes=discovery_routes(config))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_connect_from_a_running_portal_uses_the_mcp_url_it_publishes(
    home: Path, portal_config: Path, published: str
) -> None:
    code, output = _connect(home, portal_config, "cursor", "--write", "--from", published)
    assert code == 0, output
    written = json.loads((home / ".cursor" / "mcp.json").read_text())
    assert written == {"mcpServers": {"portal": {"url": "https://remote.example/mcp"}}}


def test_connect_from_an_address_that_publishes_nothing_says_so(home: Path, portal_config: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    code, output = _connect(home, portal_config, "cursor", "--from", f"http://127.0.0.1:{port}")
    assert code == 2
    assert f"cannot read http://127.0.0.1:{port}/.well-known/mcp-portal" in output
    assert "Traceback" not in output
