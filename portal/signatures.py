"""Render an MCP tool as a compact, typed Python signature a model can call.

``gitlab.get_job_log(project: str, job_id: int, tail_lines: int = 200) -> str  # Log of one CI job``

JSON Schema is mapped to the Python types a model already knows; anything
exotic degrades to ``Any`` rather than failing.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

import mcp_types as types

from portal.naming import Kind, NameTable, python_name
from portal.shapes import result_shape

__all__ = ["is_wrapped_output", "one_line_doc", "parameter_table", "render_signature", "schema_type"]

_PRIMITIVES = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "null": "None",
    "object": "dict",
    "array": "list",
}
_MAX_DEPTH = 4
_MAX_DOC = 120
_MAX_LITERALS = 6
_SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<!\betc)[.;]\s")
_CLAUSE_END = re.compile(r"[,:;)](?=\s)|\s[-–—]\s")  # where a shortened doc may end
# Generated sections of OpenAPI-derived and docstring-style descriptions.
_BOILERPLATE = re.compile(
    r"(?:^|\s|\W)(?=(?:Error Responses?|Responses?|Args|Arguments|Parameters|Params|Returns|Raises|"
    r"Examples?|Usage|Notes?)\s*:)|\n\s*#{1,6}\s|\n\s*[-*]\s",
)
_HEADING = re.compile(r"#{1,6}[ \t]+")


def schema_type(schema: Any, defs: Mapping[str, Any] | None = None, depth: int = 0) -> str:
    """The Python type expression for a JSON Schema fragment."""
    if not isinstance(schema, Mapping) or depth > _MAX_DEPTH:
        return "Any"
    defs = defs or {}
    if "$ref" in schema:
        return _ref_type(str(schema["$ref"]), defs, depth)
    if "enum" in schema and isinstance(schema["enum"], list):
        values = schema["enum"]
        if len(values) > _MAX_LITERALS:  # a long enumeration costs more context than it helps
            return _PRIMITIVES.get(str(schema.get("type")), "str")
        return "Literal[" + ", ".join(_python_literal(value) for value in values) + "]"
    if "const" in schema:
        return f"Literal[{_python_literal(schema['const'])}]"
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list):
            return _union(schema_type(part, defs, depth + 1) for part in schema[key])
    kind = schema.get("type")
    if isinstance(kind, list):
        return _union(schema_type({**schema, "type": k}, defs, depth + 1) for k in kind)
    if kind == "array":
        items = schema.get("items")
        return f"list[{schema_type(items, defs, depth + 1)}]" if items else "list"
    if kind == "object":
        extra = schema.get("additionalProperties")
        if isinstance(extra, Mapping) and not schema.get("properties"):
            return f"dict[str, {schema_type(extra, defs, depth + 1)}]"
        return "dict"
    return _PRIMITIVES.get(str(kind), "Any")


def _ref_type(ref: str, defs: Mapping[str, Any], depth: int) -> str:
    name = ref.rsplit("/", 1)[-1]
    target = defs.get(name)
    if isinstance(target, Mapping) and target.get("type") != "object":
        return schema_type(target, defs, depth + 1)
    return "dict" if target is not None else "Any"


def _union(parts: Any) -> str:
    unique: list[str] = []
    for part in parts:
        if part not in unique:
            unique.append(part)
    return " | ".join(unique) if unique else "Any"


def is_wrapped_output(output_schema: Mapping[str, Any] | None) -> bool:
    """True for the SDK's ``{"result": ...}`` wrapper around a non-object return type."""
    if not output_schema:
        return False
    properties = output_schema.get("properties")
    return (
        isinstance(properties, Mapping)
        and list(properties) == ["result"]
        and output_schema.get("required") == ["result"]
    )


def return_type(tool: types.Tool) -> str:
    """The result as a named shape (``list[ProjectSummary]``, `portal.shapes`); ``Any`` without a schema."""
    return result_shape(tool.name, tool.output_schema).annotation


def one_line_doc(description: str | None) -> str:
    """The first sentence or line of a description, shortened for a search result.

    Third-party descriptions often carry generated sections ("Error Responses:
    400: Bad request", "Args:", a Markdown heading): the one-line doc stops
    before them; the full description stays in the tool's detail.
    """
    text = (description or "").strip()
    heading = _HEADING.match(text)
    if heading is not None:  # a Markdown title line is the summary
        text = text[heading.end() :].split("\n", 1)[0]
    if not text:
        return ""
    paragraph = text.split("\n\n", 1)[0]
    section = _BOILERPLATE.search(paragraph)
    if section is not None and section.start() > 0:
        paragraph = paragraph[: section.start()]
    line = " ".join(paragraph.split())
    line = _SENTENCE_END.split(line, maxsplit=1)[0].rstrip(".:; ")
    return line if len(line) <= _MAX_DOC else _shorten(line, _MAX_DOC - 1) + "…"


def _shorten(line: str, budget: int) -> str:
    """``line`` cut to ``budget`` characters at its last clause boundary, else its last word boundary.

    A boundary inside parentheses counts only when there is none outside them, so a
    cut doc rarely leaves a parenthesis open; a boundary in the first half is too early.
    """
    head = line[: budget + 1]
    clauses = [m.end() if m.group() == ")" else m.start() for m in _CLAUSE_END.finditer(head)]
    clauses = [p for p in clauses if budget // 2 <= p <= budget]
    words = [m.start() for m in re.finditer(r"\s", head) if budget // 2 <= m.start() <= budget]
    for candidates in (_outside_parentheses(head, clauses), _outside_parentheses(head, words), words):
        if candidates:
            return head[: candidates[-1]].rstrip(" ,;:-(")
    return line[:budget].rstrip()


def _outside_parentheses(text: str, positions: list[int]) -> list[int]:
    return [p for p in positions if text.count("(", 0, p) <= text.count(")", 0, p)]


def parameter_table(tool: types.Tool) -> NameTable:
    """The tool's input properties as keyword names: ``user-id`` -> ``user_id``, and back."""
    properties = (tool.input_schema or {}).get("properties") or {}
    names = [name for name in properties if isinstance(name, str)] if isinstance(properties, Mapping) else []
    return NameTable(names, Kind.PARAMETER, where=f"parameters of {tool.name}")


def _names_in(value: Any) -> set[str]:
    return {item for item in value if isinstance(item, str)} if isinstance(value, list) else set()


def render_parameters(tool: types.Tool, parameters: NameTable | None = None) -> str:
    schema = tool.input_schema or {}
    found = schema.get("properties")
    properties: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    required = _names_in(schema.get("required"))  # an upstream's schema: lists of anything come in
    defs = schema.get("$defs", {})
    table = parameters or parameter_table(tool)
    mandatory, optional = [], []
    for name, prop in properties.items():
        annotation = schema_type(prop, defs)
        keyword = table.python(name)
        if name in required:
            mandatory.append(f"{keyword}: {annotation}")
        else:
            default = prop.get("default") if isinstance(prop, Mapping) else None
            optional.append(f"{keyword}: {annotation} = {_python_literal(default)}")
    return ", ".join(mandatory + optional)


def _python_literal(value: Any) -> str:
    """Python source for a JSON value: ``true`` -> ``True``, strings quoted."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "None"  # JSON has no infinities; a schema that claims one gets no default shown
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_python_literal(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {_python_literal(v)}" for k, v in value.items()) + "}"
    return "None"


def render_signature(
    namespace: str,
    tool: types.Tool,
    with_doc: bool = True,
    *,
    name: str | None = None,
    parameters: NameTable | None = None,
) -> str:
    """``namespace.tool(params) -> type  # doc``, in the Python names code calls.

    ``name`` is the tool's Python name (default: `portal.naming.python_name` of its
    MCP name; the catalog passes the one unique in its namespace).
    """
    shown = name or python_name(tool.name, Kind.TOOL)
    signature = f"{namespace}.{shown}({render_parameters(tool, parameters)}) -> {return_type(tool)}"
    doc = one_line_doc(tool.description) if with_doc else ""
    return f"{signature}  # {doc}" if doc else signature
