"""Result shapes learned from calls, for upstream tools that publish no ``outputSchema``.

Most third-party MCP servers declare no result type, so search could only say
``-> Any``. After each successful call of such a tool the portal describes the
value as a JSON Schema fragment (key names and type names, never values),
keeps the last few distinct descriptions per tool, and merges them on read: a
key seen in only some results is optional. Search shows the merged shape
marked as observed. Descriptions persist in the store (table
``observed_shapes``) so a restarted portal still knows them.

Privacy: a description holds property names and JSON type names only. An
object whose keys do not all look like field names (an e-mail address, a path,
a URL, more than `MAX_KEYS` keys), or whose values are all objects of one shape
(``{"ann": {...}, "bob": {...}}``), is recorded as a map: the type of its
values, without its keys, because such keys are data, not a schema.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.shapes import ResultShape, result_shape
from portal.store import Store
from portal.store.observed_shapes import ObservedShapeRow

if TYPE_CHECKING:
    from portal.catalog import CatalogEntry

__all__ = ["ShapeObserver", "describe", "merge", "observer_for", "recorded"]

logger = logging.getLogger(__name__)

MAX_SAMPLES = 8  # recent distinct shapes kept per tool, merged when shown
MAX_KEYS = 40  # an object with more keys is a map keyed by data
MAX_DEPTH = 4  # deeper values are recorded as their JSON type alone
MAX_NODES = 400  # schema nodes per description, so one result cannot make a huge row
MAX_ITEMS = 20  # list items looked at per list
MAX_TOOLS = 5_000  # tools remembered per portal process
_FIELD_NAME = re.compile(r"[A-Za-z_$@][A-Za-z0-9_-]{0,63}")  # no dots, slashes, spaces: those are data
_MAP: dict[str, Any] = {"type": "object", "additionalProperties": True}
_MAP_MIN_KEYS = 3  # this many keys whose values are objects of one shape: a map keyed by data (user names)


def describe(value: Any) -> dict[str, Any]:
    """A JSON Schema fragment of ``value``: types and field names, never a value."""
    return _Describer().describe(value, 0)


class _Describer:
    def __init__(self) -> None:
        self.nodes = 0

    def describe(self, value: Any, depth: int) -> dict[str, Any]:
        self.nodes += 1
        if value is None:
            return {"type": "null"}
        if isinstance(value, bool):
            return {"type": "boolean"}
        if isinstance(value, int):
            return {"type": "integer"}
        if isinstance(value, float):
            return {"type": "number"}
        if isinstance(value, str):
            return {"type": "string"}
        if isinstance(value, list | tuple):
            if depth >= MAX_DEPTH or self.nodes >= MAX_NODES or not value:
                return {"type": "array"}
            items = [self.describe(item, depth + 1) for item in list(value)[:MAX_ITEMS]]
            merged = items[0]
            for item in items[1:]:
                merged = merge(merged, item)
            return {"type": "array", "items": merged}
        if isinstance(value, Mapping):
            return self._object(value, depth)
        return {}

    def _object(self, value: Mapping[Any, Any], depth: int) -> dict[str, Any]:
        keys = list(value)
        if depth >= MAX_DEPTH or self.nodes >= MAX_NODES:
            return {"type": "object"}
        if len(keys) > MAX_KEYS or not all(isinstance(k, str) and _FIELD_NAME.fullmatch(k) for k in keys):
            return self._map([value[k] for k in keys[:MAX_ITEMS]], depth)
        properties = {key: self.describe(value[key], depth + 1) for key in keys}
        values = list(properties.values())
        if (
            len(values) >= _MAP_MIN_KEYS
            and values[0].get("type") == "object"
            and values.count(values[0]) == len(values)
        ):
            return self._map([value[k] for k in keys[:MAX_ITEMS]], depth)  # {"ann": {...}, "bob": {...}}
        return {"type": "object", "properties": properties, "required": sorted(keys)}

    def _map(self, values: list[Any], depth: int) -> dict[str, Any]:
        """An object keyed by data: its value type is kept, its keys are not."""
        if not values:
            return dict(_MAP)
        merged = self.describe(values[0], depth + 1)
        for item in values[1:]:
            merged = merge(merged, self.describe(item, depth + 1))
        return {"type": "object", "additionalProperties": merged}


def merge(left: Mapping[str, Any], right: Mapping[str, Any]) -> dict[str, Any]:
    """One schema both values fit: a union of types, objects merged key by key."""
    variants: dict[str, dict[str, Any]] = {}
    for variant in [*_variants(left), *_variants(right)]:
        kind = str(variant.get("type", "any"))
        variants[kind] = _merge_same(variants[kind], variant) if kind in variants else dict(variant)
    if "any" in variants:  # anything merged with "unknown" is unknown
        return {}
    parts = sorted(variants.values(), key=lambda v: v.get("type") == "null")  # None last
    return parts[0] if len(parts) == 1 else {"anyOf": parts}


def _variants(schema: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    parts = schema.get("anyOf")
    return [p for p in parts if isinstance(p, Mapping)] if isinstance(parts, list) else [schema]


def _merge_same(left: Mapping[str, Any], right: Mapping[str, Any]) -> dict[str, Any]:
    if left.get("type") == "array":
        if "items" in left and "items" in right:
            return {"type": "array", "items": merge(left["items"], right["items"])}
        return dict(left if "items" in left else right)
    if left.get("type") != "object":
        return dict(left)
    mine_extra, their_extra = left.get("additionalProperties"), right.get("additionalProperties")
    if isinstance(mine_extra, Mapping) and isinstance(their_extra, Mapping):  # two maps: merge their values
        return {"type": "object", "additionalProperties": merge(mine_extra, their_extra)}
    if mine_extra or their_extra:
        return dict(_MAP)
    mine, theirs = left.get("properties") or {}, right.get("properties") or {}
    keys = list(mine) + [key for key in theirs if key not in mine]
    if len(keys) > MAX_KEYS:
        return dict(_MAP)
    properties = {
        key: merge(mine[key], theirs[key])
        if key in mine and key in theirs
        else dict(mine.get(key) or theirs[key])
        for key in keys
    }
    # a key missing from one of the two is optional
    required = sorted(set(left.get("required") or []) & set(right.get("required") or []))
    return {"type": "object", "properties": properties, "required": required}


def merged(samples: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not samples:
        return None
    schema = samples[0]
    for sample in samples[1:]:
        schema = merge(schema, sample)
    return schema


class ShapeObserver:
    """The observed shapes of one portal's tools, in memory, persisted when a store is attached."""

    def __init__(self) -> None:
        self._samples: dict[str, list[dict[str, Any]]] = {}
        self._counts: dict[str, int] = {}
        self._shapes: dict[str, ResultShape] = {}  # cache of merged, rendered shapes
        self._store: Store | None = None

    def attach(self, store: Store) -> None:
        """Load what earlier runs learned, and persist from now on."""
        with store.session() as session:
            rows = session.scalars(select(ObservedShapeRow).limit(MAX_TOOLS)).all()
            for row in rows:
                samples = [s for s in row.samples if isinstance(s, dict)][-MAX_SAMPLES:]
                if samples:
                    self._samples[row.tool] = samples
                    self._counts[row.tool] = row.observations
        self._shapes.clear()
        self._store = store

    def result(self, entry: CatalogEntry) -> ResultShape | None:
        """The observed result of ``entry``, or None if no successful call was seen."""
        key = _key(entry)
        if key not in self._shapes:
            schema = merged(self._samples.get(key, []))
            if schema is None:
                return None
            if schema.get("type") != "object":  # wrapped like the SDK's non-object results
                schema = {"type": "object", "properties": {"result": schema}, "required": ["result"]}
            self._shapes[key] = result_shape(entry.tool.name, schema, observed=True)
        return self._shapes[key]

    def observations(self, entry: CatalogEntry) -> int:
        return self._counts.get(_key(entry), 0)

    async def record(self, entry: CatalogEntry, value: Any) -> None:
        """Learn from one successful call; writes only when the tool shows a shape not seen lately."""
        if entry.tool.output_schema:  # the tool states its result type: nothing to learn
            return
        key = _key(entry)
        if key not in self._samples and len(self._samples) >= MAX_TOOLS:
            return
        shape = describe(value)
        self._counts[key] = self._counts.get(key, 0) + 1
        samples = self._samples.get(key, [])
        if shape in samples:  # seen lately: keep it among the recent ones, nothing to write
            self._samples[key] = [s for s in samples if s != shape] + [shape]
            return
        samples = [*samples, shape][-MAX_SAMPLES:]
        self._samples[key] = samples
        self._shapes.pop(key, None)
        if self._store is not None:
            count = self._counts[key]
            try:
                await self._store.call(lambda session: _save(session, key, samples, count))
            except Exception:  # learning is best effort: a failed write never fails the call
                logger.warning("could not save the observed shape of %s", key, exc_info=True)


def _key(entry: CatalogEntry) -> str:
    return f"{entry.namespace}.{entry.tool.name}"[:200]


def _save(session: Session, key: str, samples: list[dict[str, Any]], count: int) -> None:
    row = session.get(ObservedShapeRow, key)
    now = datetime.now(UTC)
    if row is None:
        session.add(ObservedShapeRow(tool=key, samples=samples, observations=count, updated_at=now))
    else:
        row.samples, row.observations, row.updated_at = samples, max(count, row.observations), now


_observers: WeakKeyDictionary[object, ShapeObserver] = WeakKeyDictionary()


def observer_for(owner: object) -> ShapeObserver:
    """The observer of one portal, keyed by its registry (so tests' portals never share one)."""
    observer = _observers.get(owner)
    if observer is None:
        observer = _observers[owner] = ShapeObserver()
    return observer


async def recorded(owner: object, entry: CatalogEntry, value: Any) -> Any:
    """``value``, after learning its shape for ``entry``: what `portal.bridge` returns to the code."""
    await observer_for(owner).record(entry, value)
    return value
