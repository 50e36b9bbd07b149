"""Open an official `mcp.Client` to an upstream server, whatever its transport.

Values in ``settings``, ``env`` and ``headers`` may name environment variables
as ``${NAME}``, so secrets stay out of the config file.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Mapping
from contextlib import AsyncExitStack
from typing import Any

import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.session import ElicitationFnT, MessageHandlerFnT, SamplingFnT
from mcp.client.streamable_http import streamable_http_client

from portal.config import HttpTransport, ModuleTransport, StdioTransport

__all__ = ["build_module_server", "expand_env", "open_client"]

MessageHandler = MessageHandlerFnT
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_env(values: Mapping[str, str], environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Replace ``${NAME}`` with the environment's value; a missing variable is an error, not ''."""
    environ = os.environ if environ is None else environ

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise LookupError(f"environment variable {name} is referenced in the config but not set")
        return environ[name]

    return {key: _ENV_REFERENCE.sub(substitute, value) for key, value in values.items()}


def build_module_server(transport: ModuleTransport) -> Any:
    """Import a ``servers.<name>``-style package and build its server from its own Settings.

    The settings (a URL and a token, typically) come from the config alone, in the demo as in
    production: the demo's launcher (demo/launcher.py) writes its fakes' URLs there.
    """
    if not all(part.isidentifier() for part in transport.module.split(".")):
        raise ValueError(f"invalid module name {transport.module!r}")
    package = importlib.import_module(transport.module)
    for attribute in ("build_server", "Settings"):
        if not hasattr(package, attribute):
            raise ValueError(f"module {transport.module!r} does not export {attribute}")
    settings = package.Settings(**expand_env(transport.settings))
    return package.build_server(settings)


async def open_client(
    stack: AsyncExitStack,
    transport: ModuleTransport | StdioTransport | HttpTransport,
    message_handler: MessageHandler,
    elicitation_callback: ElicitationFnT | None = None,
    sampling_callback: SamplingFnT | None = None,
) -> Client:
    """Enter a connected client on ``stack``; it closes when the stack does.

    The callbacks answer the upstream's elicitation and sampling requests (portal/relay.py).
    """
    target: Any
    if isinstance(transport, ModuleTransport):
        target = build_module_server(transport)
    elif isinstance(transport, StdioTransport):
        target = StdioServerParameters(
            command=transport.command,
            args=list(transport.args),
            env=expand_env(transport.env) or None,
            cwd=transport.cwd,
        )
    else:
        http_client = await stack.enter_async_context(
            httpx2.AsyncClient(
                headers=expand_env(transport.headers), timeout=httpx2.Timeout(30.0, read=300.0)
            )
        )
        target = streamable_http_client(transport.url, http_client=http_client)
    # "legacy" keeps a long-lived session, over which servers send tools/list_changed.
    client = Client(
        target,
        mode="legacy",
        message_handler=message_handler,
        cache=None,
        elicitation_callback=elicitation_callback,
        sampling_callback=sampling_callback,
    )
    return await stack.enter_async_context(client)
