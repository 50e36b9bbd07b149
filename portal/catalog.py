"""The catalog: every upstream tool as a typed Python signature, searchable with BM25.

It rebuilds its index whenever the registry's tool lists change (a server
started, failed, or sent ``tools/list_changed``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import mcp_types as types
import numpy as np

from portal import naming
from portal.naming import NameTable
from portal.registry import UpstreamTool
from portal.search import SearchDocument, ToolIndex
from portal.signatures import one_line_doc, parameter_table, render_signature

__all__ = ["Catalog", "CatalogEntry", "SearchHit"]


@dataclass(frozen=True)
class CatalogEntry:
    """One callable tool as the sandbox and search see it.

    ``python_name`` is what code calls (``get_sum``), unique in its namespace;
    ``tool.name`` is the upstream's own name (``get-sum``), which calls go out with.
    """

    namespace: str
    tool: types.Tool
    signature: str
    python_name: str = ""
    parameters: NameTable = field(default_factory=lambda: NameTable((), naming.Kind.PARAMETER))

    def __post_init__(self) -> None:
        if not self.python_name:  # built by hand (tests, tools): the name as it maps alone
            object.__setattr__(self, "python_name", naming.python_name(self.tool.name, naming.Kind.TOOL))
        if not self.parameters.items() and (self.tool.input_schema or {}).get("properties"):
            object.__setattr__(self, "parameters", parameter_table(self.tool))

    @property
    def name(self) -> str:
        """``namespace.python_name``: the name search shows and code calls."""
        return f"{self.namespace}.{self.python_name}"

    @property
    def original_name(self) -> str:
        """``namespace.tool``: the upstream tool's own name."""
        return f"{self.namespace}.{self.tool.name}"

    def upstream_arguments(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """Keyword arguments by their Python names, keyed by the upstream's property names."""
        return self.parameters.to_original(arguments)

    def python_input_schema(self) -> dict[str, Any]:
        """The input schema with properties under their Python names, as the signature shows them:
        what checks and messages about arguments use, so they name what the code wrote."""
        schema = dict(self.tool.input_schema or {})
        properties = schema.get("properties")
        if not isinstance(properties, Mapping) or not self.parameters.items():
            return schema
        schema["properties"] = {
            self.parameters.python(k): v for k, v in properties.items() if isinstance(k, str)
        }
        required = schema.get("required")
        if isinstance(required, list):
            schema["required"] = [
                self.parameters.python(name) if isinstance(name, str) and name in properties else name
                for name in required
            ]
        return schema

    def annotations(self) -> dict[str, Any]:
        if self.tool.annotations is None:
            return {}
        return self.tool.annotations.model_dump(by_alias=True, exclude_none=True)


@dataclass(frozen=True)
class SearchHit:
    entry: CatalogEntry
    score: float

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.entry.name,
            "signature": self.entry.signature,
            "description": one_line_doc(self.entry.tool.description),
            "score": round(self.score, 4),
            "annotations": self.entry.annotations(),
        }


class Catalog:
    """A view of the registry's tools; ``tools_source`` returns them with a change counter."""

    def __init__(self, tools_source: Callable[[], tuple[int, list[UpstreamTool]]]) -> None:
        self._source = tools_source
        self._version = -1
        self._entries: list[CatalogEntry] = []
        self._by_name: dict[str, CatalogEntry] = {}
        self._collisions: list[naming.Collision] = []
        self._index = ToolIndex([])

    def _refresh(self) -> None:
        version, tools = self._source()
        if version == self._version:
            return
        entries, collisions = _entries(tools)
        server_texts = {t.namespace: t.instructions for t in tools}
        self._index = ToolIndex([_document(e, server_texts.get(e.namespace, "")) for e in entries])
        self._entries, self._version, self._collisions = entries, version, collisions
        self._by_name = {entry.name: entry for entry in entries}

    def collisions(self) -> list[naming.Collision]:
        """Upstream names that mapped to one Python name, and the names each got instead."""
        self._refresh()
        return list(self._collisions)

    def entries(self) -> list[CatalogEntry]:
        self._refresh()
        return list(self._entries)

    def get(self, name: str) -> CatalogEntry | None:
        self._refresh()
        return self._by_name.get(name)

    def search(
        self, query: str, limit: int = 10, allowed: Callable[[CatalogEntry], bool] | None = None
    ) -> list[SearchHit]:
        """Best matches first; ``allowed`` hides entries the caller may not use."""
        self._refresh()
        mask = None if allowed is None else np.array([allowed(e) for e in self._entries], dtype=bool)
        return [SearchHit(self._entries[i], score) for i, score in self._index.search(query, limit, mask)]


def _entries(tools: list[UpstreamTool]) -> tuple[list[CatalogEntry], list[naming.Collision]]:
    """Entries with Python names unique per namespace (`portal.naming`), in the registry's order."""
    by_namespace: dict[str, dict[str, types.Tool]] = {}
    for upstream in tools:  # a server listing one name twice: the first one counts
        by_namespace.setdefault(upstream.namespace, {}).setdefault(upstream.tool.name, upstream.tool)
    tables = {
        namespace: NameTable(listed, naming.Kind.TOOL, where=namespace)
        for namespace, listed in by_namespace.items()
    }
    collisions = [collision for table in tables.values() for collision in table.collisions]
    entries = []
    for namespace, listed in by_namespace.items():
        for tool in listed.values():
            python = tables[namespace].python(tool.name)
            parameters = parameter_table(tool)
            collisions.extend(
                replace(c, where=f"{namespace}.{python} parameters") for c in parameters.collisions
            )
            signature = render_signature(namespace, tool, name=python, parameters=parameters)
            entries.append(CatalogEntry(namespace, tool, signature, python, parameters))
    return entries, collisions


def _document(entry: CatalogEntry, server_text: str = "") -> SearchDocument:
    """Search text of one tool; ``server_text`` is its server's ``instructions``, shared by its siblings."""
    properties = (entry.tool.input_schema or {}).get("properties") or {}
    return SearchDocument(entry.name, entry.tool.description or "", list(properties), server_text)
