"""Host side: spawn a fresh worker, answer its tool calls, enforce wall time.

The worker is started with an empty environment in an empty temporary
directory, its stdin/stdout pipes as the only channel (stderr discarded), in
its own session so the whole process group can be killed. The host, not the
worker, enforces the wall-time limit and the tool-call budget: code that
takes over the worker still cannot outlive or out-call them.
"""

from __future__ import annotations

import contextlib
import keyword
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from typing import Any

import anyio
from anyio.abc import Process
from anyio.streams.buffered import BufferedByteReceiveStream

from sandbox import errors, protocol
from sandbox.errors import SandboxUnavailable, ToolCallFailed
from sandbox.types import ErrorInfo, ExecutionResult, Limits, ToolBridge, ToolCallRecord

logger = logging.getLogger(__name__)

_NO_TOOLS: Mapping[str, Sequence[str]] = {}

# What anyio raises when the worker's end of a pipe goes away.
_PIPE_ERRORS = (anyio.IncompleteRead, anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError)


async def run(
    code: str,
    *,
    tools: Mapping[str, Sequence[str]] = _NO_TOOLS,
    bridge: ToolBridge | None = None,
    limits: Limits = Limits(),  # noqa: B008 - frozen dataclass, safe as a default
) -> ExecutionResult:
    """Run `code` in a fresh worker and report what happened.

    Never raises for anything the code does. Raises SandboxUnavailable if no
    worker can be started, ValueError if `tools` names an invalid namespace.
    """
    started = time.perf_counter()
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
    done = await session.execute(code)
    return session.result(done, _elapsed_ms(started))


def _elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _validated_tools(tools: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Namespaces become globals in the code, so each must be a public identifier."""
    for namespace in tools:
        if not namespace.isidentifier() or namespace.startswith("_") or keyword.iskeyword(namespace):
            raise ValueError(f"tool namespace {namespace!r} is not a usable Python name")
    return {namespace: [str(name) for name in names] for namespace, names in tools.items()}


class _Session:
    """One execution's conversation with its worker."""

    def __init__(self, tools: dict[str, list[str]], bridge: ToolBridge | None, limits: Limits) -> None:
        self.tools = tools
        self.allowed = {f"{ns}.{name}" for ns, names in tools.items() for name in names}
        self.bridge = bridge
        self.limits = limits
        self.records: list[ToolCallRecord] = []
        self.refused_calls = 0

    async def execute(self, code: str) -> dict[str, Any]:
        """Spawn, converse within the wall time, always kill and clean up."""
        with tempfile.TemporaryDirectory(prefix="sandbox-") as workdir:
            process = await self._spawn(workdir)
            try:
                with anyio.move_on_after(self.limits.wall_seconds):
                    return await self._converse(process, code)
                return _failure(
                    errors.TIMEOUT,
                    f"Execution exceeded the {self.limits.wall_seconds:g} s wall-time limit: "
                    "make fewer or smaller tool calls, or split the work.",
                )
            finally:
                with anyio.CancelScope(shield=True):
                    await _kill(process)

    async def _spawn(self, workdir: str) -> Process:
        command = [sys.executable, "-I", "-m", "sandbox.worker", str(self.limits.cpu_seconds),
                   str(self.limits.memory_bytes)]
        try:
            return await anyio.open_process(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                cwd=workdir, env={}, start_new_session=True,
            )
        except OSError as exc:
            raise SandboxUnavailable(f"cannot start the sandbox worker: {exc}") from exc

    async def _converse(self, process: Process, code: str) -> dict[str, Any]:
        if process.stdin is None or process.stdout is None:
            raise SandboxUnavailable("the sandbox worker has no pipes")
        stream = BufferedByteReceiveStream(process.stdout)
        start = {"type": "start", "code": code, "tools": self.tools,
                 "output_bytes": self.limits.output_bytes, "result_bytes": self.limits.result_bytes}
        try:
            await process.stdin.send(protocol.encode(start))
            while True:
                message = await _receive(stream)
                if message["type"] == "done":
                    return message
                if message["type"] != "call":
                    raise protocol.ProtocolError(f"unexpected message {message['type']!r}")
                await process.stdin.send(await self._answer(message))
        except (protocol.ProtocolError, *_PIPE_ERRORS):
            return _exit_failure(await process.wait(), self.limits)

    async def _answer(self, message: dict[str, Any]) -> bytes:
        """Run one tool call through the bridge and frame the reply."""
        name, arguments = message.get("name"), message.get("arguments")
        if not isinstance(name, str) or not isinstance(arguments, dict) or name not in self.allowed:
            return _reply_error(f"{name!r} is not a tool this code may call")
        if len(self.records) >= self.limits.max_tool_calls:
            self.refused_calls += 1
            return _reply_error(self._limit_message(), limit=True)
        started = time.perf_counter()
        reply = await self._call_bridge(name, arguments)
        self.records.append(ToolCallRecord(name, _elapsed_ms(started), bool(reply["ok"])))
        try:
            return protocol.encode(reply)
        except protocol.ProtocolError:
            return _reply_error(f"{name} returned more data than the sandbox accepts: ask for less.")
        except (TypeError, ValueError):
            return _reply_error(f"{name} returned a value that is not JSON; the tool needs fixing.")

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

    def result(self, done: dict[str, Any], duration_ms: float) -> ExecutionResult:
        """Combine the worker's report with what the host enforced itself."""
        error = _error_info(done.get("error"))
        if self.refused_calls and (error is None or error.type != errors.TIMEOUT):
            error = ErrorInfo(errors.TOOL_CALL_LIMIT_EXCEEDED, self._limit_message())
        stdout = done.get("stdout")
        return ExecutionResult(
            ok=error is None,
            value=done.get("value") if error is None else None,
            stdout=stdout if isinstance(stdout, str) else "",
            error=error,
            tool_calls=tuple(self.records),
            duration_ms=duration_ms,
        )


async def _receive(stream: BufferedByteReceiveStream) -> dict[str, Any]:
    """Await one whole message; EOF or garbage become ProtocolError."""
    try:
        header = await stream.receive_exactly(protocol.HEADER_SIZE)
        body = await stream.receive_exactly(protocol.frame_length(header))
    except _PIPE_ERRORS as exc:
        raise protocol.ProtocolError("worker pipe closed") from exc
    return protocol.decode_body(body)


def _reply_error(message: str, *, limit: bool = False) -> bytes:
    return protocol.encode({"type": "reply", "ok": False, "error": message, "limit": limit})


def _failure(kind: str, message: str) -> dict[str, Any]:
    error = {"type": kind, "message": message}
    return {"type": "done", "ok": False, "value": None, "stdout": "", "error": error}


def _error_info(raw: Any) -> ErrorInfo | None:
    if raw is None:
        return None
    if isinstance(raw, dict) and isinstance(raw.get("type"), str) and isinstance(raw.get("message"), str):
        return ErrorInfo(raw["type"], raw["message"])
    return ErrorInfo(errors.SANDBOX_CRASHED, "The sandbox worker sent a malformed report: run the code again")


def _exit_failure(returncode: int, limits: Limits) -> dict[str, Any]:
    """Explain a worker that stopped without reporting, from how it ended."""
    if returncode == -signal.SIGXCPU:
        return _failure(
            errors.CPU_TIME_EXCEEDED,
            f"The code used more than {limits.cpu_seconds} s of CPU time: "
            "make the computation cheaper (fewer iterations, smaller data) or split the work.",
        )
    if returncode == -signal.SIGKILL:  # not us (we kill only after this); the kernel's OOM killer
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


async def _kill(process: Process) -> None:
    """Kill the worker's whole process group and reap it."""
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):  # already gone
            os.killpg(process.pid, signal.SIGKILL)
    await process.aclose()
