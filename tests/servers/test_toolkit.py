"""servers/_toolkit.py: our errors become tool errors, for sync and async tools, without addresses."""

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from servers._toolkit import (
    ADD,
    READ,
    clip,
    clip_middle,
    clip_strings,
    hide_addresses,
    next_start,
    page_of,
    page_size,
    tool_errors,
    tool_registrar,
)

pytestmark = pytest.mark.anyio


class BackendError(Exception):
    pass


def server_with_failing_tools() -> MCPServer:
    server = MCPServer(name="probe")
    errors = tool_errors(BackendError)

    @server.tool()
    @errors
    def sync_tool() -> str:
        """Fails the way a backend does."""
        raise BackendError("no project 'infra/ap' (404): list candidates with list_projects(search='ap')")

    @server.tool()
    @errors
    async def async_tool() -> str:
        """Fails the way a backend does, from a coroutine."""
        raise BackendError("no project 'infra/ap' (404): list candidates with list_projects(search='ap')")

    @server.tool()
    @errors
    async def async_ok() -> str:
        """Succeeds from a coroutine."""
        return "fine"

    @server.tool()
    @errors
    def leaky() -> str:
        """Fails with an upstream's text that names an internal address."""
        raise ToolError(
            "upstream http://gitlab.internal:8443/api/v4 refused; also 10.0.0.7:9200 and es.corp:9200"
        )

    return server


async def test_an_async_tool_error_reaches_the_model_with_its_message():
    async with Client(server_with_failing_tools()) as client:
        failed = await client.call_tool("async_tool", {})
        ok = await client.call_tool("async_ok", {})
    assert (failed.is_error, failed.content[0].text) == (
        True,
        "Error executing tool async_tool: no project 'infra/ap' (404): "
        "list candidates with list_projects(search='ap')",
    )
    assert (ok.is_error, ok.structured_content) == (False, {"result": "fine"})


async def test_a_sync_tool_error_reaches_the_model_with_its_message():
    async with Client(server_with_failing_tools()) as client:
        failed = await client.call_tool("sync_tool", {})
    assert failed.content[0].text == (
        "Error executing tool sync_tool: no project 'infra/ap' (404): "
        "list candidates with list_projects(search='ap')"
    )


async def test_an_error_naming_internal_addresses_reaches_the_model_without_them():
    async with Client(server_with_failing_tools()) as client:
        failed = await client.call_tool("leaky", {})
    assert failed.content[0].text == (
        "Error executing tool leaky: upstream [address hidden] refused; "
        "also [address hidden] and [address hidden]"
    )


def test_addresses_are_hidden_but_line_numbers_times_and_refs_are_kept():
    kept = "parse error at 1:5 in 'rate(x[5m])' at 12:00:00, ref component:default/orders-api, v1.2"
    assert hide_addresses(kept) == kept
    assert hide_addresses("see https://user:pw@sentry.acme.example/api/0/ now") == "see [address hidden] now"
    assert hide_addresses("Cannot reach localhost:9090 or 127.0.0.1:7007") == (
        "Cannot reach [address hidden] or [address hidden]"
    )


def test_an_unexpected_exception_is_left_to_the_sdk_which_hides_its_text():
    @tool_errors(BackendError)
    def crash() -> None:
        raise KeyError("internal detail")

    with pytest.raises(KeyError):
        crash()


def server_registered_through_the_registrar() -> MCPServer:
    server = MCPServer(name="probe")
    tool = tool_registrar(server, BackendError)

    @tool(READ)
    async def async_read() -> str:
        """Fails from a coroutine, registered by the registrar."""
        raise BackendError("Backend at http://10.0.0.7:8080 answered 404: check PROBE_URL")

    @tool(ADD)
    def sync_add() -> str:
        """Succeeds."""
        return "added"

    return server


async def test_the_registrar_translates_errors_and_sets_the_annotations():
    async with Client(server_registered_through_the_registrar()) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        failed = await client.call_tool("async_read", {})
        added = await client.call_tool("sync_add", {})
    assert (tools["async_read"].annotations, tools["sync_add"].annotations) == (READ, ADD)
    assert (failed.is_error, failed.content[0].text) == (
        True,
        "Error executing tool async_read: Backend at [address hidden] answered 404: check PROBE_URL",
    )
    assert (added.is_error, added.structured_content) == (False, {"result": "added"})


def test_clip_keeps_short_text_and_says_how_much_of_long_text_it_cut():
    assert clip("short", 5) == "short"
    assert clip("x" * 12, 10) == "x" * 10 + "… [truncated: 2 more characters]"


def test_clip_middle_keeps_the_head_and_the_tail():
    text = "HEAD" + "x" * 100 + "TAIL"
    clipped = clip_middle(text, 20)
    assert clipped == "HEADxxxx\n… [truncated: 88 more characters] …\nxxxxxxxxTAIL"
    assert clip_middle("short", 20) == "short"


def test_clip_strings_clips_every_string_in_a_json_value_and_leaves_the_rest():
    value = {"a": ["y" * 30, 7, None], "b": {"c": "ok"}}
    assert clip_strings(value, 10) == {"a": [clip_middle("y" * 30, 10), 7, None], "b": {"c": "ok"}}


def test_paging_arithmetic():
    assert (page_size(None, 20), page_size(5, 20)) == (20, 5)
    assert (next_start(40, 20, True), next_start(40, 20, False), next_start(40, 0, True)) == (60, None, None)
    assert page_of(list(range(5)), 0, 2) == ([0, 1], 5, 2)
    assert page_of(list(range(5)), 4, 2) == ([4], 5, None)
