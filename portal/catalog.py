"""The catalog: every upstream tool as a typed Python signature, searchable with BM25.

It rebuilds its index whenever the registry's tool lists change (a server
started, failed, or sent ``tools/list_changed``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mcp_types as types
import numpy as np

from portal.registry import UpstreamTool
from portal.search import SearchDocument, ToolIndex
from portal.signatures import one_line_doc, render_signature

__all__ = ["Catalog", "CatalogEntry", "SearchHit"]


@dataclass(frozen=True)
class CatalogEntry:
    """One callable tool as the sandbox and search see it."""

    namespace: str
    tool: types.Tool
    signature: str

    @property
    def name(self) -> str:
        return f"{self.namespace}.{self.tool.name}"

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
        self._index = ToolIndex([])

    def _refresh(self) -> None:
        version, tools = self._source()
        if version == self._version:
            return
        entries = [CatalogEntry(t.namespace, t.tool, render_signature(t.namespace, t.tool)) for t in tools]
        server_texts = {t.namespace: t.instructions for t in tools}
        self._index = ToolIndex([_document(e, server_texts.get(e.namespace, "")) for e in entries])
        self._entries, self._version = entries, version
        self._by_name = {entry.name: entry for entry in entries}

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


def _document(entry: CatalogEntry, server_text: str = "") -> SearchDocument:
    """Search text of one tool; ``server_text`` is its server's ``instructions``, shared by its siblings."""
    properties = (entry.tool.input_schema or {}).get("properties") or {}
    return SearchDocument(entry.name, entry.tool.description or "", list(properties), server_text)
