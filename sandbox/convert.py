"""Turn the code's final value into plain JSON data.

Tuples and sets become lists, dates their ISO form, anything else its repr(),
so a result is always shown rather than refused. Cycles become "[...]".
"""

from __future__ import annotations

import datetime
import math
from collections import deque
from collections.abc import ItemsView, KeysView, ValuesView
from typing import Any

_SCALARS = (str, int, bool, type(None))
_SEQUENCE_LIKE = (KeysView, ValuesView, ItemsView, range, deque)
_MAX_DEPTH = 100


class ValueTooDeep(Exception):
    """The value nests deeper than any sensible result."""


def to_jsonable(value: Any) -> Any:
    """Return a JSON-able copy of `value` (lossy for non-JSON types)."""
    return _convert(value, set(), 0)


def _convert(value: Any, path: set[int], depth: int) -> Any:
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, _SEQUENCE_LIKE):  # d.items(), range(3), deque: what a model means is a list
        value = list(value)
    if not isinstance(value, dict | list | tuple | set | frozenset):
        return repr(value)
    if id(value) in path:
        return "[...]"
    if depth >= _MAX_DEPTH:
        raise ValueTooDeep(f"the value nests deeper than {_MAX_DEPTH} levels")
    path.add(id(value))
    try:
        if isinstance(value, dict):
            return {_key(k): _convert(v, path, depth + 1) for k, v in value.items()}
        items = _ordered(value) if isinstance(value, set | frozenset) else value
        return [_convert(item, path, depth + 1) for item in items]
    finally:
        path.discard(id(value))


def _key(key: Any) -> str:
    """JSON object keys are strings; mirror json.dumps for scalars."""
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, bool):
        return {None: "null", True: "true", False: "false"}[key]
    if isinstance(key, int | float):
        return str(key)
    return repr(key)


def _ordered(items: set[Any] | frozenset[Any]) -> list[Any]:
    """Sets in sorted order when possible, so results are stable."""
    try:
        return sorted(items)
    except TypeError:
        return list(items)
