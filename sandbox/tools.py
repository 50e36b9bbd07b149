"""Worker side of tool calls: the namespaces, callables and `parallel` code sees.

`gitlab.list_projects(search="api")` sends one "call" message up the channel
and blocks for its "reply". Everything these objects hold (the channel, names,
arguments) sits in `_`-prefixed slots, which the attribute guard never lets
code read; none of them is a function with a closure or globals.

Concurrent calls: `tool.bind(**kwargs)` makes a pending call without sending
it, and `parallel(*pending)` (or `parallel([pending, ...])`) sends them all,
at most `Limits.max_concurrent_tool_calls` in flight at once, and returns
their results in argument order. If any call failed, `parallel` raises the
ToolError of the first failed call (in argument order) once all have finished;
with `parallel(..., return_errors=True)` a failed call's slot holds its
ToolError instead and nothing is raised. Each call counts against
`Limits.max_tool_calls`; running out raises ToolCallLimitExceeded whatever
`return_errors` says.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Sequence
from typing import Any, Final, NoReturn

from sandbox import protocol

# Worker exit status when the channel to the host breaks.
EXIT_CHANNEL_LOST: Final = 3


class ToolError(Exception):
    """A tool call failed; `str(e)` is the tool's message. Builtin in the code."""

    def __init__(self, message: str = "", tool: str = "") -> None:
        super().__init__(message)
        self.tool = tool


class ToolCallLimitError(ToolError):
    """The execution used up its tool calls; the host reports ToolCallLimitExceeded."""


class Channel:
    """The worker's end of its socket to the host, spoken with plain read/write."""

    def __init__(self, fd: int, window: int = 1) -> None:
        self._fd = fd
        self._reader = open(fd, "rb", buffering=64 * 1024, closefd=False)  # noqa: SIM115 - lives with the worker
        self._next_id = 0
        self.window = max(1, window)

    def send(self, message: dict[str, Any]) -> None:
        try:
            frame = protocol.encode(message)
        except protocol.ProtocolError:
            self._lost()
        self._write(frame)

    def _write(self, frame: bytes) -> None:
        try:
            data = memoryview(frame)
            while data:
                data = data[os.write(self._fd, data) :]
        except OSError:
            self._lost()

    def receive(self) -> dict[str, Any]:
        try:
            return protocol.read_message(self._reader)
        except (OSError, protocol.ProtocolError):
            self._lost()

    @staticmethod
    def _lost() -> NoReturn:
        """The host is gone or broke the protocol: exit at once, so code that
        catches every exception cannot keep running unsupervised."""
        os._exit(EXIT_CHANNEL_LOST)

    def _send_call(self, name: str, arguments: dict[str, Any], alone: bool = False) -> int:
        self._next_id += 1
        message = {"type": "call", "id": self._next_id, "name": name, "arguments": arguments}
        if alone:
            message["alone"] = True  # nothing else is sent until its reply: the host may answer inline
        try:
            frame = protocol.encode(message)
        except protocol.ProtocolError:
            raise ToolError(
                f"the arguments are larger than the {protocol.MAX_FRAME_BYTES} bytes a tool call can carry: "
                "send less data per call",
                name,
            ) from None
        self._write(frame)
        return self._next_id

    def _reply(self) -> dict[str, Any]:
        reply = self.receive()
        if reply.get("type") != "reply":
            self._lost()
        return reply

    def call(self, name: str, arguments: dict[str, Any]) -> Any:
        """Ask the host to run a tool; raise ToolError with its message on failure."""
        call_id = self._send_call(name, arguments, alone=True)
        reply = self._reply()
        if reply.get("id") != call_id:
            self._lost()
        outcome = _outcome(reply, name)
        if isinstance(outcome, ToolError):
            raise outcome
        return outcome

    def call_many(self, calls: Sequence[tuple[str, dict[str, Any]]]) -> list[Any]:
        """Run calls with at most `window` in flight; values or ToolErrors, in order."""
        results: list[Any] = [None] * len(calls)
        pending: dict[int, int] = {}
        queued = iter(range(len(calls)))
        for index in queued:
            pending[self._send_call(*calls[index])] = index
            if len(pending) >= self.window:
                break
        while pending:
            reply = self._reply()
            index = pending.pop(reply.get("id"), None)  # type: ignore[arg-type]
            if index is None:
                self._lost()
            results[index] = _outcome(reply, calls[index][0])
            for following in queued:  # refill the window by one
                pending[self._send_call(*calls[following])] = following
                break
        return results


def _outcome(reply: dict[str, Any], name: str) -> Any:
    if reply.get("ok"):
        return reply.get("value")
    error = ToolCallLimitError if reply.get("limit") else ToolError
    return error(str(reply.get("error", "tool call failed")), name)


def _check_json(name: str, arguments: dict[str, Any]) -> None:
    for key, value in arguments.items():
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{name}(): argument '{key}' cannot be sent as JSON ({type(value).__name__}): "
                "pass str, int, float, bool, None, lists or dicts"
            ) from exc


class PendingCall:
    """A tool call made by `tool.bind(...)`, sent only by `parallel(...)`."""

    __slots__ = ("_name", "_arguments", "_channel")

    def __init__(self, name: str, arguments: dict[str, Any], channel: Channel) -> None:
        self._name = name
        self._arguments = arguments
        self._channel = channel

    def __repr__(self) -> str:
        return f"<pending call {self._name}>"


class ToolFunction:
    """One tool as a keyword-only callable."""

    __slots__ = ("_name", "_channel")

    def __init__(self, name: str, channel: Channel) -> None:
        self._name = name
        self._channel = channel

    def _arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if args:
            raise TypeError(
                f"{self._name}() takes keyword arguments only, e.g. {self._name}(name=value); "
                f"got {len(args)} positional argument(s)"
            )
        _check_json(self._name, kwargs)
        return kwargs

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._channel.call(self._name, self._arguments(args, kwargs))

    def bind(self, *args: Any, **kwargs: Any) -> PendingCall:
        """This call with these arguments, to hand to parallel(); nothing is sent yet."""
        return PendingCall(self._name, self._arguments(args, kwargs), self._channel)

    def __repr__(self) -> str:
        return f"<tool {self._name}>"


class Parallel:
    """The `parallel` builtin: run pending calls concurrently, results in order."""

    __slots__ = ("_channel",)

    def __init__(self, channel: Channel) -> None:
        self._channel = channel

    def __call__(self, *calls: Any, return_errors: bool = False) -> list[Any]:
        if len(calls) == 1 and isinstance(calls[0], list | tuple):
            calls = tuple(calls[0])
        for call in calls:
            if not isinstance(call, PendingCall):
                raise TypeError(
                    "parallel() takes pending calls made with tool.bind(...), e.g. "
                    "parallel(gitlab.get_project.bind(project='a'), gitlab.get_project.bind(project='b')); "
                    f"got {type(call).__name__}"
                )
        results = self._channel.call_many([(call._name, call._arguments) for call in calls])
        failures = [r for r in results if isinstance(r, ToolError)]
        limit = next((r for r in failures if isinstance(r, ToolCallLimitError)), None)
        if limit is not None:
            raise limit
        if failures and not return_errors:
            raise failures[0]
        return results

    def __repr__(self) -> str:
        return "<builtin parallel>"


class ToolNamespace:
    """A global such as `gitlab` whose attributes are the permitted tools."""

    __slots__ = ("_namespace", "_tools", "_channel")
    _namespace: str
    _tools: tuple[str, ...]
    _channel: Channel

    def __init__(self, namespace: str, tools: Sequence[str], channel: Channel) -> None:
        object.__setattr__(self, "_namespace", namespace)
        object.__setattr__(self, "_tools", tuple(tools))
        object.__setattr__(self, "_channel", channel)

    def __getattr__(self, tool: str) -> ToolFunction:
        if tool in self._tools:
            return ToolFunction(f"{self._namespace}.{tool}", self._channel)
        raise AttributeError(self._unknown(tool))

    def __setattr__(self, attr: str, value: Any) -> None:
        raise AttributeError(f"tool namespace '{self._namespace}' is read-only")

    def _unknown(self, tool: str) -> str:
        close = difflib.get_close_matches(tool, self._tools, n=5, cutoff=0.5)
        if close:
            hint = f"Did you mean: {', '.join(close)}?"
        elif len(self._tools) <= 30:
            hint = f"Available tools: {', '.join(self._tools) or '(none)'}."
        else:
            hint = f"It has {len(self._tools)} tools; search for the right one by name."
        return f"'{self._namespace}' has no tool '{tool}'. {hint}"

    def __repr__(self) -> str:
        return f"<tools {self._namespace}: {', '.join(self._tools)}>"
