"""``portal connect CLIENT``: put the portal into an MCP client's own config file.

The block comes from `portal.discovery` (the same one ``/.well-known/mcp-portal``
serves). Writing merges it into the file: the user's other servers and settings
stay as they are, only the portal's own entry is added or replaced, the old
file is kept as a timestamped ``.bak`` copy, and the new one replaces it in one
rename. A file that is not a JSON object (comments included) is never written:
the error says where it fails to parse, and the block can be pasted by hand.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from portal.discovery import CLIENTS, client_config

__all__ = ["CLIENTS", "ConnectError", "Written", "block_for", "config_file", "merge_block", "write_block"]


class ConnectError(Exception):
    """The client's config file cannot be merged into; nothing was written. The message says why."""


@dataclass(frozen=True)
class Written:
    path: Path
    backup: Path | None  # the previous file, when there was one and it changed
    changed: bool


def config_file(client: str, home: Path, environ: dict[str, str] | None = None) -> Path | None:
    """Where the client reads its MCP servers for this user; None for mcp-remote, which has no file."""
    env = dict(os.environ) if environ is None else environ
    if client == "claude-code":
        return home / ".claude.json"
    if client == "cursor":
        return home / ".cursor" / "mcp.json"
    if client == "vscode":
        return _vscode_user_dir(home, env) / "mcp.json"
    if client == "opencode":
        folder = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config"
        json_file, jsonc_file = folder / "opencode" / "opencode.json", folder / "opencode" / "opencode.jsonc"
        return jsonc_file if jsonc_file.exists() and not json_file.exists() else json_file
    if client == "mcp-remote":
        return None
    raise ConnectError(f"unknown client {client!r}: use one of {', '.join(CLIENTS)}")


def _vscode_user_dir(home: Path, env: dict[str, str]) -> Path:
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "Code" / "User"
    if sys.platform == "win32" and env.get("APPDATA"):
        return Path(env["APPDATA"]) / "Code" / "User"
    folder = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config"
    return folder / "Code" / "User"


def merge_block(existing: dict[str, Any], block: dict[str, Any], where: str) -> dict[str, Any]:
    """``existing`` with the block's entries added: mappings merged one level deep, scalars only if absent.

    So ``{"mcpServers": {"portal": ...}}`` adds or replaces ``mcpServers.portal`` and keeps every other
    server; ``$schema`` is set only when the file has none.
    """
    merged = dict(existing)
    for key, value in block.items():
        if isinstance(value, dict):
            current = merged.get(key, {})
            if not isinstance(current, dict):
                raise ConnectError(
                    f"{where}: {key!r} is a {type(current).__name__}, not an object; nothing was written"
                )
            merged[key] = {**current, **value}
        else:
            merged.setdefault(key, value)
    return merged


def _read_object(path: Path) -> dict[str, Any] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConnectError(f"cannot read {path}: {exc}; nothing was written") from None
    if not text.strip():
        return {}
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConnectError(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); nothing was "
            "written. Fix the file (comments and trailing commas are not JSON), or add the block printed "
            "by `portal connect` without --write by hand"
        ) from None
    if not isinstance(parsed, dict):
        raise ConnectError(f"{path} holds a JSON {type(parsed).__name__}, not an object; nothing was written")
    return parsed


def write_block(path: Path, block: dict[str, Any], now: datetime | None = None) -> Written:
    """Merge the block into the JSON file at ``path`` (created when missing), keeping a backup."""
    existing = _read_object(path)
    merged = merge_block(existing or {}, block, str(path))
    if existing is not None and merged == existing:
        return Written(path, None, changed=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    backup = None
    if existing is not None:
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
        backup = path.with_name(f"{path.name}.bak-{stamp}")
        shutil.copy2(path, backup)
    _replace(path, json.dumps(merged, indent=2, ensure_ascii=False) + "\n")
    return Written(path, backup, changed=True)


def _replace(path: Path, text: str) -> None:
    """Write a sibling temporary file and rename it over ``path``: a reader sees the old or the new file."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600  # config files may hold the user's keys
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def block_for(client: str, mcp_url: str, name: str) -> dict[str, Any]:
    try:
        return client_config(client, mcp_url, name)
    except ValueError as exc:
        raise ConnectError(str(exc)) from None
