"""Progress of long CLI work on a terminal: ``search-eval: 120/182 queries (66%)``, rewritten in place.

Shown only when the stream is a terminal, so logs, pipes and tests stay clean.
"""

from __future__ import annotations

import sys
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    def __init__(
        self, total: int, label: str, stream: TextIO | None = None, enabled: bool | None = None
    ) -> None:
        self._total = max(total, 0)
        self._label = label
        self._stream = stream or sys.stderr
        self._on = self._stream.isatty() if enabled is None else enabled
        self._done = 0

    def advance(self, steps: int = 1) -> None:
        self._done = min(self._done + steps, self._total) if self._total else self._done + steps
        if self._on:
            self._stream.write(f"\r{self._line()}")
            self._stream.flush()

    def finish(self) -> None:
        """End the line, so what is printed next starts on its own."""
        if self._on:
            self._stream.write(f"\r{self._line()}\n")
            self._stream.flush()

    def _line(self) -> str:
        if not self._total:
            return f"{self._label}: {self._done}"
        return f"{self._label}: {self._done}/{self._total} ({100 * self._done // self._total}%)"
