"""Detail on demand (issue 12, item 2): an exact tool name or ``detail="full"`` gets the whole contract.

Through the portal's own MCP server and the SDK's in-memory client, against the
demo GitLab server and its fake backend.
"""

from __future__ import annotations

import ast
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import yaml
from mcp import Client
from portal_testing import demo_servers
from typer.testing import CliRunner

from portal.cli import app
from portal.codemode import SEARCH_TOOL
from portal.config import PortalConfig
from portal.mcp_server import build_mcp_server
from portal.runtime import PortalRuntime, open_runtime
from portal.search_answer import MAX_FULL_DETAIL

pytestmark = pytest.mark.anyio


READ_ONLY_RULES = [{"groups": ["*"], "tools": ["*"], "annotations": {"readOnlyHint": True}}]


@asynccontextmanager
async def portal(state: Path, **settings: object) -> AsyncIterator[PortalRuntime]:
    with demo_servers("gitlab") as servers:
        config = PortalConfig.model_validate({"state_dir": str(state), "servers": servers, **settings})
        async with open_runtime(config) as opened:
            yield opened


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[PortalRuntime]:
    async with portal(tmp_path) as opened:
        yield opened


@pytest.fixture
async def client(runtime: PortalRuntime) -> AsyncIterator[Client]:
    server = build_mcp_server(True, runtime.registry, runtime.catalog, runtime.codemode)
    async with Client(server) as connected:
        yield connected


async def search(client: Client, **arguments: object) -> str:
    result = await client.call_tool(SEARCH_TOOL, arguments)
    assert not result.is_error, result
    return result.content[0].text


def section(text: str, title: str) -> list[str]:
    """The indented lines under ``title:`` in a contract."""
    lines = text.splitlines()
    start = lines.index(title) + 1
    body = []
    for line in lines[start:]:
        if not line.startswith("  "):
            break
        body.append(line.strip())
    return body


async def test_search_text_answers_a_full_contract_for_an_exact_name(runtime: PortalRuntime) -> None:
    text = runtime.codemode.search_text("gitlab.list_merge_requests", 10, None)
    assert text.splitlines()[0].startswith("gitlab.list_merge_requests(project: str, state: Literal[")
    assert text.count("\nParameters:\n") == 1


async def test_an_exact_tool_name_gets_every_parameter_with_its_description_enum_and_default(
    client: Client,
) -> None:
    text = await search(client, query="gitlab.list_merge_requests")
    assert section(text, "Parameters:") == [
        "project: str (required) - Project path like 'infra/api', or its numeric id as a string",
        'state: Literal["opened", "closed", "merged", "all"] = "opened" - one of: "opened", "closed", '
        '"merged", "all"',
        "page: int = 1 - Page number, starting at 1",
        "per_page: int | None = None",
    ]
    assert "Description:" in text and "iid (use with get_merge_request)" in text
    assert section(text, "Example:") == ['gitlab.list_merge_requests(project="<project>")']
    assert "\nAnnotations: read-only, open world\n" in text


async def test_the_contract_shows_the_whole_result_shape_however_many_fields(client: Client) -> None:
    brief = await search(client, query="get one merge request by iid")
    full = await search(client, query="gitlab.get_merge_request")
    assert "MergeRequest = {" in brief and ", ...}" in brief
    returns = section(full, "Returns: MergeRequest")
    assert returns[0].startswith("MergeRequest = {iid: int, ")
    assert "user_notes_count: int}" in returns[0] and "..." not in returns[0]


async def test_the_example_call_is_python_with_a_placeholder_of_the_right_type_per_required_parameter(
    client: Client,
) -> None:
    text = await search(client, query="gitlab.get_job_log")
    (example,) = section(text, "Example:")
    call = ast.parse(example, mode="eval").body
    assert isinstance(call, ast.Call) and ast.unparse(call.func) == "gitlab.get_job_log"
    values = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    assert values == {"project": "<project>", "job_id": 1}


async def test_detail_full_gives_the_whole_contract_of_each_of_the_first_hits(client: Client) -> None:
    text = await search(client, query="merge request", detail="full", limit=20)
    assert text.count("\nParameters:\n") == MAX_FULL_DETAIL
    assert text.count("\nExample:\n") == MAX_FULL_DETAIL
    brief = await search(client, query="merge request", limit=20)
    assert "Parameters:" not in brief


async def test_a_tool_the_caller_may_not_use_has_no_contract_to_show(tmp_path: Path) -> None:
    async with portal(tmp_path, permissions=READ_ONLY_RULES) as restricted:
        principal = await restricted.principal_for("reader@example.com")
        text = restricted.codemode.search_text("gitlab.create_issue", 10, principal)
        allowed = restricted.codemode.search_text("gitlab.get_issue", 10, principal)
    assert "Parameters:" not in text
    assert "gitlab.create_issue(" not in text  # the write tool stays hidden from a read-only caller
    assert "Parameters:" in allowed


async def test_an_unknown_detail_is_an_argument_error_naming_the_parameter(client: Client) -> None:
    result = await client.call_tool(SEARCH_TOOL, {"query": "merge request", "detail": "everything"})
    assert result.is_error
    assert result.content[0].text.startswith(f"Invalid arguments for {SEARCH_TOOL}: detail:")


async def test_the_search_tool_tells_a_model_about_detail_and_result_shapes(client: Client) -> None:
    (tool,) = [t for t in (await client.list_tools()).tools if t.name == SEARCH_TOOL]
    detail = tool.input_schema["properties"]["detail"]
    assert detail["enum"] == ["brief", "full"] and detail["default"] == "brief"
    assert tool.description is not None
    assert 'detail="full"' in tool.description and "exact name" in tool.description
    assert "Project = {id: int" in tool.description


def test_the_cli_shows_result_shapes_and_with_detail_the_whole_contract(tmp_path: Path) -> None:
    config = tmp_path / "portal.yaml"
    with demo_servers("gitlab") as servers:
        config.write_text(yaml.safe_dump({"state_dir": str(tmp_path / "state"), "servers": servers}))
        brief = CliRunner().invoke(app, ["search", "list projects", "--limit", "2", "--config", str(config)])
        full = CliRunner().invoke(
            app, ["search", "list projects", "--limit", "2", "--detail", "--config", str(config)]
        )
    assert brief.exit_code == 0 and full.exit_code == 0, (brief.output, full.output)
    assert "ProjectSummary = {id: int, path: str" in brief.output and "Parameters:" not in brief.output
    assert full.output.count("\nParameters:\n") == 2


async def test_a_tool_is_found_by_its_upstream_name_and_its_contract_speaks_python_names(
    tmp_path: Path,
) -> None:
    odd = {"namespace": "odd", "transport": {"type": "module", "module": "odd_names_server"}}
    config = PortalConfig.model_validate({"state_dir": str(tmp_path), "servers": [odd]})
    async with open_runtime(config) as runtime:
        by_upstream_name = runtime.codemode.search_text("odd.API-get-self", 10, None)
        by_python_name = runtime.codemode.search_text("odd.API_get_self", 10, None)
    assert by_upstream_name == by_python_name
    assert section(by_upstream_name, "Example:") == ['odd.API_get_self(user_id_2="<user_id_2>")']
    assert section(by_upstream_name, "Parameters:")[0] == "user_id_2: str (required) - Whose objects."
