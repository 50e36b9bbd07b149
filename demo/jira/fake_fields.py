"""Reading and validating what clients send to the fake Jira: field lists, references, edits.

Validation follows Jira's: unknown or unsettable fields, bad summaries, labels
with spaces and unknown users or priorities come back as per-field messages,
which the fake returns in the `errors` object of a 400 body.
"""

from __future__ import annotations

from typing import Any

from .fake_data import PRIORITIES, PROJECTS, USERS
from .fake_render import FIELDS

__all__ = ["label_op", "named", "project_key", "user_matches", "validated_changes", "wanted_fields"]


def user_matches(needle: str, username: str, display: str) -> bool:
    words = [username, f"{username}@acme.example", *display.lower().split()]
    return any(w.startswith(needle) for w in words)


def wanted_fields(values: list[str] | str | None) -> set[str] | None:
    """The `fields` parameter (repeated or comma-separated) as a set; None means all fields."""
    items = values.split(",") if isinstance(values, str) else values or []
    names = {n.strip() for item in items for n in str(item).split(",") if n.strip()}
    if not names or "*all" in names:
        return None
    if "*navigable" in names:
        names |= {fid for fid, *_ in FIELDS if fid != "comment"}
    return names


def named(value: Any, known: dict[str, Any]) -> str | None:
    """Resolve a `{"name": ...}` or `{"id": ...}` reference against a table keyed by name."""
    if not isinstance(value, dict):
        return None
    for name, row in known.items():
        ident = row[0] if isinstance(row, tuple) else row
        if value.get("name") == name or str(value.get("id")) == ident:
            return name
    return None


def project_key(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    for key, (pid, *_) in PROJECTS.items():
        if str(value.get("key", "")).upper() == key or str(value.get("id")) == pid:
            return key
    return None


def validated_changes(given: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """Validate settable fields as Jira does; collect errors per field."""
    changes: dict[str, Any] = {}
    for name, value in given.items():
        if name == "summary":
            errors.update(_summary_errors(str(value or "")))
            changes[name] = value
        elif name == "description":
            changes[name] = value or None
        elif name == "priority":
            changes[name] = named(value, PRIORITIES)
            if changes[name] is None:
                errors[name] = f"Priority name '{(value or {}).get('name')}' is not valid"
        elif name == "labels":
            bad = [label for label in value or [] if " " in label]
            if bad:
                errors[name] = f"The label '{bad[0]}' contains spaces which is invalid."
            changes[name] = list(dict.fromkeys(value or []))
        elif name == "assignee":
            user = (value or {}).get("name")
            if user is not None and user not in USERS:
                errors[name] = f"User '{user}' does not exist."
            changes[name] = user
        else:
            errors[name] = f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
    return changes


def _summary_errors(summary: str) -> dict[str, str]:
    if not summary.strip():
        return {"summary": "You must specify a summary of the issue."}
    if "\n" in summary:
        return {"summary": "The summary is invalid because it contains newline characters."}
    if len(summary) > 254:
        return {"summary": "Summary must be less than 255 characters."}
    return {}


def label_op(labels: list[str], op: dict[str, Any]) -> list[str]:
    if "set" in op:
        return list(op["set"])
    if "add" in op and op["add"] not in labels:
        return [*labels, op["add"]]
    if "remove" in op:
        return [label for label in labels if label != op["remove"]]
    return labels
