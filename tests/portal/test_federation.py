"""Resources, prompts and list changes from several upstreams, through the portal's MCP server in memory."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client
from mcp.server.auth.middleware.auth_context import auth_context_var
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.shared.exceptions import MCPError

from portal.config import ConfigError, PortalConfig, load_config
from portal.mcp_server import build_mcp_server
from portal.runtime import PortalRuntime, open_runtime

pytestmark = pytest.mark.anyio


def fixture(namespace: str, **options: Any) -> dict[str, Any]:
    return {
        "namespace": namespace,
        "transport": {"type": "module", "module": "conformance_fixture"},
        **options,
    }


class Heard:
    """Notifications a client received; ``wait_for`` returns once these methods have all come."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self._changed = anyio.Event()

    async def hear(self, message: Any) -> None:
        self.messages.append(getattr(message, "root", message))
        self._changed.set()

    def methods(self) -> set[str]:
        return {getattr(m, "method", "") for m in self.messages}

    async def wait_for(self, *methods: str, seconds: float = 10) -> None:
        with anyio.fail_after(seconds):
            while not set(methods) <= self.methods():
                self._changed = anyio.Event()
                await self._changed.wait()


@asynccontextmanager
async def portal_client(
    tmp_path: Path, servers: list[dict[str, Any]], codemode: bool = False, **config: Any
) -> AsyncIterator[tuple[Client, PortalRuntime, Heard]]:
    """A legacy-era client of the portal's MCP server, in memory; it records every notification."""
    parsed = PortalConfig.model_validate(
        {"codemode": codemode, "state_dir": str(tmp_path), "servers": servers, **config}
    )
    heard = Heard()

    async with open_runtime(parsed) as runtime:
        prefixes = {s.namespace: s.direct_prefix for s in parsed.servers}
        server = build_mcp_server(codemode, runtime.registry, runtime.catalog, runtime.codemode, prefixes)
        async with Client(server, mode="legacy", message_handler=heard.hear) as client:
            yield client, runtime, heard


@contextmanager
def signed_in(user_id: str, *groups: str) -> Iterator[None]:
    token = AccessToken(
        token="t", client_id="c", scopes=["mcp"], subject=user_id, claims={"groups": list(groups)}
    )
    reset = auth_context_var.set(AuthenticatedUser(token))
    try:
        yield
    finally:
        auth_context_var.reset(reset)


def test_a_tool_prefix_that_starts_another_servers_prefix_is_refused_when_the_config_loads(
    tmp_path: Path,
) -> None:
    path = tmp_path / "portal.yaml"
    path.write_text(
        "codemode: false\nservers:\n"
        "  - {namespace: one, tool_prefix: '', transport: {type: stdio, command: x}}\n"
        "  - {namespace: two, transport: {type: stdio, command: y}}\n"
    )
    with pytest.raises(ConfigError) as refused:
        load_config(path, environ={})
    assert "servers.0 (namespace 'one') and servers.1 (namespace 'two')" in str(refused.value)
    assert "both 'two_x'" in str(refused.value)


async def test_one_upstream_with_an_empty_prefix_is_served_unchanged_title_schema_annotations_and_icons(
    tmp_path: Path,
) -> None:
    async with portal_client(tmp_path, [fixture("fixture", tool_prefix="")]) as (client, _, _):
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
        structured = await client.call_tool("test_structured_output", {"a": 2, "b": 3})
    assert {"test_simple_text", "json_schema_2020_12_tool", "test_structured_output"} <= set(listed)
    tool = listed["test_structured_output"]
    assert tool.title == "Structured sum"
    assert tool.output_schema == {
        "type": "object",
        "properties": {"sum": {"type": "number"}},
        "required": ["sum"],
    }
    assert tool.annotations == types.ToolAnnotations(read_only_hint=True, destructive_hint=False)
    assert tool.icons is not None and tool.icons[0].mime_type == "image/png"
    assert "$defs" in listed["json_schema_2020_12_tool"].input_schema
    assert structured.structured_content == {"sum": 5.0}


async def test_a_uri_two_upstreams_list_gets_each_namespace_and_is_read_from_its_own_server(
    tmp_path: Path,
) -> None:
    async with portal_client(tmp_path, [fixture("a"), fixture("b")]) as (client, _, _):
        uris = sorted(str(r.uri) for r in (await client.list_resources()).resources)
        templates = sorted(
            t.uri_template for t in (await client.list_resource_templates()).resource_templates
        )
        prompts = sorted(p.name for p in (await client.list_prompts()).prompts)
        text = await client.read_resource("b+test://static-text")
        made = await client.read_resource("a+test://template/7/data")
        prompt = await client.get_prompt("b_test_prompt_with_arguments", {"arg1": "x", "arg2": "y"})
        reference = types.PromptReference(type="ref/prompt", name="a_test_prompt_with_arguments")
        completed = await client.complete(reference, {"name": "arg1", "value": "par"})
    assert (
        "a+test://static-text" in uris and "b+test://static-text" in uris and "test://static-text" not in uris
    )
    assert templates == ["a+test://template/{id}/data", "b+test://template/{id}/data"]
    assert "a_test_simple_prompt" in prompts and "b_test_simple_prompt" in prompts
    assert text.contents[0].uri == "b+test://static-text"
    assert text.contents[0].text == "This is the content of the static text resource."  # type: ignore[union-attr]
    assert '"id":"7"' in made.contents[0].text  # type: ignore[union-attr]
    assert prompt.messages[0].content.text == "Prompt with arguments: arg1='x', arg2='y'"  # type: ignore[union-attr]
    assert completed.completion.values == ["paris", "park", "party"]


async def test_one_upstream_keeps_its_uris_and_a_template_uri_routes_to_it(tmp_path: Path) -> None:
    async with portal_client(tmp_path, [fixture("fixture", tool_prefix="")], codemode=True) as (client, _, _):
        uris = {str(r.uri) for r in (await client.list_resources()).resources}
        made = await client.read_resource("test://template/123/data")
    assert uris == {"test://static-text", "test://static-binary", "test://watched-resource"}
    assert made.contents[0].text == '{"id":"123","templateTest":true,"data":"Data for ID: 123"}'  # type: ignore[union-attr]


async def test_resources_and_prompts_the_caller_may_not_use_are_neither_listed_nor_readable(
    tmp_path: Path,
) -> None:
    rules = [{"groups": ["team-a"], "tools": ["a.*"]}]
    async with portal_client(tmp_path, [fixture("a"), fixture("b")], permissions=rules) as (client, _, _):
        with signed_in("user-1", "team-a"):
            uris = {str(r.uri) for r in (await client.list_resources()).resources}
            prompts = {p.name for p in (await client.list_prompts()).prompts}
            with pytest.raises(MCPError) as forbidden:
                await client.read_resource("b+test://static-text")
            with pytest.raises(MCPError) as unknown:
                await client.read_resource("a+test://no-such-resource-anywhere")
            with pytest.raises(MCPError) as prompt:
                await client.get_prompt("b_test_simple_prompt")
    assert uris == {"a+test://static-text", "a+test://static-binary", "a+test://watched-resource"}
    names = ("simple_prompt", "prompt_with_arguments", "prompt_with_embedded_resource", "prompt_with_image")
    assert prompts == {f"a_test_{name}" for name in names}
    assert forbidden.value.error.code == unknown.value.error.code == -32002
    assert prompt.value.error.code == types.INVALID_PARAMS


async def test_upstream_list_changes_and_updates_of_subscribed_resources_reach_connected_clients(
    tmp_path: Path,
) -> None:
    async with portal_client(tmp_path, [fixture("fixture", tool_prefix="")]) as (client, _, heard):
        await client.subscribe_resource("test://watched-resource")
        await client.call_tool("test_notify_changes", {})
        await heard.wait_for("notifications/resources/updated", "notifications/tools/list_changed")
    updated = [m for m in heard.messages if getattr(m, "method", "") == "notifications/resources/updated"]
    assert [str(m.params.uri) for m in updated] == ["test://watched-resource"]


async def test_code_in_the_sandbox_reads_a_resource_it_may_read_and_not_one_it_may_not(
    tmp_path: Path,
) -> None:
    code = (
        "text = resources.read(uri='a+test://static-text')\n"
        "try:\n    resources.read(uri='b+test://static-text')\n"
        "except ToolError as error:\n    refused = str(error)\n"
        "[text, refused]"
    )
    rules = [{"groups": ["team-a"], "tools": ["a.*"]}]
    servers = [fixture("a"), fixture("b")]
    async with portal_client(tmp_path, servers, codemode=True, permissions=rules) as (client, _, _):
        with signed_in("user-1", "team-a"):
            result = await client.call_tool("portal_codemode_execute", {"code": code})
    answer = json.loads(result.content[0].text)  # type: ignore[union-attr]
    assert answer["ok"] is True, answer
    text, refused = answer["value"]
    assert text == "This is the content of the static text resource."
    assert (
        refused == "resources.read('b+test://static-text') failed: Resource not found: b+test://static-text"
    )


def test_resources_and_results_are_reserved_namespaces() -> None:
    from portal.naming import namespace_problem

    assert namespace_problem("resources") is not None
    assert namespace_problem("results") is not None


async def test_a_stateless_era_client_hears_list_changes_and_updates_on_its_listen_stream(
    tmp_path: Path,
) -> None:
    from mcp.shared.subscriptions import ResourceUpdated, ToolsListChanged

    config = PortalConfig.model_validate(
        {"codemode": False, "state_dir": str(tmp_path), "servers": [fixture("fixture", tool_prefix="")]}
    )
    async with open_runtime(config) as runtime:
        server = build_mcp_server(False, runtime.registry, runtime.catalog, runtime.codemode, {"fixture": ""})
        async with Client(server) as client:  # default negotiation: 2026-07-28, no standing stream
            assert client.protocol_version == "2026-07-28"
            watched = "test://watched-resource"
            async with client.listen(tools_list_changed=True, resource_subscriptions=[watched]) as stream:
                await client.call_tool("test_notify_changes", {})
                heard: list[object] = []
                with anyio.fail_after(10):
                    async for event in stream:
                        heard.append(event)
                        if {type(e) for e in heard} >= {ResourceUpdated, ToolsListChanged}:
                            break
    assert ResourceUpdated(uri=watched) in heard


async def test_a_listen_stream_cannot_name_a_resource_the_caller_may_not_read(tmp_path: Path) -> None:
    rules = [{"groups": ["team-a"], "tools": ["a.*"]}]
    config = PortalConfig.model_validate(
        {
            "codemode": False,
            "state_dir": str(tmp_path),
            "servers": [fixture("a"), fixture("b")],
            "permissions": rules,
        }
    )
    async with open_runtime(config) as runtime:
        server = build_mcp_server(False, runtime.registry, runtime.catalog, runtime.codemode)
        async with Client(server) as client:
            with signed_in("user-1", "team-a"), pytest.raises(MCPError) as refused:
                async with client.listen(resource_subscriptions=["b+test://watched-resource"]):
                    pass
    assert refused.value.error.code == -32002


async def test_an_upstream_error_keeps_its_code_but_not_the_addresses_in_its_text(tmp_path: Path) -> None:
    async with portal_client(tmp_path, [fixture("a"), fixture("b")]) as (client, _, _):
        with pytest.raises(MCPError) as refused:
            await client.read_resource("a+http://10.0.0.5:8080/internal")
    assert refused.value.error.code == -32002
    assert "10.0.0.5" not in refused.value.error.message and "8080" not in refused.value.error.message
