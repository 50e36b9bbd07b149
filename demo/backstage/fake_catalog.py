"""The fake's catalog engine: read locations, process entities, compute relations, filter and sort.

It follows the real catalog backend where a client can see it:

- Locations: each registered location (a `url` or a `file`) gets a
  `location:default/generated-<sha1 of "type:target">` entity; a file's
  `kind: Location` entities pull in their `spec.target(s)`, relative to that
  file. Every entity gets `backstage.io/managed-by-location` and
  `backstage.io/managed-by-origin-location`, a `metadata.uid` and an `etag`.
- Relations, as `BuiltinKindsEntityProcessor` emits them: both directions of
  spec.owner, spec.dependsOn/dependencyOf, providesApis, consumesApis,
  memberOf/members, parent/children, system, subcomponentOf, domain; refs
  stringified lower-case as `kind:namespace/name`.
- The `search` table (`buildEntitySearch`): flattened lower-case keys and
  values, `relations.<type>` rows, values over 200 characters stored as null;
  filters match on it case-insensitively, facets count its original values.
- Conflicts: the first location to define a ref wins; later copies are errors.

Files on disk are re-read on each request (parsed YAML is cached by content),
so a catalog-info.yaml edited while the fake runs shows up at once, as it would
after the real catalog's next refresh.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import yaml

from .fake_data import FILES, ROOT_LOCATION

__all__ = [
    "Catalog",
    "Location",
    "entity_ref",
    "matches",
    "parse_filter",
    "parse_ref",
    "search_rows",
    "select_fields",
    "sort_value",
    "text_matches",
]

MAX_VALUE_LENGTH = 200  # longer values are stored as null in the search table, so never match
_NAME = re.compile(r"^[a-zA-Z0-9]+([-_.][a-zA-Z0-9]+)*$")
_UID_NAMESPACE = uuid.UUID("6f1c2a4e-9b7d-4c8e-a1f0-3d5e7b9c2a10")

# kind -> (spec field, default target kind or None, outgoing relation, incoming relation)
_RELATION_RULES: dict[str, list[tuple[str, str | None, str, str]]] = {
    "component": [
        ("owner", "group", "ownedBy", "ownerOf"),
        ("subcomponentOf", "component", "partOf", "hasPart"),
        ("providesApis", "api", "providesApi", "apiProvidedBy"),
        ("consumesApis", "api", "consumesApi", "apiConsumedBy"),
        ("dependsOn", None, "dependsOn", "dependencyOf"),
        ("dependencyOf", None, "dependencyOf", "dependsOn"),
        ("system", "system", "partOf", "hasPart"),
    ],
    "api": [("owner", "group", "ownedBy", "ownerOf"), ("system", "system", "partOf", "hasPart")],
    "resource": [
        ("owner", "group", "ownedBy", "ownerOf"),
        ("dependsOn", None, "dependsOn", "dependencyOf"),
        ("dependencyOf", None, "dependencyOf", "dependsOn"),
        ("system", "system", "partOf", "hasPart"),
    ],
    "user": [("memberOf", "group", "memberOf", "hasMember")],
    "group": [
        ("parent", "group", "childOf", "parentOf"),
        ("children", "group", "parentOf", "childOf"),
        ("members", "user", "hasMember", "memberOf"),
    ],
    "system": [("owner", "group", "ownedBy", "ownerOf"), ("domain", "domain", "partOf", "hasPart")],
    "domain": [("owner", "group", "ownedBy", "ownerOf"), ("subdomainOf", "domain", "partOf", "hasPart")],
    "template": [("owner", "group", "ownedBy", "ownerOf")],
}


def parse_ref(ref: str, default_kind: str | None, default_namespace: str) -> tuple[str, str, str]:
    """`[kind:][namespace/]name` -> (kind, namespace, name); ValueError when the kind is unknowable."""
    given_kind, _, rest = ref.partition(":") if ":" in ref else ("", "", ref)
    given_namespace, _, name = rest.partition("/") if "/" in rest else ("", "", rest)
    kind, namespace = given_kind or default_kind, given_namespace or default_namespace
    if not kind or not name:
        raise ValueError(
            f"Entity reference '{ref}' had missing or empty kind (e.g. did not start with 'component:')"
        )
    return kind, namespace, name


def entity_ref(kind: str, namespace: str, name: str) -> str:
    return f"{kind}:{namespace}/{name}".lower()


def ref_of(entity: dict[str, Any]) -> str:
    meta = entity["metadata"]
    return entity_ref(entity["kind"], meta.get("namespace", "default"), meta["name"])


def search_rows(entity: dict[str, Any]) -> list[tuple[str, str | None, str | None]]:
    """(key, lower-cased value or None, original value) rows, as the catalog's `search` table holds them."""
    rows: list[tuple[str, Any]] = []
    special = {"attachments", "relations", "status", "metadata.name", "metadata.namespace", "metadata.uid"}

    def visit(path: str, value: Any) -> None:
        if path in special:
            return
        if value is None or isinstance(value, str | int | float | bool):
            rows.append((path, value))
        elif isinstance(value, list):
            for item in value:
                visit(path, item)
                if isinstance(item, str):
                    rows.append((f"{path}.{item}", True))
        elif isinstance(value, dict):
            for key, inner in value.items():
                visit(f"{path}.{key}" if path else str(key), inner)

    visit("", entity)
    meta = entity["metadata"]
    rows += [("metadata.name", meta["name"]), ("metadata.namespace", meta.get("namespace", "default"))]
    rows += [("metadata.uid", meta.get("uid"))]
    rows += [(f"relations.{r['type']}", r["targetRef"]) for r in entity.get("relations", [])]
    out: list[tuple[str, str | None, str | None]] = []
    for key, value in rows:
        if value is None:
            continue
        original = str(value).lower() if isinstance(value, bool) else str(value)
        text = original.lower()
        out.append((key.lower(), text if len(text) <= MAX_VALUE_LENGTH else None, original))
    return out


@dataclass(frozen=True)
class Location:
    type: str  # "url" or "file"
    target: str

    @property
    def id(self) -> str:
        return str(uuid.uuid5(_UID_NAMESPACE, f"location:{self.type}:{self.target}"))

    @property
    def ref(self) -> str:
        return f"{self.type}:{self.target}"


@dataclass
class _Build:
    entities: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    visited: set[str] = field(default_factory=set)


class Catalog:
    """The entities reachable from the registered locations; rebuilt on each `snapshot()`."""

    def __init__(self, discover: Callable[[], list[Path]], seed: dict[str, str] | None = None) -> None:
        self._discover = discover
        self._seed = dict(FILES if seed is None else seed)
        self.added: list[Location] = []  # registered through POST /locations: persists for this fake
        self._yaml_cache: dict[str, list[Any] | str] = {}
        self._lock = threading.Lock()
        self.errors: list[str] = []

    def locations(self) -> list[Location]:
        found = [Location("url", ROOT_LOCATION)] if ROOT_LOCATION in self._seed else []
        found += [Location("file", str(p)) for p in self._discover()]
        return found + [loc for loc in self.added if loc not in found]

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """ref -> finished entity (with uid, etag and relations), from the locations' current contents."""
        with self._lock:
            build = _Build()
            for location in self.locations():
                self._add(build, _location_entity(location), location, location)
                self._read(build, location, location)
            _stitch(build)
            self.errors = build.errors
            return build.entities

    def read_only(self, location: Location) -> list[dict[str, Any]]:
        """What a dry run would find at a location, without registering it."""
        with self._lock:
            build = _Build()
            self._read(build, location, location)
            return list(build.entities.values())

    def _read(self, build: _Build, location: Location, origin: Location) -> None:
        if location.ref in build.visited:
            return
        build.visited.add(location.ref)
        docs = self._documents(build, location)
        for doc in docs:
            if not _valid(build, doc, location):
                continue
            entity = self._add(build, doc, location, origin)
            if entity and entity["kind"].lower() == "location":
                for target in _targets(entity, location):
                    self._read(build, target, origin)

    def _documents(self, build: _Build, location: Location) -> list[Any]:
        text = self._text(build, location)
        if text is None:
            return []
        if text not in self._yaml_cache:
            try:
                self._yaml_cache[text] = [d for d in yaml.safe_load_all(text) if d is not None]
            except yaml.YAMLError as exc:
                self._yaml_cache[text] = f"YAML error at {location.ref}: {str(exc).splitlines()[0]}"
        parsed = self._yaml_cache[text]
        if isinstance(parsed, str):
            build.errors.append(parsed)
            return []
        return parsed

    def _text(self, build: _Build, location: Location) -> str | None:
        if location.type == "url":
            text = self._seed.get(location.target)
            if text is None:
                build.errors.append(f"NotFoundError: Unable to read url, {location.target}")
            return text
        path = Path(location.target)
        try:
            return path.read_text(encoding="utf-8")
        except OSError:
            build.errors.append(f"NotFoundError: {location.target} does not exist")
            return None

    def _add(
        self, build: _Build, doc: dict[str, Any], location: Location, origin: Location
    ) -> dict[str, Any] | None:
        entity = copy.deepcopy(doc)
        meta = entity["metadata"]
        meta.setdefault("namespace", "default")
        annotations = meta.setdefault("annotations", {})
        annotations.setdefault("backstage.io/managed-by-location", location.ref)
        annotations.setdefault("backstage.io/managed-by-origin-location", origin.ref)
        ref = ref_of(entity)
        if ref in build.entities:
            build.errors.append(f"ConflictError: {ref} from {location.ref} is already defined elsewhere")
            return None
        build.entities[ref] = entity
        return entity


def _location_entity(location: Location) -> dict[str, Any]:
    digest = hashlib.sha1(location.ref.encode()).hexdigest()
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Location",
        "metadata": {
            "name": f"generated-{digest}",
            "namespace": "default",
            "annotations": {
                "backstage.io/managed-by-location": "bootstrap:bootstrap",
                "backstage.io/managed-by-origin-location": "bootstrap:bootstrap",
            },
        },
        "spec": {"type": location.type, "target": location.target},
    }


def _valid(build: _Build, doc: Any, location: Location) -> bool:
    ok = (
        isinstance(doc, dict)
        and isinstance(doc.get("apiVersion"), str)
        and isinstance(doc.get("kind"), str)
        and isinstance(doc.get("metadata"), dict)
        and isinstance(doc["metadata"].get("name"), str)
        and bool(_NAME.match(doc["metadata"]["name"]))
        and isinstance(doc.get("spec", {}), dict)
    )
    if not ok:
        build.errors.append(f"InputError: Policy check failed for an entity in {location.ref}")
    return ok


def _targets(entity: dict[str, Any], parent: Location) -> Iterable[Location]:
    spec = entity.get("spec") or {}
    kind = spec.get("type") or parent.type
    raw = ([spec["target"]] if spec.get("target") else []) + list(spec.get("targets") or [])
    for target in raw:
        if kind == "file" and parent.type == "file":
            yield Location("file", str((Path(parent.target).parent / target).resolve()))
        elif kind == "url":
            yield Location("url", urljoin(parent.target, target))
        else:
            yield Location(kind, target)


def _stitch(build: _Build) -> None:
    """Emit relations from every entity's spec, then give each entity its own, its uid and etag."""
    edges: set[tuple[str, str, str]] = set()
    for ref, entity in build.entities.items():
        namespace = entity["metadata"]["namespace"]
        spec = entity.get("spec") or {}
        for spec_field, default_kind, outgoing, incoming in _RELATION_RULES.get(entity["kind"].lower(), []):
            values = spec.get(spec_field)
            for value in values if isinstance(values, list) else [values] if values else []:
                try:
                    target = entity_ref(*parse_ref(str(value), default_kind, namespace))
                except ValueError as exc:
                    build.errors.append(f"InputError: {ref}: {exc}")
                    continue
                edges |= {(ref, outgoing, target), (target, incoming, ref)}
    by_source: dict[str, list[dict[str, str]]] = {}
    for source, kind, target in sorted(edges):
        by_source.setdefault(source, []).append({"type": kind, "targetRef": target})
    for ref, entity in build.entities.items():
        entity["relations"] = by_source.get(ref, [])
        meta = entity["metadata"]
        meta["uid"] = str(uuid.uuid5(_UID_NAMESPACE, ref))
        body = json.dumps(entity, sort_keys=True).encode()
        meta["etag"] = hashlib.sha1(body).hexdigest()[:32]


# --- queries ----------------------------------------------------------------


def parse_filter(strings: list[str]) -> dict[str, Any] | None:
    """`filter` query values -> {"anyOf": [{"allOf": [{"key", "values"?}]}]}, as parseEntityFilterParams.

    Each `filter` parameter is one alternative; within one, `a=b,c=d` must all match, a key given
    twice matches either value, and a bare key (`a`) means "has this field". ValueError on `=b`.
    """
    alternatives = []
    for string in strings:
        by_key: dict[str, dict[str, Any]] = {}
        for statement in (s.strip() for s in string.split(",")):
            if not statement:
                continue
            key, eq, value = (part.strip() for part in statement.partition("="))
            if not key:
                raise ValueError(
                    f"Invalid filter, '{statement}' is not a valid statement "
                    "(expected a string on the form a=b or a= or a)"
                )
            entry = by_key.setdefault(key, {"key": key})
            if eq:
                entry.setdefault("values", []).append(value)
        if by_key:
            alternatives.append({"allOf": list(by_key.values())})
    return {"anyOf": alternatives} if alternatives else None


def matches(rows: list[tuple[str, str | None, str | None]], entity_filter: dict[str, Any] | None) -> bool:
    if entity_filter is None:
        return True
    if "anyOf" in entity_filter:
        return any(matches(rows, f) for f in entity_filter["anyOf"])
    if "allOf" in entity_filter:
        return all(matches(rows, f) for f in entity_filter["allOf"])
    if "not" in entity_filter:
        return not matches(rows, entity_filter["not"])
    key = entity_filter["key"].lower()
    values = entity_filter.get("values")
    if values is None:
        return any(k == key for k, _, _ in rows)
    wanted = {v.lower() for v in values}
    return any(k == key and v in wanted for k, v, _ in rows)


def text_matches(rows: list[tuple[str, str | None, str | None]], term: str, fields: list[str]) -> bool:
    keys = {f.lower() for f in fields}
    needle = term.strip().lower()
    return any(k in keys and v is not None and needle in v for k, v, _ in rows)


def sort_value(rows: list[tuple[str, str | None, str | None]], field_name: str) -> str | None:
    values = [v for k, v, _ in rows if k == field_name.lower() and v is not None]
    return min(values) if values else None


def select_fields(entity: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    """Only the given dot-paths of an entity (`fields=kind,metadata.name`), as parseEntityTransformParams."""
    if not fields:
        return entity
    out: dict[str, Any] = {}
    for path in fields:
        source: Any = entity
        parts = path.split(".")
        for part in parts:
            source = source.get(part) if isinstance(source, dict) else None
        if source is None:
            continue
        target = out
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = copy.deepcopy(source)
    return out
