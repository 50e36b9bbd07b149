"""The registry: live MCP client sessions to every configured upstream server.

Each server gets its own task that holds one `mcp.Client` open for the
portal's lifetime, lists the server's tools, and lists them again whenever the
server sends ``notifications/tools/list_changed``. A server that fails to start
or answer is logged, marked failed with a reason, and skipped: the portal
serves the others and reports the failure (``Registry.statuses()``).
"""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

import anyio
import anyio.abc
import mcp_types as types
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import CONNECTION_CLOSED

from portal.config import ServerConfig
from portal.relay import CallSink, current_sink, refusal
from portal.transports import open_client

__all__ = ["Registry", "RegistryEvent", "ServerStatus", "UpstreamError", "UpstreamTool"]

logger = logging.getLogger(__name__)

State = Literal["starting", "ready", "failed", "disabled"]
_CLOSE_GRACE_SECONDS = 5.0
_RECONNECT_MAX_SECONDS = 30.0
_INSTRUCTIONS_MAX_CHARS = 4_000


class UpstreamError(Exception):
    """A call could not reach its upstream server (not a tool-level error)."""


@dataclass(frozen=True)
class RegistryEvent:
    """Something connected clients may need to hear: a list changed, or a resource was updated."""

    kind: Literal["tools", "resources", "prompts", "updated"]
    namespace: str
    uri: str = ""


Listener = Callable[[RegistryEvent], Awaitable[None]]
_LIST_CHANGED = {
    "notifications/tools/list_changed": "tools",
    "notifications/resources/list_changed": "resources",
    "notifications/prompts/list_changed": "prompts",
}


@dataclass(frozen=True)
class UpstreamTool:
    """One tool as an upstream server lists it, under the server's namespace."""

    namespace: str
    tool: types.Tool
    instructions: str = ""  # the server's own domain text (initialize result), indexed by search

    @property
    def qualified_name(self) -> str:
        return f"{self.namespace}.{self.tool.name}"


@dataclass(frozen=True)
class ServerStatus:
    """What the portal reports about one upstream server."""

    namespace: str
    state: State
    tool_count: int
    error: str | None


class _Upstream:
    """One upstream server's connection, owned by a single task."""

    def __init__(
        self, config: ServerConfig, on_change: Callable[[], None], emit: Callable[[RegistryEvent], None]
    ) -> None:
        self.config = config
        self.state: State = "starting" if config.enabled else "disabled"
        self.error: str | None = None
        self.tools: list[types.Tool] = []
        self.resources: list[types.Resource] = []
        self.templates: list[types.ResourceTemplate] = []
        self.prompts: list[types.Prompt] = []
        self.instructions = ""
        self.client: Client | None = None
        self._on_change = on_change
        self._emit = emit
        self.sinks: dict[int, CallSink] = {}  # calls in flight, by a per-call key

    def prepare(self) -> None:
        """Create the loop-bound primitives, on entry: the registry itself is built outside a loop."""
        self.ready, self._stop, self._relist_wanted = anyio.Event(), anyio.Event(), anyio.Event()
        self._relist_kinds: set[str] = set()
        self._wake = anyio.Event()  # stop, or the connection was lost
        self._lost: str | None = None
        self._scope = anyio.CancelScope()

    async def run(self) -> None:
        try:
            with self._scope:
                try:
                    await self._serve()
                except Exception as exc:  # boundary: any failure of one upstream must not stop the portal
                    if self.state != "failed":  # an abandoned upstream already has its reason
                        self._fail(_describe_exception(exc))
                await self._reconnect_while_lost()
        finally:  # also on cancellation, so no status stays "starting" and no waiter hangs
            if self.state == "starting":
                self._fail("stopped before it answered")
            self.client = None
            self.ready.set()

    async def _serve(self, attempt: anyio.CancelScope | None = None) -> None:
        async with AsyncExitStack() as stack:
            client = await open_client(
                stack, self.config.transport, self._on_message, self._on_elicit, self._on_sample
            )
            # Untrusted text from the upstream: kept short, used only as search terms.
            self.instructions = (client.instructions or "")[:_INSTRUCTIONS_MAX_CHARS]
            await self._refresh(client)
            if self.state != "starting":  # abandoned by the watchdog while listing
                return
            if attempt is not None:
                attempt.deadline = math.inf  # connected: the attempt's time limit no longer applies
            self.client, self.state, self.error = client, "ready", None
            logger.info("upstream %s ready with %d tools", self.config.namespace, len(self.tools))
            self._on_change()
            self._emit_lists()
            self.ready.set()
            async with anyio.create_task_group() as group:
                group.start_soon(self._relist_loop, client)
                await self._wake.wait()
                group.cancel_scope.cancel()

    async def _reconnect_while_lost(self) -> None:
        """After a ready server's connection was lost: connect again, backing off, until stopped."""
        delay = 1.0
        while self._lost is not None and not self._stop.is_set():
            with anyio.move_on_after(delay):
                await self._stop.wait()
            if self._stop.is_set():
                return
            self._lost, self._wake, self.state = None, anyio.Event(), "starting"
            with anyio.CancelScope(
                deadline=anyio.current_time() + self.config.connect_timeout_seconds
            ) as attempt:
                try:
                    await self._serve(attempt)
                except Exception as exc:  # boundary: keep trying; the reason is reported meanwhile
                    self._lost = _describe_exception(exc)
            if attempt.cancelled_caught:
                self._lost = self._timeout_reason()
            if self._lost is not None:
                self._fail(f"reconnecting: {self._lost}")
            delay = min(delay * 2, _RECONNECT_MAX_SECONDS)

    def connection_lost(self, reason: str) -> None:
        """A call found the connection closed: report it and let ``run`` reconnect."""
        if self.state != "ready":
            return
        self.client = None
        self._fail(f"connection lost: {reason}")
        self._lost = reason
        self._wake.set()

    async def _refresh(
        self, client: Client, kinds: frozenset[str] = frozenset(_LIST_CHANGED.values())
    ) -> None:
        capabilities = client.server_capabilities
        if "tools" in kinds:
            self.tools = await _all_pages(
                lambda c: client.list_tools(cursor=c, cache_mode="refresh"), "tools"
            )
        if "resources" in kinds and capabilities.resources is not None:
            self.resources = await _all_pages(
                lambda c: client.list_resources(cursor=c, cache_mode="refresh"), "resources"
            )
            self.templates = await _all_pages(
                lambda c: client.list_resource_templates(cursor=c, cache_mode="refresh"), "resource_templates"
            )
        if "prompts" in kinds and capabilities.prompts is not None:
            self.prompts = await _all_pages(
                lambda c: client.list_prompts(cursor=c, cache_mode="refresh"), "prompts"
            )
        self._on_change()

    async def _relist_loop(self, client: Client) -> None:
        while True:
            await self._relist_wanted.wait()
            self._relist_wanted = anyio.Event()
            kinds, self._relist_kinds = frozenset(self._relist_kinds), set()
            try:
                await self._refresh(client, kinds)
                logger.info("upstream %s lists changed: %s", self.config.namespace, ", ".join(sorted(kinds)))
            except Exception as exc:  # boundary: keep the last good list
                logger.warning(
                    "upstream %s relist failed: %s", self.config.namespace, _describe_exception(exc)
                )
                continue
            for kind in sorted(kinds):
                self._emit(RegistryEvent(kind, self.config.namespace))  # type: ignore[arg-type]

    async def _on_message(self, message: Any) -> None:
        notification = getattr(message, "root", message)
        method = getattr(notification, "method", None)
        if method in _LIST_CHANGED:
            self._relist_kinds.add(_LIST_CHANGED[method])
            self._relist_wanted.set()
        elif method == "notifications/resources/updated":
            self._emit(RegistryEvent("updated", self.config.namespace, str(notification.params.uri)))
        elif method == "notifications/message":
            sink = self.only_sink()
            if sink is not None:  # several callers' calls in flight: nobody's (portal/relay.py)
                await sink.log(self.config.namespace, notification.params)
        elif isinstance(message, Exception):
            logger.warning("upstream %s transport error: %s", self.config.namespace, message)

    def only_sink(self) -> CallSink | None:
        """The one caller whose calls are in flight here, or None when there are none or several."""
        sinks = {id(sink): sink for sink in self.sinks.values()}
        return next(iter(sinks.values())) if len(sinks) == 1 else None

    async def _on_elicit(
        self, context: Any, params: types.ElicitRequestParams
    ) -> types.ElicitResult | types.ErrorData:
        sink = self.only_sink()
        return refusal("elicitation") if sink is None else await sink.elicit(self.config.namespace, params)

    async def _on_sample(
        self, context: Any, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult | types.ErrorData:
        sink = self.only_sink()
        return (
            refusal("sampling request") if sink is None else await sink.sample(self.config.namespace, params)
        )

    def _fail(self, reason: str) -> None:
        self.state, self.error, self.tools = "failed", reason, []
        self.resources, self.templates, self.prompts = [], [], []
        logger.error("upstream %s unavailable: %s", self.config.namespace, reason)
        self._on_change()
        self._emit_lists()

    def _emit_lists(self) -> None:
        """This server's lists appeared or went: every client's lists changed."""
        for kind in ("tools", "resources", "prompts"):
            self._emit(RegistryEvent(kind, self.config.namespace))  # type: ignore[arg-type]

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self.state != "ready":
            self._scope.cancel()

    def abandon(self) -> None:
        """Give up on a server that did not answer in time.

        Failed and ready at once: closing a stuck transport can itself take seconds
        (stdio waits for the process, then kills it), and the portal must not wait for that.
        """
        if self.state == "starting":
            self._fail(self._timeout_reason())
            self.ready.set()
        self._scope.cancel()

    def _timeout_reason(self) -> str:
        return f"did not answer within {self.config.connect_timeout_seconds:g} s"


class Registry:
    """All upstream servers; start it inside a task group with ``async with Registry(...)``."""

    def __init__(self, servers: list[ServerConfig]) -> None:
        self._upstreams = {s.namespace: _Upstream(s, self._bump, self._emit) for s in servers}
        self._group: anyio.abc.TaskGroup | None = None
        self._stack = AsyncExitStack()
        self.version = 0
        self._listeners: list[Listener] = []
        # Asked before every call: None to let it run, or why not (portal/approvals.py sets it).
        self.gate: Callable[[str, types.Tool, dict[str, Any]], Awaitable[str | None]] | None = None

    def _bump(self) -> None:
        self.version += 1

    def add_listener(self, listener: Listener) -> None:
        """Hear list changes and resource updates (portal/notifications.py relays them to clients)."""
        self._listeners.append(listener)

    def _emit(self, event: RegistryEvent) -> None:
        if self._group is None:
            return
        for listener in self._listeners:
            self._group.start_soon(_quietly, listener, event)

    def upstream_client(self, namespace: str) -> Client:
        """The live client of a ready server; raises UpstreamError naming why there is none."""
        upstream = self._upstreams.get(namespace)
        if upstream is None:
            raise UpstreamError(f"no server has the namespace {namespace!r}")
        if upstream.client is None:
            raise UpstreamError(f"server {namespace!r} is unavailable ({upstream.error or upstream.state})")
        return upstream.client

    def resources(self) -> dict[str, list[types.Resource]]:
        return {ns: list(up.resources) for ns, up in self._upstreams.items() if up.resources}

    def resource_templates(self) -> dict[str, list[types.ResourceTemplate]]:
        return {ns: list(up.templates) for ns, up in self._upstreams.items() if up.templates}

    def prompts(self) -> dict[str, list[types.Prompt]]:
        return {ns: list(up.prompts) for ns, up in self._upstreams.items() if up.prompts}

    def supports(self, namespace: str, capability: Literal["logging", "completions", "subscribe"]) -> bool:
        upstream = self._upstreams.get(namespace)
        if upstream is None or upstream.client is None:
            return False
        capabilities = upstream.client.server_capabilities
        if capability == "subscribe":
            return bool(capabilities.resources and capabilities.resources.subscribe)
        return getattr(capabilities, capability) is not None

    async def request(self, namespace: str, send: Callable[[Client], Awaitable[Any]]) -> Any:
        """One non-tool request to an upstream, with the caller's sink in flight (resources, prompts)."""
        upstream = self._upstreams.get(namespace)
        client = self.upstream_client(namespace)
        key = object()
        sink = current_sink()
        if sink is not None and upstream is not None:
            upstream.sinks[id(key)] = sink
        try:
            with anyio.fail_after(upstream.config.call_timeout_seconds if upstream else 60.0):
                return await send(client)
        except MCPError:
            raise  # the upstream's own protocol error (not found, invalid params): the caller's to see
        except Exception as exc:  # boundary: transport faults become one error type
            reason = _describe_exception(exc)
            if upstream is not None and _is_connection_lost(exc):
                upstream.connection_lost(reason)
            raise UpstreamError(f"server {namespace!r} failed to answer: {reason}") from None
        finally:
            if upstream is not None:
                upstream.sinks.pop(id(key), None)

    async def __aenter__(self) -> Registry:
        for upstream in self._upstreams.values():
            upstream.prepare()
        self._group = await self._stack.enter_async_context(anyio.create_task_group())
        try:
            for upstream in self._upstreams.values():
                if upstream.config.enabled:
                    self._group.start_soon(upstream.run)
                    self._group.start_soon(self._watchdog, upstream)
            await self.wait_ready()
        except BaseException:
            # `async with` calls __aexit__ only after __aenter__ returns: a cancel while connecting
            # would otherwise leave the task group (and its cancel scope) open on the caller's task.
            await self.__aexit__(*sys.exc_info())
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for upstream in self._upstreams.values():
            upstream.stop()
        if self._group is not None:
            # An upstream that does not close within the grace period is cancelled with the group.
            self._group.cancel_scope.deadline = anyio.current_time() + _CLOSE_GRACE_SECONDS
        await self._stack.__aexit__(exc_type, exc, traceback)

    async def _watchdog(self, upstream: _Upstream) -> None:
        with anyio.move_on_after(upstream.config.connect_timeout_seconds):
            await upstream.ready.wait()
            return
        upstream.abandon()

    async def wait_ready(self) -> None:
        """Wait until every enabled server is ready or has failed."""
        for upstream in self._upstreams.values():
            if upstream.config.enabled:
                await upstream.ready.wait()

    def tools(self) -> list[UpstreamTool]:
        """Every tool of every ready server, in configuration order."""
        return [
            UpstreamTool(ns, tool, up.instructions) for ns, up in self._upstreams.items() for tool in up.tools
        ]

    def statuses(self) -> list[ServerStatus]:
        return [ServerStatus(ns, up.state, len(up.tools), up.error) for ns, up in self._upstreams.items()]

    async def call(
        self, namespace: str, tool: str, arguments: Mapping[str, Any], meta: dict[str, Any] | None = None
    ) -> types.CallToolResult:
        """Call one upstream tool; raises UpstreamError when the server cannot be reached."""
        upstream = self._upstreams.get(namespace)
        if upstream is None:
            raise UpstreamError(f"no server has the namespace {namespace!r}")
        if upstream.client is None:
            reason = upstream.error or upstream.state
            raise UpstreamError(f"server {namespace!r} is unavailable ({reason})")
        listed = next((t for t in upstream.tools if t.name == tool), None)
        if self.gate is not None and listed is not None:
            refusal = await self.gate(namespace, listed, dict(arguments))
            if refusal is not None:  # not run: a tool error the model can read
                return types.CallToolResult(
                    content=[types.TextContent(type="text", text=refusal)], is_error=True
                )
        sink, key, ok = current_sink(), object(), False
        if sink is not None:
            upstream.sinks[id(key)] = sink
            await sink.call_started(namespace, tool)
        try:
            result = await upstream.client.call_tool(
                tool,
                dict(arguments),
                read_timeout_seconds=upstream.config.call_timeout_seconds,
                progress_callback=_progress_to(sink, namespace),
                meta=meta,  # type: ignore[arg-type]
            )
            ok = not result.is_error
            return result
        except Exception as exc:  # boundary: transport faults become one error type
            reason = _describe_exception(exc)
            if _is_connection_lost(exc):
                upstream.connection_lost(reason)
            raise UpstreamError(f"server {namespace!r} failed to answer: {reason}") from None
        finally:
            if sink is not None:
                upstream.sinks.pop(id(key), None)
                with anyio.CancelScope(shield=True):  # a cancelled call still says it ended
                    await sink.call_finished(namespace, tool, ok)


def _progress_to(sink: CallSink | None, namespace: str) -> Any:
    """The upstream's progress of one call, for the caller's sink (None: the caller asked for none)."""
    if sink is None:
        return None

    async def relay(progress: float, total: float | None, message: str | None) -> None:
        await sink.progress(namespace, progress, total, message)

    return relay


async def _all_pages(fetch: Callable[[str | None], Awaitable[Any]], field: str) -> list[Any]:
    items: list[Any] = []
    cursor: str | None = None
    for _ in range(100):  # bound pagination: a server that pages forever cannot hang us
        page = await fetch(cursor)
        items.extend(getattr(page, field))
        cursor = page.next_cursor
        if not cursor:
            break
    return items


async def _quietly(listener: Listener, event: RegistryEvent) -> None:
    try:
        await listener(event)
    except Exception:  # boundary: one client's broken stream must not stop the registry
        logger.exception("relaying %s of %s failed", event.kind, event.namespace)


def _is_connection_lost(exc: BaseException) -> bool:
    """The transport is gone (process died, stream closed), as opposed to a slow or failing call."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, MCPError):
        return exc.code == CONNECTION_CLOSED
    return isinstance(exc, anyio.ClosedResourceError | anyio.BrokenResourceError | anyio.EndOfStream)


def _describe_exception(exc: BaseException) -> str:
    """A one-line reason without stack frames: the innermost exception of a group."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
