"""``resources.read(uri=...)`` inside the sandbox: a resource's contents for code that needs them.

A pseudo-namespace the portal answers itself, like ``results.get`` (portal/kept_results.py):
the call never reaches an upstream as a tool call, but goes through the federation
(portal/federation.py) with the caller's permissions, so code reads exactly what
``resources/read`` would give this user. Text contents come back as one string;
anything with a blob as a list of ``{"uri", "mime_type", "text" | "blob"}`` dicts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import mcp_types as types
from mcp.shared.exceptions import MCPError

from portal.auth import Principal
from sandbox import ToolBridge, ToolCallFailed

__all__ = ["RESOURCES_NAMESPACE", "ResourceReader", "ResourcesBridge"]

RESOURCES_NAMESPACE = "resources"
_READ = f"{RESOURCES_NAMESPACE}.read"
_MAX_URI = 2_048
ResourceReader = Callable[[Principal | None, str], Awaitable[types.ReadResourceResult]]


def _content(content: types.TextResourceContents | types.BlobResourceContents) -> dict[str, Any]:
    text = isinstance(content, types.TextResourceContents)
    body = {"text": content.text} if text else {"blob": content.blob}  # type: ignore[union-attr]
    return {"uri": str(content.uri), "mime_type": content.mime_type, **body}


def _plain(result: types.ReadResourceResult) -> Any:
    texts = [c.text for c in result.contents if isinstance(c, types.TextResourceContents)]
    if len(texts) == len(result.contents):
        return "\n".join(texts)
    return [_content(c) for c in result.contents]


class ResourcesBridge:
    """Answers ``resources.read(uri=...)``; every other call goes to ``inner``."""

    def __init__(self, inner: ToolBridge, read: ResourceReader, principal: Principal | None) -> None:
        self._inner = inner
        self._read = read
        self._principal = principal

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> Any:
        if name != _READ:
            return await self._inner.call_tool(name, arguments)
        uri = arguments.get("uri")
        if not isinstance(uri, str) or not uri or len(uri) > _MAX_URI or set(arguments) - {"uri"}:
            raise ToolCallFailed("resources.read takes one argument: resources.read(uri='scheme://...')")
        try:
            return _plain(await self._read(self._principal, uri))
        except MCPError as exc:
            raise ToolCallFailed(f"resources.read({uri[:200]!r}) failed: {exc.error.message[:300]}") from None
