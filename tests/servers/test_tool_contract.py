"""Typed results end to end (issue 12): every bundled tool publishes a named result shape and keeps it.

The per-call check lives in conftest.py (`tool_output_contract`); these tests hold the
schemas themselves to the rule, prove the per-call check can fail, and check that the
server suite called every tool at least once.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent
from typing_extensions import TypedDict

pytestmark = pytest.mark.anyio

# Every server folder, the template included: a server copied from it is held to the rule unasked.
SERVERS = sorted(p.parent.name for p in (Path(__file__).parents[2] / "servers").glob("*/server.py"))


def offline_settings(package: str) -> Any:
    """Settings that build the server offline: build_server does no I/O, and nothing listens on port 9."""
    settings = importlib.import_module(f"servers.{package}").Settings
    required = [name for name, field in settings.model_fields.items() if field.is_required()]
    return settings(**{name: "x" for name in required} | {"url": "http://127.0.0.1:9"})


def build(package: str) -> MCPServer:
    return importlib.import_module(f"servers.{package}").build_server(offline_settings(package))


async def all_tools() -> dict[tuple[str, str], dict[str, Any] | None]:
    """(server name, tool name) -> outputSchema, for every tool of every bundled server."""
    found: dict[tuple[str, str], dict[str, Any] | None] = {}
    for package in SERVERS:
        server = build(package)
        async with Client(server) as client:
            for tool in (await client.list_tools()).tools:
                found[(server.name, tool.name)] = tool.output_schema
    return found


def vague_parts(schema: dict[str, Any], defs: dict[str, Any], path: str = "result") -> Iterator[str]:
    """Paths where a schema says nothing of the shape: Any, or an object or array of unknown content.

    A nested free-form value (a document's own fields, a kind-specific spec) is allowed
    when its schema has a description saying so; the result itself never is.
    """
    if "$ref" in schema:
        yield from vague_parts(defs[schema["$ref"].rsplit("/", 1)[-1]], defs, path)
        return
    for option in schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", []):
        yield from vague_parts(option, defs, path)
    kind = schema.get("type")
    free_form_ok = path != "result" and bool(schema.get("description"))
    if kind is None and not {"anyOf", "oneOf", "allOf", "enum", "const"} & set(schema):
        yield f"{path}: Any"
    elif kind == "object":
        extra = schema.get("additionalProperties")
        if not schema.get("properties") and extra in (None, True, {}) and not free_form_ok:
            yield f"{path}: an object of unknown fields"
        for name, sub in (schema.get("properties") or {}).items():
            yield from vague_parts(sub, defs, f"{path}.{name}")
        if isinstance(extra, dict) and extra:
            yield from vague_parts(extra, defs, f"{path}[key]")
    elif kind == "array":
        for sub in schema.get("prefixItems", []):
            yield from vague_parts(sub, defs, f"{path}[i]")
        if "items" in schema:
            yield from vague_parts(schema["items"], defs, f"{path}[]")
        elif "prefixItems" not in schema:
            yield f"{path}: a list of unknown items"


def result_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema of what the function returns: the SDK wraps non-objects as {"result": ...}."""
    props = schema.get("properties") or {}
    return props["result"] if set(props) == {"result"} and schema.get("required") == ["result"] else schema


async def test_every_tool_of_every_server_publishes_a_result_shape_that_names_its_fields():
    tools = await all_tools()
    assert len(SERVERS) >= 7 and len(tools) >= 70
    missing = sorted(f"{s}.{t}" for (s, t), schema in tools.items() if schema is None)
    vague = {
        f"{s}.{t}": problems
        for (s, t), schema in tools.items()
        if schema and (problems := list(vague_parts(result_schema(schema), schema.get("$defs", {}))))
    }
    assert (missing, vague) == ([], {})


async def test_every_named_shape_is_a_type_name_not_a_generated_one():
    """The shape names become what a model reads (`-> list[Project]`), so they must be real names."""
    tools = await all_tools()
    names = {name for schema in tools.values() if schema for name in schema.get("$defs", {})}
    assert names
    assert sorted(n for n in names if not n[:1].isupper() or "_" in n or "__" in n) == []


def test_a_result_of_unknown_fields_is_reported_as_vague():
    bare = {"type": "object", "additionalProperties": True}
    nested = {"type": "object", "properties": {"spec": {"type": "object"}, "x": {}}}
    described = {"type": "object", "properties": {"spec": {"type": "object", "description": "kind's own"}}}
    assert list(vague_parts(bare, {})) == ["result: an object of unknown fields"]
    assert list(vague_parts(nested, {})) == ["result.spec: an object of unknown fields", "result.x: Any"]
    assert list(vague_parts({"type": "array"}, {})) == ["result: a list of unknown items"]
    assert list(vague_parts(described, {})) == []


def test_the_call_check_rejects_content_that_breaks_the_schema(contract_check):
    schema = {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}
    bad = CallToolResult(
        content=[TextContent(type="text", text='{"id": "7"}')], structured_content={"id": "7"}
    )
    with pytest.raises(AssertionError, match=r"x\.get broke its outputSchema: at id: '7' is not of type"):
        contract_check("x", "get", schema, bad)


def test_the_call_check_rejects_structured_content_that_dropped_a_returned_field(contract_check):
    schema = {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}
    text = TextContent(type="text", text='{"id": 7, "path_with_namespace": "infra/api"}')
    dropped = CallToolResult(content=[text], structured_content={"id": 7})
    with pytest.raises(
        AssertionError, match=r"x\.get: structuredContent differs from what the tool returned"
    ):
        contract_check("x", "get", schema, dropped)


class Probe(TypedDict):
    id: int


async def test_a_tool_whose_type_hides_a_returned_field_fails_the_test_that_calls_it():
    server = MCPServer(name="probe")

    @server.tool()
    def get() -> Probe:
        """Returns a field its declared type does not have."""
        return {"id": 1, "secret_extra": 2}  # type: ignore[typeddict-unknown-key]

    async with Client(server) as client:
        with pytest.raises(AssertionError, match=r"probe\.get: structuredContent differs"):
            await client.call_tool("get", {})


async def test_every_tool_of_every_server_was_called_in_the_suite(called_tools, collected_modules):
    """Runs last (conftest.py orders it) and only when the whole server suite ran in this session."""
    modules, deselected = collected_modules
    suite = {p.name for p in Path(__file__).parent.glob("test_*.py")}
    if deselected or not suite <= modules:
        pytest.skip("only a full run of tests/servers/ calls every tool")
    never_called = sorted(f"{s}.{t}" for s, t in set(await all_tools()) - called_tools)
    assert never_called == []
