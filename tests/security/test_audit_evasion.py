"""Issue 10, item 2: no execution escapes the audit trail, whatever the code prints, returns or raises.

The attack: ``print("\\ud800")`` made the answer fail to encode after the tool calls ran, so the
client got a JSON-RPC internal error and no audit record was written. Here every execution, with
arbitrary text, nesting and exceptions in its output, value and error, must give exactly one JSON
answer within ``result_max_bytes`` and exactly one audit record holding every tool call it made.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sandbox
from portal.audit import AuditQuery
from portal.codemode import format_execution
from portal.config import PortalConfig
from portal.runtime import PortalRuntime, open_runtime

pytestmark = pytest.mark.anyio

ECHO = {"namespace": "echo", "transport": {"type": "module", "module": "echo_meta_server"}}
MAX_BYTES = 4_000
# Every code point, lone surrogates included: what JSON-RPC can carry as "\ud800" escapes.
ANY_TEXT = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=300)
JSON_LEAVES = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | ANY_TEXT
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: st.lists(children, max_size=6) | st.dictionaries(ANY_TEXT, children, max_size=6),
    max_leaves=30,
)


def _answer(text: str) -> dict[str, Any]:
    assert len(text.encode("utf-8")) <= MAX_BYTES  # encodable, and within budget
    answer = json.loads(text)
    assert set(answer) <= {"ok", "value", "stdout", "error", "truncated"}
    return answer


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[PortalRuntime]:
    config = PortalConfig.model_validate(
        {"state_dir": str(tmp_path), "servers": [ECHO], "result_max_bytes": MAX_BYTES}
    )
    async with open_runtime(config) as opened:
        yield opened


async def _records(runtime: PortalRuntime) -> list[dict[str, Any]]:
    return runtime.audit.query(AuditQuery(limit=10_000))


async def test_a_lone_surrogate_in_print_is_answered_and_audited_with_its_tool_calls(
    runtime: PortalRuntime,
) -> None:
    principal = await runtime.principal_for("ann@example.com")
    outcome = await runtime.codemode.execute(
        'echo.whoami()\necho.whoami()\nprint("\\ud800")\n"\\udfff"', principal
    )
    answer = _answer(outcome.text)
    assert answer["ok"] is True
    assert answer["value"] == "\udfff"  # the same string, sent \\u-escaped
    assert "\\ud800" in outcome.text
    [record] = await _records(runtime)
    assert record["outcome"] == "ok"
    assert [call["name"] for call in record["tool_calls"]] == ["echo.whoami", "echo.whoami"]


async def test_a_lone_surrogate_in_an_exception_and_in_the_code_is_audited(runtime: PortalRuntime) -> None:
    principal = await runtime.principal_for("ann@example.com")
    raised = await runtime.codemode.execute('echo.whoami()\nraise ValueError("\\ud834")', principal)
    in_source = await runtime.codemode.execute("# \udc80\n1", principal)
    assert _answer(raised.text)["error"]["type"] == "ValueError"
    assert _answer(in_source.text)["error"]["type"] == "SyntaxError"
    records = await _records(runtime)
    assert [r["outcome"] for r in records] == ["SyntaxError", "ValueError"]
    assert [c["name"] for c in records[1]["tool_calls"]] == ["echo.whoami"]


async def test_a_portal_fault_while_formatting_is_a_portal_error_and_audited(
    runtime: PortalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    import portal.codemode

    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("formatter bug")

    monkeypatch.setattr(portal.codemode, "format_execution", broken)
    principal = await runtime.principal_for("ann@example.com")
    outcome = await runtime.codemode.execute("echo.whoami()\n1", principal)
    answer = _answer(outcome.text)
    assert answer["ok"] is False and answer["error"]["type"] == "PortalError"
    assert "formatter bug" not in outcome.text  # nothing internal reaches the model
    [record] = await _records(runtime)
    assert record["outcome"] == "PortalError"
    assert [call["name"] for call in record["tool_calls"]] == ["echo.whoami"]


async def test_a_fault_after_the_audit_record_still_gives_the_answer(
    runtime: PortalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("feedback bug")

    monkeypatch.setattr(runtime.codemode.feedback, "learn", broken)
    outcome = await runtime.codemode.execute(
        "echo.whoami()\n2", await runtime.principal_for("ann@example.com")
    )
    assert _answer(outcome.text) == {"ok": True, "value": 2, "stdout": "", "error": None}
    [record] = await _records(runtime)
    assert record["outcome"] == "ok"


async def test_an_audit_store_failure_is_never_answered_ok(
    runtime: PortalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unavailable(*args: object, **kwargs: object) -> int:
        raise OSError("database is gone")

    monkeypatch.setattr(runtime.audit, "record", unavailable)
    outcome = await runtime.codemode.execute("1 + 1", await runtime.principal_for("ann@example.com"))
    answer = _answer(outcome.text)
    assert outcome.is_error and answer["error"]["type"] == "PortalError"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stdout=ANY_TEXT, value=JSON_VALUES, message=ANY_TEXT, raises=st.booleans(), repeat=st.integers(0, 400))
async def test_any_output_value_or_exception_gives_one_json_answer_and_one_audit_record(
    runtime: PortalRuntime, stdout: str, value: Any, message: str, raises: bool, repeat: int
) -> None:
    principal = await runtime.principal_for("fuzz@example.com")
    before = len(await _records(runtime))
    tail = f"raise RuntimeError({message!r})" if raises else repr(value)
    code = f"echo.whoami()\nprint({stdout!r} * {repeat})\n{tail}"
    outcome = await runtime.codemode.execute(code, principal)
    answer = _answer(outcome.text)
    assert answer["ok"] is (not raises)
    if raises:
        assert answer["error"]["type"] == "RuntimeError"
    elif "truncated" not in answer or "value" not in answer["truncated"]:
        assert answer["value"] == json.loads(json.dumps(value))
    records = await _records(runtime)
    assert len(records) == before + 1
    assert [call["name"] for call in records[0]["tool_calls"]] == ["echo.whoami"]


@settings(max_examples=200, deadline=None)
@given(
    stdout=ANY_TEXT,
    value=JSON_VALUES,
    message=ANY_TEXT,
    ok=st.booleans(),
    repeat=st.integers(0, 200),
    budget=st.integers(256, 6_000),
)
def test_the_answer_is_valid_json_within_budget_and_never_a_marker_under_ok(
    stdout: str, value: Any, message: str, ok: bool, repeat: int, budget: int
) -> None:
    error = None if ok else sandbox.ErrorInfo("ToolError", message * repeat, "gitlab.get_project", "fix it")
    result = sandbox.ExecutionResult(ok, value if ok else None, stdout * repeat, error, (), 1.0)
    kept: list[Any] = []

    def keep(found: Any, size: int) -> str:
        kept.append(found)
        return "r_handle"

    text = format_execution(result, budget, keep)
    assert len(text.encode("utf-8")) <= budget
    answer = json.loads(text)
    assert answer["ok"] is ok
    if ok and answer["value"] is not None:
        assert answer["value"] == json.loads(json.dumps(value))
    if ok and answer.get("truncated", {}).get("value"):
        assert answer["value"] is None and kept == [value]
