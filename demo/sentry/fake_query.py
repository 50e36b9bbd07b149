"""How the fake Sentry pages and searches: cursor paging with a Link header, and a subset of the
issue search syntax. Split from fake.py to keep each module small."""

from __future__ import annotations

import re
import shlex
from typing import Any
from urllib.parse import urlencode

from demo._fakes import Request, Response, json_response

__all__ = ["matches", "page"]

_IS_VALUES = {"resolved", "unresolved", "ignored", "archived", "assigned", "unassigned", "for_review"}


def page(req: Request, items: list[Any], *, size_param: str, default: int = 100) -> Response:
    """One page of `items` with Sentry's Link header. Cursors are `size:page:is_prev`, as Sentry's
    offset paginator writes them (a cursor's size wins over the size parameter, as there); the
    client treats them as opaque."""
    try:
        size = int(req.arg(size_param) or default)
        value, page_text, _ = (req.arg("cursor") or f"{size}:0:0").split(":")
        size, page = int(value) or size, int(page_text)
    except ValueError:
        return json_response({"detail": f"Invalid {size_param} or cursor parameter."}, 400)
    if not 1 <= size <= 100 or page < 0:
        return json_response({"detail": f"Invalid {size_param} parameter. Max is 100"}, 400)
    start = page * size
    has_next = start + size < len(items)
    others = urlencode([(k, v) for k, values in req.query.items() if k != "cursor" for v in values])
    base = f"http://{req.headers.get('host', '127.0.0.1')}{req.path}?{others}"

    def link(rel: str, cursor: str, results: bool) -> str:
        return f'<{base}&cursor={cursor}>; rel="{rel}"; results="{str(results).lower()}"; cursor="{cursor}"'

    header = ", ".join(
        [
            link("previous", f"{size}:{max(page - 1, 0)}:1", page > 0),
            link("next", f"{size}:{page + 1}:0", has_next),
        ]
    )
    return json_response(items[start : start + size], headers={"Link": header})


def matches(issue: dict[str, Any], query: str, db: dict[str, Any]) -> bool:
    """A small subset of Sentry's issue search: is:, level:, release:, firstRelease:, any event tag
    as key:value, a leading ! to negate, a short id, and free text against title and culprit."""
    try:
        tokens = shlex.split(query)
    except ValueError as exc:
        raise ValueError(str(exc)) from None
    tags = {(t["key"], t["value"]) for e in db["events"][issue["id"]] for t in e["tags"]}
    for token in tokens:
        negate, token = token.startswith("!"), token.removeprefix("!")
        match = re.fullmatch(r"([\w.]+):(.+)", token)
        if match:
            key, value = match.groups()
            hit = _filter(issue, key, value, tags)
        else:
            text = token.lower()
            hit = text in issue["title"].lower() or text in (issue["culprit"] or "").lower()
            hit = hit or token.upper() == issue["shortId"]
        if hit == negate:
            return False
    return True


def _filter(issue: dict[str, Any], key: str, value: str, tags: set[tuple[str, str]]) -> bool:
    if key == "is":
        if value not in _IS_VALUES:
            raise ValueError(f'Invalid value for "is" search, valid values are {sorted(_IS_VALUES)}')
        status = {"archived": "ignored", "for_review": "unresolved"}.get(value, value)
        return value == "unassigned" or (value != "assigned" and issue["status"] == status)
    if key == "level":
        return issue["level"] == value
    if key in ("firstRelease", "first_release", "firstSeenRelease"):
        return issue["_first_release"] == value
    if key in ("issue", "issue.id"):
        return value in (issue["id"], issue["shortId"])
    return (key, value) in tags
