"""Worker side of tool calls: the namespaces and callables code sees.

`gitlab.list_projects(search="api")` sends one "call" message up the pipe and
blocks for the "reply". Everything these objects hold (the channel, names)
sits in `_`-prefixed slots, which the attribute guard never lets code read.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Sequence
from typing import Any, BinaryIO, Final, NoReturn

from sandbox import protocol

# Worker exit status when the pipe to the host breaks.
EXIT_CHANNEL_LOST: Final = 3


class ToolError(Exception):
    """A tool call failed; `str(e)` is the tool's message. Builtin in the code."""

    def __init__(self, message: str = "", tool: str = "") -> None:
        super().__init__(message)
        self.tool = tool


class ToolCallLimitError(ToolError):
    """The execution used up its tool calls; the host reports ToolCallLimitExceeded."""


class Channel:
    """The worker's end of the pipe to the host (one call in flight at a time)."""

    def __init__(self, reader: BinaryIO, writer: BinaryIO) -> None:
        self._reader = reader
        self._writer = writer

    def send(self, message: dict[str, Any]) -> None:
        try:
            protocol.write_message(self._writer, message)
        except (OSError, protocol.ProtocolError):
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

    def call(self, name: str, arguments: dict[str, Any]) -> Any:
        """Ask the host to run a tool; raise ToolError with its message on failure."""
        self.send({"type": "call", "name": name, "arguments": arguments})
        reply = self.receive()
        if reply.get("type") != "reply":
            self._lost()
        if reply.get("ok"):
            return reply.get("value")
        error = ToolCallLimitError if reply.get("limit") else ToolError
        raise error(str(reply.get("error", "tool call failed")), name)


def _check_json(name: str, arguments: dict[str, Any]) -> None:
    for key, value in arguments.items():
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{name}(): argument '{key}' cannot be sent as JSON ({type(value).__name__}): "
                "pass str, int, float, bool, None, lists or dicts"
            ) from exc


class ToolFunction:
    """One tool as a keyword-only callable."""

    __slots__ = ("_name", "_channel")

    def __init__(self, name: str, channel: Channel) -> None:
        self._name = name
        self._channel = channel

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if args:
            raise TypeError(
                f"{self._name}() takes keyword arguments only, e.g. {self._name}(name=value); "
                f"got {len(args)} positional argument(s)"
            )
        _check_json(self._name, kwargs)
        return self._channel.call(self._name, kwargs)

    def __repr__(self) -> str:
        return f"<tool {self._name}>"


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
