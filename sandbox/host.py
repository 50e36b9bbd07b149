"""Host side of one run: get a fresh worker, answer its tool calls, enforce wall time.

The worker comes from the fork server (`sandbox.forkserver`), already isolated
(`sandbox.isolation`) by the time it reads the code. The host, not the worker,
enforces the wall-time limit, the tool-call budget and the concurrency bound:
code that takes over its worker still cannot outlive, out-call or flood them.
The host never raises for anything a worker does, and a worker being killed
never holds up other runs (each has its own channel and task).
"""

from __future__ import annotations

import keyword
import logging
import signal
import time
from collections.abc import Mapping, Sequence
from typing import Any

import anyio
from anyio.abc import TaskGroup

from sandbox import errors, policy, protocol
from sandbox.errors import ToolCallFailed
from sandbox.forkserver import ChannelClosed, ForkServer, Worker, default_server
from sandbox.output import with_marker
from sandbox.types import ErrorInfo, ExecutionResult, Limits, ToolBridge, ToolCallRecord

logger = logging.getLogger(__name__)

_NO_TOOLS: Mapping[str, Sequence[str]] = {}

# How long a worker that closed its channel may take to exit before it is killed.
_EXIT_GRACE_SECONDS = 2.0


async def run(
    code: str,
    *,
    tools: Mapping[str, Sequence[str]] = _NO_TOOLS,
    bridge: ToolBridge | None = None,
    limits: Limits = Limits(),  # noqa: B008 - frozen dataclass, safe as a default
    server: ForkServer | None = None,
) -> ExecutionResult:
    """Run `code` in a fresh worker and report what happened.

    Never raises for anything the code does. Raises SandboxUnavailable if no
    worker can be started, ValueError if `tools` names an invalid namespace or
    `limits` breaks the policy's ceilings (`sandbox.policy.LIMITS`).
    """
    started = time.perf_counter()
    policy.check_limits(limits)
    namespaces = _validated_tools(tools)
    size = len(code.encode("utf-8", "surrogatepass"))
    if size > limits.max_code_bytes:
        error = ErrorInfo(
            errors.CODE_TOO_LARGE,
            f"The code is {size} bytes, over the {limits.max_code_bytes} byte limit: "
            "send shorter code and move data into tool calls.",
        )
        return ExecutionResult(False, None, "", error, (), _elapsed_ms(started))
    session = _Session(namespaces, bridge, limits)
    return await session.execute(code, server or default_server(), started)


def _elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _validated_tools(tools: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Namespaces become globals in the code, so each must be a public identifier."""
    for namespace in tools:
        if not namespace.isidentifier() or namespace.startswith("_") or keyword.iskeyword(namespace):
            raise ValueError(f"tool namespace {namespace!r} is not a usable Python name")
        if namespace in policy.SANDBOX_BUILTINS:
            raise ValueError(f"tool namespace {namespace!r} would hide the sandbox builtin of that name")
    return {namespace: [str(name) for name in names] for namespace, names in tools.items()}


class _Session:
    """One execution's conversation with its worker."""

    def __init__(self, tools: dict[str, list[str]], bridge: ToolBridge | None, limits: Limits) -> None:
        self.tools = tools
        self.allowed = {f"{ns}.{name}" for ns, names in tools.items() for name in names}
        self.bridge = bridge
        self.limits = limits
        self.records: list[ToolCallRecord] = []
        self.calls_started = 0
        self.in_flight = 0
        self.refused_calls = 0

    async def execute(self, code: str, server: ForkServer, started: float) -> ExecutionResult:
        """Get a worker, converse within the wall time; the worker is always killed."""
        async with server.worker(self.limits) as worker:
            with anyio.move_on_after(max(0.0, self.limits.wall_seconds - (time.perf_counter() - started))):
                done = await self._converse(worker, code)
                return self.result(done, worker, server, started)
            timeout = _failure(
                errors.TIMEOUT,
                f"Execution exceeded the {self.limits.wall_seconds:g} s wall-time limit: "
                "make fewer or smaller tool calls, or split the work.",
            )
            worker.kill()
            with anyio.move_on_after(5):
                await worker.wait()  # the output buffer is complete once the worker is gone
            return self.result(timeout, worker, server, started)

    async def _converse(self, worker: Worker, code: str) -> dict[str, Any]:
        start = {"type": "start", "code": code, "tools": self.tools}
        try:
            await worker.channel.send(protocol.encode(start))
        except ChannelClosed:
            return await self._ended(worker)
        async with anyio.create_task_group() as group:
            done = await self._read_messages(worker, group)
            group.cancel_scope.cancel()  # no call is in flight once the worker is done or gone
        return done if done is not None else await self._ended(worker)

    async def _read_messages(self, worker: Worker, group: TaskGroup) -> dict[str, Any] | None:
        """Serve calls until the done message (returned), or None if the channel broke."""
        send_lock = anyio.Lock(fast_acquire=True)
        try:
            while True:
                message = await worker.channel.receive()
                if message["type"] == "done":
                    worker.finished = True
                    return message
                if message["type"] != "call":
                    raise protocol.ProtocolError(f"unexpected message {message['type']!r}")
                if message.get("alone") is True:
                    # A plain `tool(...)` call: the worker waits for this reply before
                    # it sends anything, so answer it here and spare a task per call.
                    # A worker that sends more anyway only delays its own calls.
                    await self._serve_call(worker, send_lock, message)
                else:
                    group.start_soon(self._serve_call, worker, send_lock, message)
        except ChannelClosed:
            return None
        except protocol.ProtocolError:
            worker.kill()  # it broke the protocol: it goes
            return None

    async def _ended(self, worker: Worker) -> dict[str, Any]:
        """Explain a worker that closed its channel without a done message."""
        with anyio.move_on_after(_EXIT_GRACE_SECONDS):
            return _exit_failure(await worker.wait(), self.limits)
        worker.kill()  # it will not exit by itself
        return _exit_failure(None, self.limits)

    async def _serve_call(self, worker: Worker, send_lock: anyio.Lock, message: dict[str, Any]) -> None:
        reply = await self._answer(message)
        name = message.get("name")
        try:
            data = protocol.encode(reply | {"id": message.get("id")})
        except protocol.ProtocolError:
            reply = _reply_error(f"{name} returned more data than the sandbox accepts: ask for less.")
            data = protocol.encode(reply | {"id": message.get("id")})
        except (TypeError, ValueError):
            reply = _reply_error(f"{name} returned a value that is not JSON; the tool needs fixing.")
            data = protocol.encode(reply | {"id": message.get("id")})
        try:
            async with send_lock:
                await worker.channel.send(data)
        except ChannelClosed:
            pass  # the worker is gone; the reading side reports how it ended

    async def _answer(self, message: dict[str, Any]) -> dict[str, Any]:
        """Check one tool call against the session's rules and run it through the bridge."""
        name, arguments = message.get("name"), message.get("arguments")
        if not isinstance(name, str) or not isinstance(arguments, dict) or name not in self.allowed:
            return _reply_error(f"{name!r} is not a tool this code may call")
        if self.calls_started >= self.limits.max_tool_calls:
            self.refused_calls += 1
            return _reply_error(self._limit_message(), limit=True)
        if self.in_flight >= self.limits.max_concurrent_tool_calls:
            # Only a worker that broke out of parallel()'s window gets here.
            return _reply_error(f"more than {self.limits.max_concurrent_tool_calls} tool calls in flight")
        self.calls_started += 1
        self.in_flight += 1
        started = time.perf_counter()
        try:
            reply = await self._call_bridge(name, arguments)
        finally:
            self.in_flight -= 1
        self.records.append(ToolCallRecord(name, _elapsed_ms(started), bool(reply["ok"])))
        return reply

    async def _call_bridge(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        if self.bridge is None:
            return {"type": "reply", "ok": False, "error": f"{name}: no tool bridge is configured"}
        try:
            value = await self.bridge.call_tool(name, arguments)
        except ToolCallFailed as exc:
            return {"type": "reply", "ok": False, "error": str(exc)}
        except Exception:
            # A bridge bug: log it for operators, tell the code nothing internal.
            logger.exception("tool bridge failed on %s", name)
            return {"type": "reply", "ok": False, "error": f"{name} failed because of an internal error"}
        return {"type": "reply", "ok": True, "value": value}

    def _limit_message(self) -> str:
        return (
            f"The code made more than {self.limits.max_tool_calls} tool calls: "
            "fetch more per call (filters, larger pages) or split the work into several runs."
        )

    def result(
        self, done: dict[str, Any], worker: Worker, server: ForkServer, started: float
    ) -> ExecutionResult:
        """Combine the worker's report with what the host enforced and the output buffer."""
        error = _error_info(done.get("error"))
        if self.refused_calls and (error is None or error.type != errors.TIMEOUT):
            error = ErrorInfo(errors.TOOL_CALL_LIMIT_EXCEEDED, self._limit_message())
        kept, truncated = worker.output()
        return ExecutionResult(
            ok=error is None,
            value=done.get("value") if error is None else None,
            stdout=with_marker(kept, truncated, self.limits.output_bytes),
            error=error,
            tool_calls=tuple(self.records),
            duration_ms=_elapsed_ms(started),
            limits_hit=(errors.OUTPUT_LIMIT_EXCEEDED,) if truncated else (),
            layers=server.layers,
        )


def _reply_error(message: str, *, limit: bool = False) -> dict[str, Any]:
    return {"type": "reply", "ok": False, "error": message, "limit": limit}


def _failure(kind: str, message: str) -> dict[str, Any]:
    return {"type": "done", "ok": False, "value": None, "error": {"type": kind, "message": message}}


def _error_info(raw: Any) -> ErrorInfo | None:
    if raw is None:
        return None
    if isinstance(raw, dict) and isinstance(raw.get("type"), str) and isinstance(raw.get("message"), str):
        tool, hint = raw.get("tool"), raw.get("hint")
        return ErrorInfo(
            raw["type"],
            raw["message"],
            tool if isinstance(tool, str) else None,
            hint if isinstance(hint, str) else None,
        )
    return ErrorInfo(errors.SANDBOX_CRASHED, "The sandbox worker sent a malformed report: run the code again")


def _exit_failure(returncode: int | None, limits: Limits) -> dict[str, Any]:
    """Explain a worker that stopped without reporting, from how it ended."""
    if returncode == -signal.SIGXCPU:
        return _failure(
            errors.CPU_TIME_EXCEEDED,
            f"The code used more than {limits.cpu_seconds} s of CPU time: "
            "make the computation cheaper (fewer iterations, smaller data) or split the work.",
        )
    if returncode == -signal.SIGKILL:  # the hard CPU limit or the kernel's OOM killer
        return _failure(
            errors.MEMORY_LIMIT_EXCEEDED,
            f"The code ran out of memory (limit {limits.memory_bytes // (1024 * 1024)} MiB): "
            "process the data in smaller pieces.",
        )
    return _failure(
        errors.SANDBOX_CRASHED,
        f"The sandbox worker stopped unexpectedly (exit status {returncode}): "
        "run the code again; if it keeps failing, simplify it.",
    )
