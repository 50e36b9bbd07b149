"""servers/_toolkit.py: our errors become tool errors, for sync and async tools, without addresses."""

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from servers._toolkit import hide_addresses, tool_errors

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
