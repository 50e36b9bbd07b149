"""Open an official `mcp.Client` to an upstream server, whatever its transport.

Values in ``settings``, ``env`` and ``headers`` may name environment variables
as ``${NAME}``, so secrets stay out of the config file.
"""

from __future__ import annotations

import functools
import importlib
import os
import re
from collections.abc import Mapping
from contextlib import AsyncExitStack
from typing import Any

import anyio.to_thread
import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.session import MessageHandlerFnT
from mcp.client.streamable_http import streamable_http_client

from portal.config import HttpTransport, ModuleTransport, StdioTransport

__all__ = ["build_module_server", "expand_env", "open_client", "start_demo_backend"]

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


def build_module_server(transport: ModuleTransport, overrides: Mapping[str, str] | None = None) -> Any:
    """Import a ``servers.<name>``-style package and build its server from its own Settings."""
    if not all(part.isidentifier() for part in transport.module.split(".")):
        raise ValueError(f"invalid module name {transport.module!r}")
    package = importlib.import_module(transport.module)
    for attribute in ("build_server", "Settings"):
        if not hasattr(package, attribute):
            raise ValueError(f"module {transport.module!r} does not export {attribute}")
    settings = package.Settings(**{**expand_env(transport.settings), **(overrides or {})})
    return package.build_server(settings)


async def start_demo_backend(stack: AsyncExitStack, transport: ModuleTransport) -> dict[str, str]:
    """Start ``<module>.fake`` on 127.0.0.1 for the life of ``stack``; its settings point the server at it."""
    start = importlib.import_module(f"{transport.module}.fake").start
    fake = await anyio.to_thread.run_sync(
        functools.partial(start, host="127.0.0.1", port=0, **transport.demo_backend_args)
    )
    stack.callback(fake.stop)
    return dict(fake.settings)


async def open_client(
    stack: AsyncExitStack,
    transport: ModuleTransport | StdioTransport | HttpTransport,
    message_handler: MessageHandler,
) -> Client:
    """Enter a connected client on ``stack``; it closes when the stack does."""
    target: Any
    if isinstance(transport, ModuleTransport):
        overrides = await start_demo_backend(stack, transport) if transport.demo_backend else None
        target = build_module_server(transport, overrides)
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
    client = Client(target, mode="legacy", message_handler=message_handler, cache=None)
    return await stack.enter_async_context(client)
