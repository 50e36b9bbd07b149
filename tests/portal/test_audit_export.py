"""`portal audit export --format jsonl` and the audit sink (a rotated JSON-lines file, or syslog)."""

from __future__ import annotations

import hashlib
import json
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from portal.audit import AuditQuery
from portal.audit_export import SCHEMA, audit_line, build_sink
from portal.cli import app
from portal.config import AuditSinkConfig, ConfigError, PortalConfig, load_config
from portal.runtime import open_runtime

pytestmark = pytest.mark.anyio

ECHO = {"namespace": "echo", "transport": {"type": "module", "module": "echo_meta_server"}}
CODE = "first = echo.whoami()\nsecond = echo.whoami()\nlen(first) + len(second)"
LINE_FIELDS = [
    "schema", "event", "id", "time", "user_id", "outcome", "limit_hit", "duration_ms",
    "code_sha256", "code_size", "result_size", "tool_calls",
]  # fmt: skip


def _write_config(tmp_path: Path, **extra: object) -> Path:
    path = tmp_path / "portal.yaml"
    path.write_text(yaml.safe_dump({"state_dir": str(tmp_path / "state"), "servers": [ECHO], **extra}))
    return path


async def _run(config_path: Path, *codes: str) -> tuple[list[dict], str]:
    """Execute each code as ann@example.com; the stored records (oldest first) and her anonymous id."""
    async with open_runtime(load_config(config_path)) as runtime:
        principal = await runtime.principal_for("ann@example.com")
        for code in codes:
            await runtime.codemode.execute(code, principal)
        records = runtime.audit.query(AuditQuery(user_id=principal.user_id))
    return list(reversed(records)), principal.user_id


def _export(config_path: Path, *args: str) -> tuple[int, list[dict], str]:
    done = CliRunner().invoke(app, ["audit", "export", "--config", str(config_path), *args])
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return done.exit_code, lines, done.stderr


async def test_an_exported_audit_line_holds_every_field_of_the_record(tmp_path: Path) -> None:
    config_path = _write_config(tmp_path)
    (record,), user_id = await _run(config_path, CODE)
    code, lines, stderr = _export(config_path, "--format", "jsonl", "--since", "1h")
    assert code == 0
    assert stderr.strip() == "exported 1 audit record(s)"
    (line,) = lines
    assert list(line) == LINE_FIELDS
    assert line["schema"] == "mcp-portal.audit.v1" == SCHEMA
    assert line["event"] == "execution"
    assert line["id"] == record["id"]
    assert line["time"] == record["started_at"]
    assert datetime.fromisoformat(line["time"]).tzinfo is not None
    assert line["user_id"] == user_id
    assert "@" not in json.dumps(line)  # the anonymous id only, never the email
    assert line["outcome"] == "ok"
    assert line["limit_hit"] is None
    assert line["duration_ms"] == record["duration_ms"] and line["duration_ms"] > 0
    assert line["code_sha256"] == hashlib.sha256(CODE.encode()).hexdigest()
    assert line["code_size"] == len(CODE.encode())
    assert line["result_size"] == record["result_size"] and line["result_size"] > 0
    assert [(c["name"], c["ok"]) for c in line["tool_calls"]] == [
        ("echo.whoami", True),
        ("echo.whoami", True),
    ]
    assert [c["duration_ms"] for c in line["tool_calls"]] == [c["duration_ms"] for c in record["tool_calls"]]
    assert [sorted(c) for c in line["tool_calls"]] == [["duration_ms", "name", "ok"]] * 2


async def test_export_is_oldest_first_and_since_until_select_a_window(tmp_path: Path) -> None:
    config_path = _write_config(tmp_path)
    records, _ = await _run(config_path, "1", "1 / 0", "2")
    code, lines, _ = _export(config_path)
    assert code == 0
    assert [line["id"] for line in lines] == [r["id"] for r in records]
    assert [line["outcome"] for line in lines] == ["ok", "ZeroDivisionError", "ok"]
    later = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    assert _export(config_path, "--since", later)[1] == []
    assert _export(config_path, "--until", records[1]["started_at"])[1] == lines[:1]


async def test_the_code_is_exported_only_when_the_audit_keeps_it(tmp_path: Path) -> None:
    config_path = _write_config(tmp_path, audit={"store_code": True})
    await _run(config_path, CODE)
    (line,) = _export(config_path)[1]
    assert line["code"] == CODE


async def test_export_writes_a_file_with_output(tmp_path: Path) -> None:
    config_path = _write_config(tmp_path)
    await _run(config_path, "1")
    target = tmp_path / "out" / "audit.jsonl"
    target.parent.mkdir()
    code, lines, stderr = _export(config_path, "--output", str(target))
    assert (code, lines) == (0, [])
    assert f"exported 1 audit record(s) to {target}" in stderr
    assert [json.loads(x)["outcome"] for x in target.read_text().splitlines()] == ["ok"]


def test_an_unknown_format_is_refused(tmp_path: Path) -> None:
    code, _, stderr = _export(_write_config(tmp_path), "--format", "csv")
    assert code == 2
    assert "--format 'csv' is not supported; use jsonl" in stderr


async def test_the_jsonl_sink_gets_each_record_as_written_in_the_export_shape(tmp_path: Path) -> None:
    sink_file = tmp_path / "siem" / "audit.jsonl"
    config_path = _write_config(tmp_path, audit={"sink": {"type": "jsonl", "path": str(sink_file)}})
    await _run(config_path, CODE, "1 / 0")
    sunk = [json.loads(x) for x in sink_file.read_text().splitlines()]
    assert sunk == _export(config_path)[1]
    assert [line["outcome"] for line in sunk] == ["ok", "ZeroDivisionError"]


def _record(n: int) -> dict:
    return {
        "id": n, "user_id": "u-1", "started_at": "2026-12-04T10:00:00+00:00", "duration_ms": 1.5,
        "code_sha256": "ab" * 32, "code_size": 3, "code": None, "outcome": "ok", "limit_hit": None,
        "result_size": 40, "tool_calls": [{"name": "echo.whoami", "duration_ms": 0.5, "ok": True}],
    }  # fmt: skip


def test_the_jsonl_sink_rotates_at_max_bytes_and_keeps_the_backups_asked_for(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    sink = build_sink(AuditSinkConfig(type="jsonl", path=path, max_bytes=1024, backups=2))
    assert sink is not None
    for n in range(40):
        sink(_record(n))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit.jsonl", "audit.jsonl.1", "audit.jsonl.2"]
    assert all(p.stat().st_size <= 1024 for p in tmp_path.iterdir())
    assert json.loads(path.read_text().splitlines()[-1])["id"] == 39


def test_the_syslog_sink_sends_one_datagram_per_record_with_facility_and_tag() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("127.0.0.1", 0))
        receiver.settimeout(10)
        port = receiver.getsockname()[1]
        sink = build_sink(AuditSinkConfig(type="syslog", address=f"127.0.0.1:{port}", facility="local0"))
        assert sink is not None
        sink(_record(7))
        datagram = receiver.recv(65536).decode()
    prefix = "<134>mcp-portal-audit: "  # local0 (16) * 8 + info (6)
    assert datagram.startswith(prefix)
    assert json.loads(datagram[len(prefix) :].rstrip("\x00")) == audit_line(_record(7))


def test_a_jsonl_sink_without_a_path_is_refused_at_load(tmp_path: Path) -> None:
    path = tmp_path / "portal.yaml"
    path.write_text("audit:\n  sink:\n    type: jsonl\n")
    with pytest.raises(ConfigError, match="audit.sink.path is required when audit.sink.type is 'jsonl'"):
        load_config(path)


def test_no_sink_is_built_when_none_is_configured() -> None:
    assert build_sink(PortalConfig().audit.sink) is None
