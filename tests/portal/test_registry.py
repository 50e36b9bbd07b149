"""The registry keeps one client per upstream server, lists tools, follows list changes, isolates failures."""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
import uvicorn
from mcp import Client, types
from mcp.server.mcpserver import Context, MCPServer
from portal_testing import demo_servers

from demo.gitlab import fake as gitlab_fake
from portal.config import ServerConfig
from portal.registry import Registry, ServerStatus, UpstreamError
from servers.gitlab import Settings as GitLabSettings
from servers.gitlab import build_server as build_gitlab

SUPPORT_DIR = Path(__file__).resolve().parents[1] / "support"
MISSING_COMMAND = "no-such-mcp-server-command"


def server(namespace: str, transport: dict[str, Any], **options: Any) -> ServerConfig:
    return ServerConfig.model_validate({"namespace": namespace, "transport": transport, **options})


def find(registry: Registry, namespace: str, tool: str) -> types.Tool | None:
    """The ready tool ``namespace.tool``, or None."""
    return next((t.tool for t in registry.tools() if (t.namespace, t.tool.name) == (namespace, tool)), None)


def closed_port() -> int:
    """A 127.0.0.1 port nobody listens on: bound by us, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def gitlab_tool_names() -> list[str]:
    """What the GitLab server lists when a client talks to it directly, in memory."""
    with gitlab_fake.start() as backend:
        async with Client(build_gitlab(GitLabSettings(**backend.settings)), mode="legacy") as client:
            return [tool.name for tool in (await client.list_tools()).tools]


def header_echo_server() -> MCPServer:
    mcp = MCPServer("echo")

    @mcp.tool()
    def x_test_header(ctx: Context) -> str:
        """Return the X-Test header of the HTTP request that carried this call."""
        return dict(ctx.headers or {}).get("x-test", "")

    return mcp


@asynccontextmanager
async def serving_http(mcp: MCPServer) -> AsyncIterator[str]:
    """Serve ``mcp`` over Streamable HTTP on 127.0.0.1; yields its URL.

    The socket listens before uvicorn starts, so clients can connect at once (the
    backlog holds them) and nothing has to wait for a "started" flag.
    """
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    port = sock.getsockname()[1]
    app = mcp.streamable_http_app(streamable_http_path="/mcp", host="127.0.0.1")
    config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=1)
    http = uvicorn.Server(config)
    async with anyio.create_task_group() as group:
        group.start_soon(http.serve, [sock])
        try:
            yield f"http://127.0.0.1:{port}/mcp"
        finally:
            http.should_exit = True


# 1. An in-process module server


@pytest.mark.anyio
async def test_a_module_server_configured_with_its_url_lists_its_tools_under_its_namespace() -> None:
    expected = await gitlab_tool_names()
    with demo_servers("gitlab") as [entry], anyio.fail_after(20):
        async with Registry([ServerConfig.model_validate(entry)]) as registry:
            assert [(t.namespace, t.tool.name) for t in registry.tools()] == [("gitlab", n) for n in expected]
            assert registry.tools()[0].qualified_name == f"gitlab.{expected[0]}"
            assert find(registry, "gitlab", "list_projects") is not None
            assert find(registry, "gitlab", "no_such_tool") is None
            assert find(registry, "nope", "list_projects") is None
            assert registry.statuses() == [ServerStatus("gitlab", "ready", len(expected), None)]


@pytest.mark.anyio
async def test_calling_a_module_server_tool_returns_its_structured_result() -> None:
    with demo_servers("gitlab") as [entry], anyio.fail_after(20):
        async with Registry([ServerConfig.model_validate(entry)]) as registry:
            result = await registry.call("gitlab", "list_projects", {})
    assert result.is_error is False
    assert result.structured_content is not None
    projects = result.structured_content["result"]
    assert [p["path"] for p in projects] == ["data/etl", "platform/auth", "infra/web", "infra/api"]
    assert projects[0]["default_branch"] == "main"


# 2. Failures are isolated and reported in one line


@pytest.mark.anyio
async def test_servers_that_cannot_start_are_failed_with_a_one_line_reason_while_the_others_work() -> None:
    port = closed_port()
    servers = [
        server("missing", {"type": "stdio", "command": MISSING_COMMAND}),
        server("closed", {"type": "http", "url": f"http://127.0.0.1:{port}/mcp"}),
        server(
            "crashing", {"type": "stdio", "command": sys.executable, "args": ["-c", "raise SystemExit(3)"]}
        ),
        server("changing", {"type": "module", "module": "changing_server"}),
    ]
    with anyio.fail_after(20):
        async with Registry(servers) as registry:
            statuses = registry.statuses()
            assert statuses == [
                ServerStatus(
                    "missing",
                    "failed",
                    0,
                    f"FileNotFoundError: [Errno 2] No such file or directory: '{MISSING_COMMAND}'",
                ),
                ServerStatus("closed", "failed", 0, "ConnectError: All connection attempts failed"),
                ServerStatus("crashing", "failed", 0, "MCPError: Connection closed"),
                ServerStatus("changing", "ready", 2, None),
            ]
            assert [t.qualified_name for t in registry.tools()] == ["changing.ping", "changing.add_tool_now"]
            result = await registry.call("changing", "ping", {})
            assert result.structured_content == {"result": "pong"}


@pytest.mark.anyio
async def test_calling_a_failed_server_raises_upstream_error_naming_the_server_and_reason() -> None:
    with anyio.fail_after(20):
        async with Registry([server("missing", {"type": "stdio", "command": MISSING_COMMAND})]) as registry:
            with pytest.raises(UpstreamError) as caught:
                await registry.call("missing", "anything", {"a": 1})
            with pytest.raises(UpstreamError) as unknown:
                await registry.call("nope", "anything", {})
    assert str(caught.value) == (
        f"server 'missing' is unavailable (FileNotFoundError: [Errno 2] No such file or directory: "
        f"'{MISSING_COMMAND}')"
    )
    assert caught.value.__cause__ is None
    assert str(unknown.value) == "no server has the namespace 'nope'"


@pytest.mark.anyio
async def test_a_server_that_never_answers_fails_after_the_connect_timeout_without_delaying_the_others() -> (
    None
):
    servers = [
        server(
            "silent",
            {"type": "stdio", "command": sys.executable, "args": ["-c", "import time; time.sleep(60)"]},
            connect_timeout_seconds=2,
        ),
        server("changing", {"type": "module", "module": "changing_server"}),
    ]
    started = time.monotonic()
    with anyio.fail_after(15):
        async with Registry(servers) as registry:
            entered = time.monotonic() - started
            assert registry.statuses() == [
                ServerStatus("silent", "failed", 0, "did not answer within 2 s"),
                ServerStatus("changing", "ready", 2, None),
            ]
            with pytest.raises(UpstreamError) as caught:
                await registry.call("silent", "anything", {})
    # The silent process is still being closed (stdio waits for it, then kills it): entering must not wait.
    assert 2 <= entered < 3.5
    assert time.monotonic() - started < 15
    assert str(caught.value) == "server 'silent' is unavailable (did not answer within 2 s)"


@pytest.mark.anyio
async def test_a_registry_cancelled_while_connecting_closes_its_tasks_and_propagates_the_cancel() -> None:
    silent = server(
        "silent",
        {"type": "stdio", "command": sys.executable, "args": ["-c", "import time; time.sleep(60)"]},
        connect_timeout_seconds=30,
    )
    registry = Registry([silent])
    with anyio.fail_after(15), anyio.move_on_after(1) as connecting:
        async with registry:
            pytest.fail("entered a registry whose only server never answered")
    assert connecting.cancelled_caught
    assert registry.statuses() == [ServerStatus("silent", "failed", 0, "stopped before it answered")]


# 3. tools/list_changed


@pytest.mark.anyio
@pytest.mark.parametrize("transport_type", ["module", "stdio", "http"])
async def test_a_tools_list_changed_notification_makes_the_registry_relist(transport_type: str) -> None:
    async with _changing_transport(transport_type) as transport:
        with anyio.fail_after(20):
            async with Registry([server("changing", transport)]) as registry:
                before = registry.version
                assert [t.tool.name for t in registry.tools()] == ["ping", "add_tool_now"]
                result = await registry.call("changing", "add_tool_now", {})
                assert result.structured_content == {"result": "late_tool"}
                with anyio.fail_after(5):
                    while registry.version == before:
                        await anyio.lowlevel.checkpoint()  # the relist runs in the upstream's task
                assert registry.version == before + 1
                assert [t.tool.name for t in registry.tools()] == ["ping", "add_tool_now", "late_tool"]
                assert registry.statuses() == [ServerStatus("changing", "ready", 3, None)]
                late = await registry.call("changing", "late_tool", {})
                assert late.structured_content == {"result": "late"}


@asynccontextmanager
async def _changing_transport(transport_type: str) -> AsyncIterator[dict[str, Any]]:
    if transport_type == "module":
        yield {"type": "module", "module": "changing_server"}
    elif transport_type == "stdio":
        yield {
            "type": "stdio",
            "command": sys.executable,
            "args": ["-m", "changing_server"],
            "env": {"PYTHONPATH": str(SUPPORT_DIR)},
        }
    else:
        from changing_server import Settings, build_server

        async with serving_http(build_server(Settings())) as url:
            yield {"type": "http", "url": url}


# 4. Streamable HTTP with headers from the environment


@pytest.mark.anyio
async def test_an_http_server_receives_headers_expanded_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PORTAL_TEST_HEADER_VALUE", "secret-42")
    async with serving_http(header_echo_server()) as url:
        transport = {"type": "http", "url": url, "headers": {"X-Test": "v=${PORTAL_TEST_HEADER_VALUE}"}}
        with anyio.fail_after(20):
            async with Registry([server("echo", transport)]) as registry:
                assert registry.statuses() == [ServerStatus("echo", "ready", 1, None)]
                result = await registry.call("echo", "x_test_header", {})
    assert result.structured_content == {"result": "v=secret-42"}


@pytest.mark.anyio
async def test_a_header_naming_a_missing_variable_fails_that_server_with_the_variable_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PORTAL_TEST_MISSING_VARIABLE", raising=False)
    servers = [
        server(
            "echo",
            {
                "type": "http",
                "url": f"http://127.0.0.1:{closed_port()}/mcp",
                "headers": {"Authorization": "Bearer ${PORTAL_TEST_MISSING_VARIABLE}"},
            },
        ),
        server("changing", {"type": "module", "module": "changing_server"}),
    ]
    with anyio.fail_after(20):
        async with Registry(servers) as registry:
            assert registry.statuses() == [
                ServerStatus(
                    "echo",
                    "failed",
                    0,
                    "LookupError: environment variable PORTAL_TEST_MISSING_VARIABLE is referenced "
                    "in the config but not set",
                ),
                ServerStatus("changing", "ready", 2, None),
            ]


# 5. Disabled servers


@pytest.mark.anyio
async def test_a_disabled_server_is_reported_disabled_and_never_started(tmp_path: Path) -> None:
    marker = tmp_path / "started"
    servers = [
        server(
            "off",
            {"type": "stdio", "command": sys.executable, "args": ["-c", f"open({str(marker)!r}, 'w')"]},
            enabled=False,
        ),
        server("changing", {"type": "module", "module": "changing_server"}),
    ]
    with anyio.fail_after(20):
        async with Registry(servers) as registry:
            assert registry.statuses() == [
                ServerStatus("off", "disabled", 0, None),
                ServerStatus("changing", "ready", 2, None),
            ]
            with pytest.raises(UpstreamError) as caught:
                await registry.call("off", "anything", {})
    assert str(caught.value) == "server 'off' is unavailable (disabled)"
    assert not marker.exists()
