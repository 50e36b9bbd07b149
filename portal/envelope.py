"""The answer of ``portal_codemode_execute``: one JSON object, always valid, never over budget.

    {"ok": bool, "value": any, "stdout": str,
     "error": {"type", "message", "tool", "hint"} | null,
     "truncated": {"stdout": {...}, "value": {...}}}      (only when something was cut)

Rules a model can rely on (each is tested in tests/portal/test_envelope.py):

- The UTF-8 encoding of the answer is at most ``max_bytes``.
- Under ``ok: true`` the value is the code's value or ``null``; never a marker string. Printed output
  is cut first. A value that does not fit even then is kept behind a handle (``truncated.value.handle``)
  that the next execution reads with ``results.get(handle=...)``.
- Text is valid UTF-8 JSON whatever the code printed: lone surrogates are sent ``\\uXXXX``-escaped.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["PORTAL_ERROR", "ErrorEnvelope", "json_text", "portal_error_answer", "render_answer"]

PORTAL_ERROR = "PortalError"  # a fault of the portal itself, after or around the sandbox
MAX_MESSAGE_CHARS = 2000
_SURROGATE = re.compile("[\ud800-\udfff]")
_STDOUT_MARKER = "\n…[output cut: {shown} of {total} bytes shown]"
_MAX_DEPTH = 64


@dataclass(frozen=True)
class ErrorEnvelope:
    """The structured error a model reads: what failed, where, and what to do next."""

    type: str
    message: str
    tool: str | None = None
    hint: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type[:100],
            "message": self.message[:MAX_MESSAGE_CHARS],
            "tool": self.tool,
            "hint": self.hint[:MAX_MESSAGE_CHARS] if self.hint else None,
        }


def _plain(value: Any, depth: int = 0) -> Any:
    """JSON data only: non-finite floats become null, unknown objects their repr, cycles cut."""
    if depth > _MAX_DEPTH:
        return "…"
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, depth + 1) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


def json_text(value: Any) -> str:
    """Compact JSON that always encodes to UTF-8 (surrogates escaped, NaN refused as null)."""
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        text = json.dumps(_plain(value), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    # With ensure_ascii=False a surrogate can only stand inside a string literal: escaping it there
    # keeps the same string and makes the text encodable.
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _assemble(ok: bool, value: Any, stdout: str, error: dict[str, Any] | None, cut: dict[str, Any]) -> str:
    payload: dict[str, Any] = {"ok": ok, "value": value, "stdout": stdout, "error": error}
    if cut:
        payload["truncated"] = cut
    return json_text(payload)


def _fit_stdout(fixed: Callable[[str, dict[str, Any]], str], stdout: str, budget: int) -> str:
    """The answer with as much of ``stdout`` as fits, cut on a character boundary, marked."""
    whole = fixed(stdout, {})
    if _size(whole) <= budget:
        return whole
    total = _size(stdout)
    low, high = 0, len(stdout)
    best = None
    while low <= high:  # the longest prefix whose escaped form still fits
        middle = (low + high) // 2
        kept = stdout[:middle]
        shown = _size(kept)
        marked = kept + _STDOUT_MARKER.format(shown=shown, total=total)
        candidate = fixed(marked, {"stdout": {"bytes": total, "shown": shown}})
        if _size(candidate) <= budget:
            best, low = candidate, middle + 1
        else:
            high = middle - 1
    if best is not None:
        return best
    return fixed("", {"stdout": {"bytes": total, "shown": 0}})


def render_answer(
    *,
    ok: bool,
    value: Any,
    stdout: str,
    error: ErrorEnvelope | None,
    max_bytes: int,
    keep_value: Callable[[Any, int], str | None],
) -> str:
    """The answer text; ``keep_value(value, size)`` keeps a value too large to send, returning its handle."""
    error_json = error.to_json() if error else None
    value_text = json_text(value)
    value_cut: dict[str, Any] = {}
    empty_answer = _assemble(ok, value, "", error_json, {})
    if ok and value is not None and _size(empty_answer) > max_bytes:
        handle = keep_value(value, _size(value_text))
        value_cut = {"value": {"bytes": _size(value_text), "handle": handle}}
        if handle is not None:
            value_cut["value"]["read_with"] = f"results.get(handle={handle!r})"
        value = None

    def fixed(out: str, cut: dict[str, Any]) -> str:
        return _assemble(ok, value, out, error_json, {**cut, **value_cut})

    answer = _fit_stdout(fixed, stdout, max_bytes)
    if _size(answer) <= max_bytes:
        return answer
    # Only a long error message (or a tiny budget) is left to blame: keep the envelope, shorten the words.
    short = ErrorEnvelope(error.type, error.message[:200], error.tool, None) if error else None
    answer = _assemble(ok, value, "", short.to_json() if short else None, value_cut)
    if _size(answer) <= max_bytes:
        return answer
    bare = ErrorEnvelope(error.type[:40], "") if error else None
    return _assemble(ok, None, "", bare.to_json() if bare else None, {})


def portal_error_answer(max_bytes: int) -> str:
    """What the model gets when the portal itself failed around a run: a PortalError, nothing internal."""
    error = ErrorEnvelope(
        PORTAL_ERROR,
        "the portal failed while answering this execution; the failure is logged and audited",
        hint="run the code again; if it keeps failing, tell the portal's operators",
    )
    return render_answer(
        ok=False, value=None, stdout="", error=error, max_bytes=max_bytes, keep_value=lambda v, n: None
    )
