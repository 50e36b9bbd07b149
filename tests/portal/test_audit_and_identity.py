"""Every execution is audited under the user's anonymous id; downstream servers see only that id."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import anyio
import pytest

from portal.config import PortalConfig
from portal.identity import USER_META_KEY, Identities
from portal.runtime import open_runtime, store_for

pytestmark = pytest.mark.anyio

ECHO = {"namespace": "echo", "transport": {"type": "module", "module": "echo_meta_server"}}


def config(tmp_path: Path, **extra: object) -> PortalConfig:
    return PortalConfig.model_validate({"state_dir": str(tmp_path), "servers": [ECHO], **extra})


async def test_downstream_servers_receive_the_anonymous_id_and_never_the_email(tmp_path: Path) -> None:
    async with open_runtime(config(tmp_path)) as runtime:
        outcome = await runtime.codemode.execute(
            "echo.whoami()", await runtime.principal_for("Ann@Example.com")
        )
        expected = await runtime.identities.user_id("ann@example.com")
    meta = json.loads(outcome.text)["value"]
    assert meta[USER_META_KEY] == expected
    assert uuid.UUID(expected).version == 4
    assert "example.com" not in outcome.text.lower()


async def test_a_user_keeps_the_same_id_across_restarts_and_case(tmp_path: Path) -> None:
    store = store_for(config(tmp_path))
    first = await Identities(store).user_id("bob@example.com")
    store.close()
    store = store_for(config(tmp_path))
    try:
        assert await Identities(store).user_id("  BOB@example.com") == first
        assert await Identities(store).user_id("carol@example.com") != first
    finally:
        store.close()


async def test_each_execution_is_recorded_with_its_tool_calls_and_outcome(tmp_path: Path) -> None:
    from portal.audit import AuditQuery

    async with open_runtime(config(tmp_path)) as runtime:
        principal = await runtime.principal_for("ann@example.com")
        await runtime.codemode.execute("echo.whoami()\nechoed = echo.whoami()\nlen(echoed)", principal)
        await runtime.codemode.execute("1 / 0", principal)
        user_id = await runtime.identities.user_id("ann@example.com")
        records = runtime.audit.query(AuditQuery(user_id=user_id))
    assert [r["outcome"] for r in records] == ["ZeroDivisionError", "ok"]
    ok = records[1]
    assert [c["name"] for c in ok["tool_calls"]] == ["echo.whoami", "echo.whoami"]
    assert all(c["ok"] for c in ok["tool_calls"])
    assert ok["code"] is None
    assert ok["code_size"] == len("echo.whoami()\nechoed = echo.whoami()\nlen(echoed)")
    assert ok["result_size"] > 0 and ok["limit_hit"] is None


async def test_a_limit_hit_is_recorded_as_such(tmp_path: Path) -> None:
    from portal.audit import AuditQuery

    limited = config(tmp_path, sandbox={"max_tool_calls": 1})
    async with open_runtime(limited) as runtime:
        await runtime.codemode.execute(
            "echo.whoami()\necho.whoami()", await runtime.principal_for("ann@example.com")
        )
        records = runtime.audit.query(AuditQuery())
    assert (records[0]["outcome"], records[0]["limit_hit"]) == (
        "ToolCallLimitExceeded",
        "ToolCallLimitExceeded",
    )


async def test_the_code_itself_is_kept_only_when_configured(tmp_path: Path) -> None:
    from portal.audit import AuditQuery

    async with open_runtime(config(tmp_path, audit={"store_code": True})) as runtime:
        await runtime.codemode.execute("21 * 2", await runtime.principal_for("ann@example.com"))
        records = runtime.audit.query(AuditQuery())
    assert records[0]["code"] == "21 * 2"


async def test_concurrent_executions_lose_no_record(tmp_path: Path) -> None:
    from portal.audit import AuditQuery

    count = 12
    async with open_runtime(config(tmp_path)) as runtime:
        async with anyio.create_task_group() as group:
            for index in range(count):
                principal = await runtime.principal_for(f"user{index % 3}@example.com")
                group.start_soon(runtime.codemode.execute, f"echo.whoami()\n{index}", principal)
        records = runtime.audit.query(AuditQuery(limit=1000))
    assert len(records) == count
    assert len({r["user_id"] for r in records}) == 3
    assert all(len(r["tool_calls"]) == 1 for r in records)


async def test_the_audit_command_filters_by_email_and_prints_json(tmp_path: Path) -> None:
    async with open_runtime(config(tmp_path)) as runtime:
        await runtime.codemode.execute("1", await runtime.principal_for("ann@example.com"))
        await runtime.codemode.execute("2", await runtime.principal_for("bob@example.com"))
    config_path = tmp_path / "portal.yaml"
    config_path.write_text(json.dumps({"state_dir": str(tmp_path), "servers": []}))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "portal.cli",
            "audit",
            "--user",
            "bob@example.com",
            "--since",
            "1h",
            "--json",
            "--config",
            str(config_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    records = json.loads(done.stdout)
    assert len(records) == 1 and records[0]["outcome"] == "ok"
    bad = subprocess.run(
        [sys.executable, "-m", "portal.cli", "audit", "--since", "yesterday", "--config", str(config_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "span like 30m" in bad.stderr
