"""Destructive calls wait for the user's approval, asked by elicitation, in both modes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from mcp import Client

from portal.config import PortalConfig
from portal.mcp_server import build_mcp_server
from portal.runtime import open_runtime

pytestmark = pytest.mark.anyio
FIXTURE = {
    "namespace": "fixture",
    "tool_prefix": "",
    "transport": {"type": "module", "module": "conformance_fixture"},
}
APPROVE_SIMPLE_TEXT = {"tools": ["fixture.test_simple_text"]}


@asynccontextmanager
async def client_of(
    tmp_path: Path, codemode: bool, answer: str | None, approve: dict[str, Any] | None = APPROVE_SIMPLE_TEXT
) -> AsyncIterator[tuple[Client, list[types.ElicitRequestParams]]]:
    """``answer``: what the user picks ("Approve"/"Deny"); None: a client without elicitation."""
    config = PortalConfig.model_validate(
        {"codemode": codemode, "state_dir": str(tmp_path), "servers": [FIXTURE], "approve": approve}
    )
    asked: list[types.ElicitRequestParams] = []

    async def elicit(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params)
        return types.ElicitResult(action="accept", content={"decision": answer or ""})

    async with open_runtime(config) as runtime:
        prefixes = {"fixture": ""}
        server = build_mcp_server(codemode, runtime.registry, runtime.catalog, runtime.codemode, prefixes)
        options: dict[str, Any] = {"elicitation_callback": elicit} if answer is not None else {}
        async with Client(server, mode="legacy", **options) as client:
            yield client, asked


def text(result: types.CallToolResult) -> str:
    return result.content[0].text  # type: ignore[union-attr]


async def test_an_approved_call_runs_after_the_user_was_asked_with_the_tool_and_its_arguments(
    tmp_path: Path,
) -> None:
    async with client_of(tmp_path, codemode=False, answer="Approve") as (client, asked):
        result = await client.call_tool("test_simple_text", {})
        unasked = await client.call_tool("test_image_content", {})
    assert text(result) == "This is a simple text response for testing."
    assert not unasked.is_error
    assert [params.message for params in asked] == ["Allow fixture.test_simple_text to run with {}?"]
    assert asked[0].requested_schema["properties"]["decision"]["enum"] == ["Approve", "Deny"]


async def test_a_denied_call_does_not_run_and_the_model_reads_why(tmp_path: Path) -> None:
    async with client_of(tmp_path, codemode=False, answer="Deny") as (client, _):
        result = await client.call_tool("test_simple_text", {})
    assert result.is_error
    assert text(result) == "fixture.test_simple_text was not run: the user denied it (accept)"


async def test_in_code_mode_each_inner_call_is_asked_about_and_a_denial_is_a_tool_error(
    tmp_path: Path,
) -> None:
    code = (
        "try:\n    fixture.test_simple_text()\nexcept ToolError as error:\n    message = str(error)\nmessage"
    )
    async with client_of(tmp_path, codemode=True, answer="Deny") as (client, asked):
        result = await client.call_tool("portal_codemode_execute", {"code": code})
    answer = json.loads(text(result))
    assert answer["ok"] is True and "the user denied it" in answer["value"]
    assert len(asked) == 1


async def test_a_client_without_elicitation_gets_a_clear_refusal(tmp_path: Path) -> None:
    async with client_of(tmp_path, codemode=False, answer=None) as (client, _):
        result = await client.call_tool("test_simple_text", {})
    assert result.is_error
    assert text(result).startswith(
        "fixture.test_simple_text needs the user's approval, and this client cannot ask"
    )


async def test_by_default_tools_annotated_read_only_are_not_asked_about_and_the_rest_are(
    tmp_path: Path,
) -> None:
    async with client_of(tmp_path, codemode=False, answer="Approve", approve={}) as (client, asked):
        await client.call_tool("test_structured_output", {"a": 1, "b": 2})  # readOnlyHint: true
        await client.call_tool("test_simple_text", {})  # no annotations: destructive by MCP's default
    assert [params.message for params in asked] == ["Allow fixture.test_simple_text to run with {}?"]


async def test_the_decisions_of_an_execution_are_in_its_audit_record(tmp_path: Path) -> None:
    from portal.audit import AuditQuery

    code = (
        "try:\n    fixture.test_simple_text()\nexcept ToolError:\n    pass\nfixture.test_image_content()\n1"
    )
    config = PortalConfig.model_validate(
        {"codemode": True, "state_dir": str(tmp_path), "servers": [FIXTURE], "approve": APPROVE_SIMPLE_TEXT}
    )
    async with open_runtime(config) as runtime:
        await runtime.codemode.execute(code, None)  # no client to ask (the CLI): refused
        records = runtime.audit.query(AuditQuery())
    assert records[0]["approvals"] == [{"tool": "fixture.test_simple_text", "decision": "refused"}]
    assert [c["name"] for c in records[0]["tool_calls"]] == [
        "fixture.test_simple_text",
        "fixture.test_image_content",
    ]
