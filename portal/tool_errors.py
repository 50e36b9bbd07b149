"""Tool failures as one message a model can act on: which tool, what was wrong, what to do.

Upstream error text arrives wrapped and noisy: the SDK's "Error executing tool x: " prefix,
pydantic's "1 validation error for xArguments ... [type=..., input_value=...] For further
information visit https://errors.pydantic.dev/...", and sometimes the upstream's own URL with
its port. This module turns it into ``gitlab.get_project: argument project: Field required.
Call it as gitlab.get_project(project: str) -> Project``, names the tool once, and keeps
internal addresses out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["argument_problem", "clean_error_text", "qualify_tool_names", "tool_failure"]

MAX_MESSAGE_CHARS = 1500
_SDK_PREFIX = re.compile(r"^\s*Error executing tool [^:\s]+:\s*")
_VALIDATION_HEADER = re.compile(r"^\d+ validation errors? for \S+$")
_PYDANTIC_DETAIL = re.compile(r"\s*\[type=[^\]]*\]")
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s'\"<>)\]]+", re.IGNORECASE)
_HOST_PORT = re.compile(
    r"\b(?:(?:\d{1,3}\.){3}\d{1,3}|localhost|\[[0-9a-f:]+\])(?::\d{1,5})?\b", re.IGNORECASE
)


def clean_error_text(text: str) -> str:
    """Upstream error text without SDK prefixes, pydantic internals, URLs, hosts or ports."""
    text = _SDK_PREFIX.sub("", text.strip())
    validation = _validation_problems(text)
    if validation is not None:
        text = validation
    text = _URL.sub("<upstream>", text)
    text = _HOST_PORT.sub("<upstream>", text)
    text = " ".join(text.split())
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[:MAX_MESSAGE_CHARS].rstrip() + " …"
    return text or "the tool reported an error without a message"


def _validation_problems(text: str) -> str | None:
    """pydantic's multi-line report as 'argument x: message; argument y: message', or None."""
    lines = text.splitlines()
    if not lines or not _VALIDATION_HEADER.match(lines[0].strip()):
        return None
    problems: list[str] = []
    field: str | None = None
    for line in lines[1:]:
        if not line.strip() or line.strip().startswith("For further information"):
            continue
        if not line.startswith(" "):
            field = line.strip()
            continue
        message = _PYDANTIC_DETAIL.sub("", line.strip()).rstrip(".")
        problems.append(_argument_message(field, message))
    return "; ".join(problems) if problems else None


def _argument_message(field: str | None, message: str) -> str:
    if message == "Field required":
        return f"missing required argument {field}"
    if message.startswith("Unexpected keyword argument") or message == "Extra inputs are not permitted":
        return f"unknown argument {field}"
    return f"argument {field}: {message}" if field else message


def argument_problem(schema: Mapping[str, Any] | None, arguments: Mapping[str, Any]) -> str | None:
    """Unknown or missing arguments, found before the call leaves the portal."""
    schema = schema or {}
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return None
    unknown = sorted(set(arguments) - set(properties))
    # Only a schema that says so takes names it does not list; otherwise a typo would be dropped.
    if unknown and schema.get("additionalProperties") in (None, False):
        return f"unknown argument {', '.join(unknown)}"
    required = schema.get("required")
    names = [name for name in required if isinstance(name, str)] if isinstance(required, list) else []
    missing = [name for name in names if name not in arguments]
    if missing:
        return f"missing required argument {', '.join(missing)}"
    return None


def tool_failure(tool: str, problem: str, signature: str | None = None) -> str:
    """``tool: problem``, once, with the signature when the arguments were at fault."""
    message = problem[len(tool) :].lstrip(": ") if problem.startswith(tool) else problem
    text = f"{tool}: {message}"
    if signature and "argument" in message:
        text += f". Call it as {signature.split('  #', 1)[0]}"
    return text


def qualify_tool_names(text: str, namespace: str, names: Mapping[str, str]) -> str:
    """A server's hint ``list_projects(search='ap')`` as the call code makes: ``gitlab.list_projects(...)``.

    ``names`` maps the server's own tool names to the Python names code calls; a server does not
    know the namespace the portal gives it, so its hints name tools bare.
    """
    if not names:
        return text
    pattern = re.compile(
        r"(?<![\w.])(" + "|".join(map(re.escape, sorted(names, key=len, reverse=True))) + r")\("
    )
    return pattern.sub(lambda m: f"{namespace}.{names[m.group(1)]}(", text)
