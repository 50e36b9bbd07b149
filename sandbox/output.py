"""One capped buffer for everything the code prints, in any scope.

RestrictedPython rewrites `print(...)` into `_print._call_print(...)` where
`_print = _print_(_getattr_)` is set at the top of every function and of the
module. Handing out the same collector each time makes all prints share one
buffer and one cap, so the worker's memory stays bounded however much is printed.
"""

from __future__ import annotations

from typing import Any


class CappedOutput:
    """Keeps the first `limit` bytes of printed text, then only counts."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._parts: list[str] = []
        self._size = 0
        self._truncated = False

    def write(self, text: str) -> None:
        """File-like sink used by the builtin print()."""
        if self._truncated:
            return
        data = text.encode("utf-8", "surrogatepass")
        room = self._limit - self._size
        if len(data) <= room:
            self._parts.append(text)
            self._size += len(data)
            return
        # Cut on a character boundary; "ignore" drops a split multi-byte tail.
        self._parts.append(data[:room].decode("utf-8", "ignore"))
        self._size = self._limit
        self._truncated = True

    def text(self) -> str:
        """Everything kept, plus a marker line if output was cut."""
        kept = "".join(self._parts)
        if not self._truncated:
            return kept
        newline = "" if kept.endswith("\n") or not kept else "\n"
        return f"{kept}{newline}... [output truncated at {self._limit} bytes]\n"

    # --- RestrictedPython's print hooks ---

    def __call__(self) -> str:
        """Value of the `printed` name inside code."""
        return self.text()

    def _call_print(
        self, *objects: Any, sep: str | None = " ", end: str | None = "\n", flush: bool = False
    ) -> None:
        """`print(...)` in code; `file=` is not accepted because output has one sink."""
        print(*objects, sep=sep, end=end, file=self)


def print_factory(output: CappedOutput) -> Any:
    """Build the `_print_` global: every scope gets the shared collector."""

    def _print_(_getattr_: Any = None) -> CappedOutput:
        return output

    return _print_
