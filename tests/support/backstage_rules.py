"""Backstage's catalog entity rules (the schemas of @backstage/catalog-model), as a checker.

Covers what the catalog enforces on ingestion: apiVersion, kind, the name,
namespace, tag, label and annotation formats, each kind's required spec
fields and their types, and the entity-reference format.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

API_VERSIONS = {"backstage.io/v1alpha1", "backstage.io/v1beta1"}
NAME = re.compile(r"^[a-zA-Z0-9]([-_.a-zA-Z0-9]*[a-zA-Z0-9])?$")  # at most 63 characters
NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
TAG = re.compile(r"^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$")
KEY_PREFIX = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
ENTITY_REF = re.compile(
    r"^(?:([a-zA-Z][a-zA-Z0-9]*):)?(?:([a-z0-9]([-a-z0-9]*[a-z0-9])?)/)?([a-zA-Z0-9][-_.a-zA-Z0-9]*)$"
)

# kind -> (required string fields, optional string fields, optional list-of-string fields, reference fields)
SPECS: dict[str, tuple[set[str], set[str], set[str], set[str]]] = {
    "Component": (
        {"type", "lifecycle", "owner"},
        {"system", "subcomponentOf"},
        {"providesApis", "consumesApis", "dependsOn", "dependencyOf"},
        {"owner", "system", "subcomponentOf", "providesApis", "consumesApis", "dependsOn"},
    ),
    "API": ({"type", "lifecycle", "owner", "definition"}, {"system"}, set(), {"owner", "system"}),
    "System": ({"owner"}, {"domain", "type"}, set(), {"owner", "domain"}),
    "Domain": ({"owner"}, {"subdomainOf", "type"}, set(), {"owner"}),
    "Resource": (
        {"type", "owner"},
        {"system"},
        {"dependsOn", "dependencyOf"},
        {"owner", "system", "dependsOn"},
    ),
    "Group": ({"type"}, {"parent"}, {"children", "members"}, {"parent", "children", "members"}),
    "User": (set(), set(), {"memberOf"}, {"memberOf"}),
    "Location": (set(), {"type", "target", "presence"}, {"targets"}, set()),
    "Template": ({"type"}, {"owner"}, set(), {"owner"}),
}


def _name_problems(where: str, value: Any) -> list[str]:
    if not isinstance(value, str) or len(value) > 63 or not NAME.match(value):
        return [f"{where}: {value!r} is not a valid name (letters, digits, -_. ; at most 63)"]
    return []


def _key_problems(where: str, key: Any) -> list[str]:
    if not isinstance(key, str):
        return [f"{where}: key {key!r} is not a string"]
    prefix, _, name = key.rpartition("/")
    if (prefix and (len(prefix) > 253 or not KEY_PREFIX.match(prefix))) or _name_problems(where, name):
        return [f"{where}: key {key!r} is not a valid [prefix/]name"]
    return []


def _metadata_problems(where: str, metadata: Any) -> list[str]:
    if not isinstance(metadata, dict):
        return [f"{where}.metadata: required mapping"]
    problems = _name_problems(f"{where}.metadata.name", metadata.get("name"))
    if "namespace" in metadata and not NAMESPACE.match(str(metadata["namespace"])):
        problems.append(f"{where}.metadata.namespace: invalid {metadata['namespace']!r}")
    for field in ("title", "description"):
        if field in metadata and not isinstance(metadata[field], str):
            problems.append(f"{where}.metadata.{field}: must be a string")
    for tag in metadata.get("tags", []) or []:
        if not isinstance(tag, str) or len(tag) > 63 or not TAG.match(tag):
            problems.append(f"{where}.metadata.tags: invalid tag {tag!r}")
    for field in ("labels", "annotations"):
        values = metadata.get(field, {}) or {}
        if not isinstance(values, dict):
            problems.append(f"{where}.metadata.{field}: must be a mapping")
            continue
        for key, value in values.items():
            problems += _key_problems(f"{where}.metadata.{field}", key)
            if not isinstance(value, str):
                problems.append(f"{where}.metadata.{field}.{key}: value must be a string")
    return problems


def _spec_problems(where: str, kind: str, spec: Any) -> list[str]:
    if not isinstance(spec, dict):
        return [f"{where}.spec: required mapping"]
    required, optional, lists, references = SPECS[kind]
    problems = []
    for field in required:
        if not isinstance(spec.get(field), str) or not spec[field]:
            problems.append(f"{where}.spec.{field}: required non-empty string")
    for field in optional:
        if field in spec and not isinstance(spec[field], str):
            problems.append(f"{where}.spec.{field}: must be a string")
    for field in lists:
        if field in spec and not (
            isinstance(spec[field], list) and all(isinstance(v, str) for v in spec[field])
        ):
            problems.append(f"{where}.spec.{field}: must be a list of strings")
    for field in references:
        values = spec.get(field)
        for ref in values if isinstance(values, list) else [values] if values is not None else []:
            if not isinstance(ref, str) or not ENTITY_REF.match(ref):
                problems.append(
                    f"{where}.spec.{field}: {ref!r} is not an entity reference [kind:][namespace/]name"
                )
    if kind == "Location" and "target" not in spec and "targets" not in spec:
        problems.append(f"{where}.spec: a Location needs target or targets")
    return problems


def validate_entities(entities: Iterable[Any]) -> list[str]:
    """Every rule an entity breaks, as readable lines; an empty list when all are valid."""
    problems: list[str] = []
    for index, entity in enumerate(entities):
        where = f"entity[{index}]"
        if not isinstance(entity, dict):
            problems.append(f"{where}: not a mapping")
            continue
        if entity.get("apiVersion") not in API_VERSIONS:
            problems.append(f"{where}.apiVersion: {entity.get('apiVersion')!r} is not a backstage.io version")
        kind = entity.get("kind")
        if kind not in SPECS:
            problems.append(f"{where}.kind: unknown kind {kind!r}")
            continue
        problems += _metadata_problems(where, entity.get("metadata"))
        problems += _spec_problems(where, kind, entity.get("spec"))
    return problems
