"""Pure functions from Backstage's entity JSON to our compact shapes (models.py). No I/O.

Entity refs follow Backstage's `[kind:][namespace/]name`; we always hand them
back complete and lower-cased, `kind:namespace/name`, as the catalog writes
them in `relations[].targetRef`.
"""

from __future__ import annotations

from typing import Any

import yaml

from servers._toolkit import clip

from . import models as m

__all__ = [
    "api_definition",
    "detail",
    "missing_owner",
    "normalize",
    "owner",
    "parse_ref",
    "person",
    "ref",
    "ref_of",
    "related",
    "relations",
    "summary",
]

DESCRIPTION_CHARS = 200  # in summaries; get_entity gives the full description
SPEC_STRING_CHARS = 500  # any longer spec string is clipped in get_entity
_KIND_NAMES = {"api": "API"}


def parse_ref(
    text: str, default_kind: str | None, default_namespace: str = "default"
) -> tuple[str, str, str]:
    """`[kind:][namespace/]name` -> (kind, namespace, name), lower-case kind; ValueError if malformed."""
    value = str(text).strip()
    kind, _, rest = value.partition(":") if ":" in value else ("", "", value)
    namespace, _, name = rest.partition("/") if "/" in rest else ("", "", rest)
    kind, namespace = (kind or default_kind or "").lower(), namespace or default_namespace
    if not kind or not name or "/" in name or ":" in name or " " in value:
        raise ValueError(
            f"'{text}' is not an entity ref: write kind:namespace/name, e.g. component:default/orders-api "
            "(kind and namespace may be left out where a tool says so)"
        )
    return kind, namespace, name


def ref(kind: str, namespace: str, name: str) -> str:
    return f"{kind}:{namespace}/{name}".lower()


def ref_of(raw: dict[str, Any]) -> str:
    meta = raw.get("metadata") or {}
    return ref(raw["kind"], meta.get("namespace", "default"), meta["name"])


def normalize(value: Any, default_kind: str | None, namespace: str) -> str | None:
    """A spec field's short ref ("team-payments") as a full one ("group:default/team-payments")."""
    if not value:
        return None
    try:
        return ref(*parse_ref(str(value), default_kind, namespace))
    except ValueError:
        return None


def relations(raw: dict[str, Any] | None) -> dict[str, list[str]]:
    """`relations` grouped by type: {"ownedBy": ["group:default/team-payments"], ...}, targets sorted."""
    out: dict[str, list[str]] = {}
    for relation in (raw or {}).get("relations") or []:
        out.setdefault(relation["type"], []).append(relation["targetRef"])
    return {k: sorted(set(v)) for k, v in sorted(out.items())}


def _str(value: Any) -> str | None:
    return str(value) if value is not None else None


def summary(raw: dict[str, Any]) -> m.EntitySummary:
    meta, spec = raw.get("metadata") or {}, raw.get("spec") or {}
    namespace = meta.get("namespace", "default")
    return {
        "ref": ref_of(raw),
        "kind": raw["kind"],
        "name": meta["name"],
        "title": meta.get("title") or (spec.get("profile") or {}).get("displayName"),
        "description": clip(_str(meta.get("description")), DESCRIPTION_CHARS),
        "type": _str(spec.get("type")),
        "lifecycle": _str(spec.get("lifecycle")),
        "owner": normalize(spec.get("owner"), "group", namespace),
        "system": normalize(spec.get("system"), "system", namespace),
        "tags": [str(t) for t in meta.get("tags") or []],
    }


def _compact(value: Any) -> Any:
    if isinstance(value, str):
        return clip(_str(value), SPEC_STRING_CHARS)
    if isinstance(value, list):
        return [_compact(v) for v in value]
    if isinstance(value, dict):
        return {k: _compact(v) for k, v in value.items()}
    return value


def detail(raw: dict[str, Any]) -> m.Entity:
    meta, spec = raw.get("metadata") or {}, dict(raw.get("spec") or {})
    own = ref_of(raw)
    if "definition" in spec:
        size = len(_definition_text(spec["definition"]))
        spec["definition"] = f"[{size} chars: read it with get_api_definition(ref='{own}')]"
    rest = {k: _compact(v) for k, v in spec.items() if k not in ("type", "lifecycle", "owner", "system")}
    summary_ = summary(raw)
    return {
        **summary_,
        "description": meta.get("description"),
        "namespace": meta.get("namespace", "default"),
        "uid": meta.get("uid", ""),
        "annotations": {str(k): str(v) for k, v in (meta.get("annotations") or {}).items()},
        "links": [{"url": link["url"], "title": link.get("title")} for link in meta.get("links") or []],
        "spec": rest,
        "relations": relations(raw),
    }


def _kind_from(entity_ref: str) -> str:
    kind = entity_ref.partition(":")[0]
    return _KIND_NAMES.get(kind, kind.capitalize())


def _name_from(entity_ref: str) -> str:
    return entity_ref.rpartition("/")[2]


def person(entity_ref: str, raw: dict[str, Any] | None) -> m.Person:
    meta = (raw or {}).get("metadata") or {}
    profile = ((raw or {}).get("spec") or {}).get("profile") or {}
    return {
        "ref": entity_ref,
        "name": meta.get("name", _name_from(entity_ref)),
        "display_name": profile.get("displayName") or meta.get("title"),
        "email": profile.get("email"),
    }


def owner(entity_ref: str, raw: dict[str, Any], members: list[m.Person]) -> m.Owner:
    spec = raw.get("spec") or {}
    profile = spec.get("profile") or {}
    return {
        "entity_ref": entity_ref,
        "owner_ref": ref_of(raw),
        "in_catalog": True,
        "kind": raw["kind"],
        "name": raw["metadata"]["name"],
        "display_name": profile.get("displayName") or raw["metadata"].get("title"),
        "email": profile.get("email"),
        "type": _str(spec.get("type")) if raw["kind"].lower() == "group" else None,
        "parent": next(iter(relations(raw).get("childOf", [])), None),
        "members": members,
    }


def missing_owner(entity_ref: str, owner_ref: str) -> m.Owner:
    """The owner named in spec.owner is not (or no longer) in the catalog: say so, with its ref."""
    return {
        "entity_ref": entity_ref,
        "owner_ref": owner_ref,
        "in_catalog": False,
        "kind": _kind_from(owner_ref),
        "name": _name_from(owner_ref),
        "display_name": None,
        "email": None,
        "type": None,
        "parent": None,
        "members": [],
    }


def related(target: str, relation: str, via: str | None, raw: dict[str, Any] | None) -> m.Related:
    if raw is None:
        kind, name, title, type_, owner_, lifecycle = (
            _kind_from(target),
            _name_from(target),
            None,
            None,
            None,
            None,
        )
    else:
        brief = summary(raw)
        kind, name, title = brief["kind"], brief["name"], brief["title"]
        type_, owner_, lifecycle = brief["type"], brief["owner"], brief["lifecycle"]
    return {
        "ref": target,
        "relation": relation,
        "via": via,
        "in_catalog": raw is not None,
        "kind": kind,
        "name": name,
        "title": title,
        "type": type_,
        "owner": owner_,
        "lifecycle": lifecycle,
    }


def _definition_text(definition: Any) -> str:
    if isinstance(definition, str):
        return definition
    return yaml.safe_dump(definition, sort_keys=False) if definition is not None else ""


def api_definition(raw: dict[str, Any], start: int, max_chars: int) -> m.ApiDefinition:
    spec = raw.get("spec") or {}
    text = _definition_text(spec.get("definition"))
    chunk = text[start : start + max_chars]
    end = start + len(chunk)
    next_start = end if end < len(text) else None
    if next_start is not None:
        chunk += f"\n… [truncated: {len(text) - end} more chars; call again with start={end}]"
    brief, rels = summary(raw), relations(raw)
    return {
        "ref": brief["ref"],
        "title": brief["title"],
        "type": brief["type"],
        "lifecycle": brief["lifecycle"],
        "owner": brief["owner"],
        "provided_by": rels.get("apiProvidedBy", []),
        "consumed_by": rels.get("apiConsumedBy", []),
        "definition": chunk,
        "total_chars": len(text),
        "next_start": next_start,
    }
