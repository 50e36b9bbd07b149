"""Result shapes: a tool's ``outputSchema`` as a named, compact type a model can read at a glance.

``gitlab.list_projects(...) -> list[ProjectSummary]`` and, once per search answer,
``ProjectSummary = {id: int, path: str, description: str | None, ...}``.

Names come from ``$defs`` keys and ``title``; an anonymous object is named after
its tool (``GetProjectResult``) or its field (``author: Author``). Optional
(not required) fields are marked ``name?``. Everything is bounded: fields per
shape, nesting depth and shape lines per answer, so a large schema costs a
fixed number of tokens. Schemas come from upstream servers and are untrusted:
anything odd degrades to ``Any`` or ``dict`` rather than failing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

__all__ = [
    "MAX_FIELDS",
    "MAX_SHAPE_LINES",
    "FieldShape",
    "ResultShape",
    "Shape",
    "answer_shapes",
    "pascal",
    "result_shape",
]

MAX_FIELDS = 12  # fields shown per shape in a search answer; the rest end as "..."
MAX_DEPTH = 3  # named shapes nested deeper render as plain dict
MAX_SHAPE_LINES = 10  # shape lines per search answer
MAX_SHAPES_PER_TOOL = 24  # a pathological schema cannot make one tool's contract unbounded
MAX_LITERALS = 6
MAX_NAME_CHARS = 64
_PRIMITIVES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "null": "None"}
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WORDS = re.compile(r"[A-Za-z0-9]+")
_QUOTED = re.compile(r'("(?:[^"\\]|\\.)*")')
_VERBS = ("list_", "get_", "search_", "find_", "query_", "fetch_", "read_", "show_", "describe_")


@dataclass(frozen=True)
class FieldShape:
    name: str
    annotation: str
    optional: bool = False

    def render(self) -> str:
        name = self.name if len(self.name) <= MAX_NAME_CHARS else self.name[:MAX_NAME_CHARS] + "…"
        label = name if _IDENTIFIER.fullmatch(name) else json.dumps(name)  # quoted: no newline gets through
        return f"{label}{'?' if self.optional else ''}: {self.annotation}"


@dataclass(frozen=True)
class Shape:
    """One named object type: its fields in schema order."""

    name: str
    fields: tuple[FieldShape, ...]
    observed: bool = False

    def shown(
        self, max_fields: int | None = MAX_FIELDS, prefer: Callable[[str], bool] | None = None
    ) -> list[FieldShape]:
        """The fields a search answer shows: all, or ``max_fields`` with the ``prefer``red ones first."""
        if max_fields is None or len(self.fields) <= max_fields:
            return list(self.fields)
        wanted = [f for f in self.fields if prefer is not None and prefer(f.name)][:max_fields]
        rest = [f for f in self.fields if f not in wanted][: max_fields - len(wanted)]
        return [f for f in self.fields if f in wanted or f in rest]

    def render(self, max_fields: int | None = MAX_FIELDS, prefer: Callable[[str], bool] | None = None) -> str:
        """``Name = {a: int, b?: str, ...}``; a shape cut to ``max_fields`` ends with ``...``."""
        shown = self.shown(max_fields, prefer)
        body = ", ".join([f.render() for f in shown] + (["..."] if len(shown) < len(self.fields) else []))
        label = f"{self.name} (observed)" if self.observed else self.name
        return f"{label} = {{{body}}}"

    def references(self, names: Iterable[str], fields: Iterable[FieldShape] | None = None) -> set[str]:
        """The names among ``names`` that this shape's fields (or just ``fields``) mention."""
        wanted = set(names)
        chosen = self.fields if fields is None else fields
        return {word for f in chosen for word in _identifiers(f.annotation) if word in wanted}


@dataclass(frozen=True)
class ResultShape:
    """What a call returns: the annotation for the signature and every named shape it uses."""

    annotation: str
    shapes: tuple[Shape, ...] = ()
    observed: bool = False

    def renamed(self, renames: Mapping[str, str]) -> ResultShape:
        renames = {old: new for old, new in renames.items() if old != new}
        if not renames:
            return self
        shapes = tuple(
            replace(s, name=renames.get(s.name, s.name), fields=tuple(_renamed(f, renames) for f in s.fields))
            for s in self.shapes
        )
        return replace(self, annotation=_rename(self.annotation, renames), shapes=shapes)


def _renamed(field: FieldShape, renames: Mapping[str, str]) -> FieldShape:
    if not any(old in field.annotation for old in renames):  # the common case, without a regex
        return field
    return replace(field, annotation=_rename(field.annotation, renames))


def pascal(text: str) -> str:
    """``get_project`` -> ``GetProject``; a safe identifier from any text."""
    words = _WORDS.findall(text)
    name = "".join(w[:1].upper() + w[1:] for w in words)[:MAX_NAME_CHARS]
    if not name:
        return "Result"
    return f"T{name}" if name[0].isdigit() else name


def singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def result_shape(tool_name: str, schema: Mapping[str, Any] | None, observed: bool = False) -> ResultShape:
    """The result of ``tool_name`` as an annotation plus named shapes (``Any`` without a schema)."""
    if not isinstance(schema, Mapping) or not schema:
        return ResultShape("Any", (), observed)
    defs = schema.get("$defs")
    builder = _Builder(tool_name, defs if isinstance(defs, Mapping) else {}, observed)
    properties = schema.get("properties")
    if _is_wrapped(schema) and isinstance(properties, Mapping):
        annotation = builder.annotate(properties["result"], 0, _item_name(tool_name))
    else:
        annotation = builder.annotate(schema, 0, _root_name(tool_name, schema))
    return ResultShape(annotation, tuple(builder.shapes.values()), observed)


def _is_wrapped(schema: Mapping[str, Any]) -> bool:
    """The SDK wraps a non-object return type as ``{"result": ...}``."""
    properties = schema.get("properties")
    return (
        isinstance(properties, Mapping)
        and list(properties) == ["result"]
        and schema.get("required") == ["result"]
    )


def _root_name(tool_name: str, schema: Mapping[str, Any]) -> str:
    title = schema.get("title")
    if isinstance(title, str) and title.strip() and title != f"{tool_name}Output":
        return pascal(title)
    return pascal(tool_name) + "Result"


def _item_name(tool_name: str) -> str:
    noun = tool_name
    for verb in _VERBS:
        if noun.startswith(verb) and len(noun) > len(verb):
            noun = noun[len(verb) :]
            break
    return pascal(singular(noun)) if noun != tool_name else pascal(tool_name) + "Item"


class _Builder:
    """Walks one schema, naming each object type once (``$ref`` targets by their key)."""

    def __init__(self, tool_name: str, defs: Mapping[str, Any], observed: bool) -> None:
        self.tool_name = tool_name
        self.defs = defs
        self.observed = observed
        self.shapes: dict[str, Shape] = {}
        self._named: dict[str, str] = {}  # "$ref" or inline path -> shape name

    def annotate(self, schema: Any, depth: int, hint: str) -> str:
        if not isinstance(schema, Mapping):
            return "Any"
        if "$ref" in schema:
            return self._ref(str(schema["$ref"]), depth, hint)
        if isinstance(schema.get("enum"), list):
            return _literal(schema["enum"], schema.get("type"))
        if "const" in schema:
            return f"Literal[{json.dumps(schema['const'])}]"
        for key in ("anyOf", "oneOf"):
            if isinstance(schema.get(key), list):
                return _union(self.annotate(part, depth, hint) for part in schema[key])
        parts = schema.get("allOf")
        if isinstance(parts, list) and len(parts) == 1:  # `{"allOf": [{"$ref": ...}], "description": ...}`
            return self.annotate(parts[0], depth, hint)
        kind = schema.get("type")
        if isinstance(kind, list):
            return _union(self.annotate({**schema, "type": k}, depth, hint) for k in kind)
        if kind == "array":
            items = schema.get("items")
            return f"list[{self.annotate(items, depth, singular(hint))}]" if items else "list"
        if kind == "object" or (kind is None and isinstance(schema.get("properties"), Mapping)):
            return self._object(schema, depth, hint, key=f"inline:{hint}:{id(schema)}")
        return _PRIMITIVES.get(str(kind), "Any")

    def _ref(self, ref: str, depth: int, hint: str) -> str:
        key = ref.rsplit("/", 1)[-1]
        target = self.defs.get(key) if ref.startswith("#/$defs/") else None
        if not isinstance(target, Mapping):
            return "Any"
        if ref in self._named:
            return self._named[ref]
        if target.get("type") == "object" or isinstance(target.get("properties"), Mapping):
            return self._object(target, depth, pascal(key), key=ref)
        if depth > MAX_DEPTH:
            return "Any"
        return self.annotate(target, depth + 1, hint)

    def _object(self, schema: Mapping[str, Any], depth: int, name: str, key: str) -> str:
        properties = schema.get("properties")
        extra = schema.get("additionalProperties")
        if not isinstance(properties, Mapping) or not properties:
            if isinstance(extra, Mapping) and extra:
                return f"dict[str, {self.annotate(extra, depth + 1, name)}]"
            return "dict[str, Any]"
        if depth > MAX_DEPTH or len(self.shapes) >= MAX_SHAPES_PER_TOOL:
            return "dict"
        if key in self._named:
            return self._named[key]
        name = self._free_name(name)
        self._named[key] = name
        self.shapes[name] = Shape(name, (), self.observed)  # placeholder keeps first-use order
        listed = schema.get("required")
        required = {r for r in listed if isinstance(r, str)} if isinstance(listed, list) else set()
        fields = tuple(
            FieldShape(
                str(field),
                self.annotate(part, depth + 1, pascal(str(field))),
                optional=str(field) not in required,
            )
            for field, part in properties.items()
        )
        self.shapes[name] = Shape(name, fields, self.observed)
        return name

    def _free_name(self, name: str) -> str:
        if name not in self.shapes:
            return name
        number = 2
        while f"{name}{number}" in self.shapes:
            number += 1
        return f"{name}{number}"


def _literal(values: list[Any], kind: Any) -> str:
    if len(values) > MAX_LITERALS:  # a long enumeration costs more context than it helps
        return _PRIMITIVES.get(str(kind), "str")
    return "Literal[" + ", ".join(json.dumps(value) for value in values) + "]"


def _union(parts: Iterable[str]) -> str:
    unique: list[str] = []
    for part in parts:
        if part not in unique:
            unique.append(part)
    if "None" in unique:  # `X | None` reads best with None last
        unique = [p for p in unique if p != "None"] + ["None"]
    return " | ".join(unique) if unique else "Any"


def _identifiers(annotation: str) -> list[str]:
    """Identifiers in an annotation, outside its quoted Literal values."""
    return [w for part in _QUOTED.split(annotation)[::2] for w in _IDENTIFIER.findall(part)]


def _rename(annotation: str, renames: Mapping[str, str]) -> str:
    parts = _QUOTED.split(annotation)
    for index in range(0, len(parts), 2):  # even parts are outside quotes
        parts[index] = _IDENTIFIER.sub(lambda m: renames.get(m.group(0), m.group(0)), parts[index])
    return "".join(parts)


@dataclass(frozen=True)
class AnswerShapes:
    """One search answer's result types: an annotation per hit, and the shape lines once each."""

    annotations: list[str]
    lines: list[str]


def answer_shapes(
    results: Sequence[tuple[str, ResultShape]],
    prefer: Callable[[str], bool] | None = None,
    max_lines: int = MAX_SHAPE_LINES,
    max_fields: int | None = MAX_FIELDS,
) -> AnswerShapes:
    """Deduplicate shapes across hits; a name two different shapes share gets its namespace prefixed."""
    shown: dict[str, Shape] = {}  # display name -> shape as first shown
    annotations: list[str] = []
    ordered: list[Shape] = []
    for namespace, result in results:
        renamed = result.renamed(_collisions(namespace, result, shown))
        annotations.append(renamed.annotation)
        for shape in _visible(renamed, max_fields, prefer):
            if shape.name not in shown:
                shown[shape.name] = shape
                ordered.append(shape)
    lines = [shape.render(max_fields, prefer) for shape in ordered[:max_lines]]
    if len(ordered) > max_lines:
        lines.append(
            f"# {len(ordered) - max_lines} more result shapes: search a tool's exact name for its contract"
        )
    return AnswerShapes(annotations, lines)


def _visible(
    result: ResultShape, max_fields: int | None, prefer: Callable[[str], bool] | None
) -> list[Shape]:
    """The shapes reachable from the annotation through fields the answer shows, in first-use order."""
    local = {shape.name: shape for shape in result.shapes}
    reached = [name for name in _identifiers(result.annotation) if name in local]
    seen = set(reached)
    for name in reached:  # grows while iterating: a breadth-first walk
        shape = local[name]
        for child in _identifiers(", ".join(f.annotation for f in shape.shown(max_fields, prefer))):
            if child in local and child not in seen:
                seen.add(child)
                reached.append(child)
    order = list(local)
    return [local[name] for name in sorted(reached, key=order.index)]


def _collisions(namespace: str, result: ResultShape, shown: Mapping[str, Shape]) -> dict[str, str]:
    """Renames for this result's shapes whose names are taken by a different shape."""
    local = {shape.name: shape for shape in result.shapes}
    clashing = [name for name in local if name in shown]
    if not clashing:
        return {}
    prefix = pascal(namespace)
    numbers = dict.fromkeys(clashing, 0)  # 0 keeps the name, 1 prefixes the namespace, 2.. add a number

    def candidate(name: str) -> str:
        number = numbers[name]
        return name if number == 0 else prefix + name + (str(number) if number > 1 else "")

    renames: dict[str, str] = {}
    for _ in range(len(clashing) * 4 + 1):  # bounded: each round bumps at least one number
        renames = {name: candidate(name) for name in clashing}
        renamed = {shape.name: shape for shape in result.renamed(renames).shapes}
        # a name already shown may be reused only for the very same shape (three tools, one Issue)
        failing = {
            name
            for name, new in renames.items()
            if (new in shown and shown[new] != renamed[new]) or (new != name and new in local)
        }
        if not failing:
            break
        # bump the shapes that differ by themselves first: one that differs only through a field
        # type may match once that type has its new name
        own = {name for name in failing if not local[name].references(failing - {name})}
        for name in own or failing:
            numbers[name] += 1
    return {name: new for name, new in renames.items() if new != name}
