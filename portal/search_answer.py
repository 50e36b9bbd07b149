"""The text ``portal_codemode_search`` answers: signatures with named result shapes, or one whole contract.

Brief (the default): one signature per hit, best first, then each result shape
once for the whole answer (``Project = {id: int, path: str, ...}``), bounded
(`portal.shapes`). Full (an exact tool name, or ``detail="full"``): per tool,
every parameter with its description, enum values and default, the whole
result shape, the annotations, and an example call.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from portal.catalog import CatalogEntry
from portal.observed_shapes import ShapeObserver
from portal.search import tokenize
from portal.shapes import ResultShape, answer_shapes, result_shape
from portal.signatures import schema_type

__all__ = ["MAX_FULL_DETAIL", "brief_answer", "full_contract", "result_of"]

MAX_FULL_DETAIL = 5  # whole contracts per answer: each can be a few hundred tokens
MAX_DESCRIPTION_CHARS = 4_000
MAX_CONTRACT_FIELDS = 100  # per shape in a contract: "whole", but an upstream's schema cannot flood it
MAX_PARAMETER_DOC_CHARS = 300
OBSERVED_NOTE = "observed"
_ANNOTATIONS = (
    ("readOnlyHint", "read-only", "writes"),
    ("destructiveHint", "destructive", "not destructive"),
    ("idempotentHint", "idempotent", "not idempotent"),
    ("openWorldHint", "open world", "closed world"),
)
_PLACEHOLDERS = {"integer": "1", "number": "1.0", "boolean": "True", "array": "[]", "object": "{}"}
_FORMATS = {"date-time": '"2026-01-01T00:00:00Z"', "date": '"2026-01-01"', "email": '"someone@example.com"'}
_cache: dict[int, tuple[Any, ResultShape]] = {}


def result_of(entry: CatalogEntry, observer: ShapeObserver | None) -> ResultShape | None:
    """The declared result shape, else the observed one, else None."""
    schema = entry.tool.output_schema
    if schema:
        cached = _cache.get(id(schema))
        if cached is None or cached[0] is not schema:  # keyed by identity: schemas are not hashable
            if len(_cache) > 4_096:
                _cache.clear()
            cached = _cache[id(schema)] = (schema, result_shape(entry.tool.name, schema))
        return cached[1]
    return observer.result(entry) if observer is not None else None


def brief_answer(
    entries: Sequence[CatalogEntry], query: str, observer: ShapeObserver | None
) -> tuple[list[str], list[str]]:
    """(signature lines, shape lines) for the hits, shapes deduplicated across them."""
    results = [(entry, result_of(entry, observer)) for entry in entries]
    shaped = [(entry.namespace, result) for entry, result in results if result is not None]
    shapes = answer_shapes(shaped, prefer=_prefer(query))
    annotations = iter(shapes.annotations)
    lines = [
        entry.signature if result is None else _with_result(entry, result, next(annotations))
        for entry, result in results
    ]
    return lines, shapes.lines


def _prefer(query: str) -> Callable[[str], bool]:
    """Fields whose words the query uses are kept first when a shape is cut."""
    terms = set(tokenize(query))
    return lambda field: bool(terms) and bool(terms & set(tokenize(field.replace("_", " "))))


def _with_result(entry: CatalogEntry, result: ResultShape, annotation: str) -> str:
    """``entry.signature`` with its return type named as this answer names it."""
    declared = result_of(entry, None)
    current = declared.annotation if declared is not None else "Any"
    signature = entry.signature
    marker = f") -> {current}"
    at = _return_position(signature, marker)
    if at < 0:
        return signature
    head, tail = signature[:at], signature[at + len(marker) :]
    if result.observed:
        tail = f"  # {OBSERVED_NOTE}; {tail[4:]}" if tail.startswith("  # ") else f"  # {OBSERVED_NOTE}"
    return f"{head}) -> {annotation}{tail}"


def _return_position(signature: str, marker: str) -> int:
    """Where the return annotation starts: the occurrence followed by the doc or the end."""
    at = signature.find(marker)
    while at >= 0:
        rest = signature[at + len(marker) :]
        if rest == "" or rest.startswith("  # "):
            return at
        at = signature.find(marker, at + 1)
    return -1


def full_contract(entry: CatalogEntry, observer: ShapeObserver | None) -> str:
    """Everything a model needs to call ``entry`` right the first time."""
    result = result_of(entry, observer)
    signature = entry.signature if result is None else _with_result(entry, result, result.annotation)
    lines = [signature]
    description = _description(entry.tool.description)
    if description:
        lines += ["Description:", *(f"  {line}" for line in description.splitlines())]
    lines += ["Parameters:", *(_parameter_lines(entry) or ["  (none)"])]
    lines.append(
        "Returns: " + (result.annotation if result else "Any (no result type declared or observed yet)")
    )
    if result is not None:
        if result.observed and observer is not None:
            lines.append(f"  (shape observed from {observer.observations(entry)} successful calls)")
        lines += [f"  {shape.render(max_fields=MAX_CONTRACT_FIELDS)}" for shape in result.shapes]
    lines.append("Annotations: " + _annotations(entry.annotations()))
    lines += ["Example:", f"  {_example(entry)}"]
    return "\n".join(lines)


def _description(text: str | None) -> str:
    paragraphs = [" ".join(p.split()) for p in (text or "").strip().split("\n\n")]
    joined = "\n".join(p for p in paragraphs if p)
    if len(joined) > MAX_DESCRIPTION_CHARS:
        joined = joined[:MAX_DESCRIPTION_CHARS].rstrip() + "…"
    return joined


def _parameters(entry: CatalogEntry) -> tuple[Mapping[str, Any], set[str], Mapping[str, Any]]:
    schema = entry.tool.input_schema or {}
    properties = schema.get("properties")
    required = schema.get("required")
    defs = schema.get("$defs")
    return (
        properties if isinstance(properties, Mapping) else {},
        {str(r) for r in required} if isinstance(required, list) else set(),
        defs if isinstance(defs, Mapping) else {},
    )


def _keyword(entry: CatalogEntry, original: str) -> str:
    try:
        return entry.parameters.python(original)
    except KeyError:
        return original


def _parameter_lines(entry: CatalogEntry) -> list[str]:
    properties, required, defs = _parameters(entry)
    lines = []
    for name, prop in properties.items():
        prop = prop if isinstance(prop, Mapping) else {}
        head = f"  {_keyword(entry, str(name))}: {schema_type(prop, defs)}"
        if name in required:
            head += " (required)"
        elif "default" in prop:
            head += f" = {_python(prop['default'])}"
        else:
            head += " (optional)"
        notes = []
        doc = " ".join(str(prop.get("description") or "").split())
        if doc:
            notes.append(doc[:MAX_PARAMETER_DOC_CHARS] + ("…" if len(doc) > MAX_PARAMETER_DOC_CHARS else ""))
        values = _enum(prop, defs)
        if values:
            notes.append("one of: " + ", ".join(_python(v) for v in values[:50]))
        lines.append(head + (f" - {'; '.join(notes)}" if notes else ""))
    return lines


def _python(value: Any) -> str:
    """A JSON value as Python source: ``null`` -> ``None``, ``true`` -> ``True``."""
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_python(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {_python(v)}" for k, v in value.items()) + "}"
    return json.dumps(str(value), ensure_ascii=False)


def _enum(prop: Mapping[str, Any], defs: Mapping[str, Any]) -> list[Any]:
    """Enum values of a parameter, through ``$ref`` and ``anyOf`` (``X | None``)."""
    ref = prop.get("$ref")
    if isinstance(ref, str):
        target = defs.get(ref.rsplit("/", 1)[-1])
        return _enum(target, defs) if isinstance(target, Mapping) else []
    if isinstance(prop.get("enum"), list):
        return list(prop["enum"])
    for key in ("anyOf", "oneOf"):
        for part in prop.get(key) or []:
            if isinstance(part, Mapping) and _enum(part, defs):
                return _enum(part, defs)
    if isinstance(prop.get("items"), Mapping):
        return _enum(prop["items"], defs)
    return []


def _annotations(annotations: Mapping[str, Any]) -> str:
    said = [yes if annotations[key] else no for key, yes, no in _ANNOTATIONS if key in annotations]
    return ", ".join(said) if said else "none declared (treat as possibly destructive)"


def _example(entry: CatalogEntry) -> str:
    properties, required, defs = _parameters(entry)
    keywords = [_keyword(entry, str(name)) for name in properties if name in required]
    arguments = [
        f"{keyword}={_placeholder(keyword, properties[name], defs)}"
        for keyword, name in zip(keywords, [n for n in properties if n in required], strict=True)
    ]
    return f"{entry.name}({', '.join(arguments)})"


def _placeholder(name: str, prop: Any, defs: Mapping[str, Any]) -> str:
    """A value of the parameter's type: an enum's first value, else a typed stand-in."""
    if not isinstance(prop, Mapping):
        return '"..."'
    values = _enum(prop, defs)
    if values:
        return _python(values[0])
    kinds = [prop.get("type")] + [p.get("type") for p in prop.get("anyOf") or [] if isinstance(p, Mapping)]
    for kind in kinds:
        if kind in _PLACEHOLDERS:
            return _PLACEHOLDERS[kind]
        if kind == "string":
            return _FORMATS.get(str(prop.get("format")), json.dumps(f"<{name}>"))
    return json.dumps(f"<{name}>")
