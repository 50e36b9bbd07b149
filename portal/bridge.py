"""The host side of tool calls made by sandboxed code.

The sandbox hands us ``("gitlab.get_job_log", {...})``; we check the tool
exists for this caller, call it through the registry, and turn the MCP result
into a plain value: structured content when present, else JSON-decoded text
when the text is JSON, else the text. An error result becomes
`sandbox.ToolCallFailed`, which the code sees as a catchable ``ToolError``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import mcp_types as types

from portal.auth import Principal
from portal.catalog import Catalog, CatalogEntry
from portal.identity import USER_META_KEY
from portal.observed_shapes import recorded
from portal.registry import Registry, UpstreamError
from portal.signatures import is_wrapped_output
from portal.tool_errors import argument_problem, clean_error_text, qualify_tool_names, tool_failure
from portal.tracing import traced_tool_call
from sandbox import ToolCallFailed

__all__ = ["RegistryBridge", "result_value"]

_MAX_ERROR_TEXT = 2000


def result_value(result: types.CallToolResult, tool: types.Tool | None) -> Any:
    """The value code receives for a successful call."""
    structured = result.structured_content
    if structured is not None:
        if tool is not None and is_wrapped_output(tool.output_schema) and set(structured) == {"result"}:
            return structured["result"]
        return structured
    texts = [block.text for block in result.content if isinstance(block, types.TextContent)]
    if len(texts) == 1:
        try:
            return json.loads(texts[0])
        except ValueError:
            return texts[0]
    return "\n".join(texts)


def error_text(result: types.CallToolResult) -> str:
    texts = [block.text for block in result.content if isinstance(block, types.TextContent)]
    text = " ".join(t.strip() for t in texts if t.strip()) or "the tool reported an error without a message"
    return text[:_MAX_ERROR_TEXT]


class RegistryBridge:
    """Answers the sandbox's tool calls for one execution on behalf of one principal."""

    def __init__(
        self,
        registry: Registry,
        catalog: Catalog,
        principal: Principal | None,
        user_id: str,
        may_use: Callable[[Principal | None, CatalogEntry], bool],
    ) -> None:
        self._registry = registry
        self._catalog = catalog
        self._principal = principal
        self._meta = {USER_META_KEY: user_id}
        self._may_use = may_use

    def tool_names(self) -> dict[str, list[str]]:
        """Namespace to the Python names of the tools this caller may use: all the code can see.

        A tool the caller may not use is left out, and a namespace with none is
        absent, so ``print(ns)``, suggestions and errors never name it.
        """
        names: dict[str, list[str]] = {}
        for entry in self._catalog.entries():
            if self._may_use(self._principal, entry):
                names.setdefault(entry.namespace, []).append(entry.python_name)
        return names

    def _names(self, entry: CatalogEntry) -> dict[str, str]:
        """The server's own tool names to the Python names, for the tools of ``entry``'s namespace."""
        return {
            other.tool.name: other.python_name
            for other in self._catalog.entries()
            if other.namespace == entry.namespace and self._may_use(self._principal, other)
        }

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> Any:
        entry = self._catalog.get(name)
        # Checked here, in the host, on every call. A forbidden tool gets the answer a
        # nonexistent one gets, so refusals do not tell the caller which tools exist.
        if entry is None or not self._may_use(self._principal, entry):
            raise ToolCallFailed(f"no tool named {name}: find tools with portal_codemode_search")
        problem = argument_problem(entry.python_input_schema(), arguments)  # in the names the code used
        if problem is not None:  # said here, with the signature, before the call leaves the portal
            raise ToolCallFailed(tool_failure(name, problem, entry.signature))
        try:
            upstream_arguments = entry.upstream_arguments(arguments)
            result = await traced_tool_call(  # a child span, its traceparent in _meta (portal/tracing.py)
                name, entry.namespace, entry.tool.name, dict(self._meta),
                lambda meta: self._registry.call(entry.namespace, entry.tool.name, upstream_arguments, meta),
            )  # fmt: skip
        except UpstreamError as exc:
            reason = clean_error_text(str(exc))
            unavailable = f"its server is unavailable ({reason}); try again later"
            raise ToolCallFailed(tool_failure(name, unavailable)) from None
        if result.is_error:
            problem = qualify_tool_names(
                clean_error_text(error_text(result)), entry.namespace, self._names(entry)
            )
            raise ToolCallFailed(tool_failure(name, problem, entry.signature))
        return await recorded(self._registry, entry, result_value(result, entry.tool))
