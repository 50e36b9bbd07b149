"""One capped buffer for everything the code prints, shared with the host.

RestrictedPython rewrites `print(...)` into `_print._call_print(...)` where
`_print = _print_(_getattr_)` is set at the top of every function and of the
module. Handing out the same collector each time makes all prints share one
buffer and one cap.

The buffer is a memory file (memfd) the host created and mapped into the
worker: each print lands in memory the host can read, with no syscall per
print, and survives the worker being killed. So output printed before a
Timeout, CPUTimeExceeded or MemoryLimitExceeded still comes back. Layout:
a header (bytes kept, truncated flag), then the UTF-8 text.
"""

from __future__ import annotations

import os
import struct
from typing import Any, Final

HEADER: Final = struct.Struct("<QQ")


def buffer_size(limit: int) -> int:
    """Bytes of the shared buffer for an output cap of `limit` bytes."""
    return HEADER.size + limit


def marker(limit: int) -> str:
    return f"... [output truncated at {limit} bytes]\n"


def with_marker(kept: str, truncated: bool, limit: int) -> str:
    """The text shown to the model: what was kept, plus a marker line if cut."""
    if not truncated:
        return kept
    newline = "" if kept.endswith("\n") or not kept else "\n"
    return f"{kept}{newline}{marker(limit)}"


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:  # a worker that broke out may write anything
        return data.decode("utf-8", "replace")


def read_shared(fd: int, limit: int) -> tuple[str, bool]:
    """Host side: the kept text and the truncated flag from a worker's buffer."""
    size, truncated = HEADER.unpack(os.pread(fd, HEADER.size, 0).ljust(HEADER.size, b"\0"))
    data = os.pread(fd, min(size, limit), HEADER.size) if size else b""
    return _decode(data), bool(truncated)


class CappedOutput:
    """Keeps the first `limit` bytes of printed text in `buffer`, then only notes the cut."""

    def __init__(self, limit: int, buffer: Any = None) -> None:
        self._limit = limit
        self._buffer = buffer if buffer is not None else bytearray(buffer_size(limit))
        self._size = 0
        self._truncated = False

    @property
    def truncated(self) -> bool:
        return self._truncated

    def write(self, text: str) -> None:
        """File-like sink used by the builtin print()."""
        if self._truncated or not text:
            return
        data = text.encode("utf-8", "surrogatepass")
        room = self._limit - self._size
        if len(data) > room:
            # Cut on a character boundary: drop a split multi-byte tail.
            data = data[:room].decode("utf-8", "ignore").encode("utf-8", "surrogatepass")
            self._truncated = True
        start = HEADER.size + self._size
        self._buffer[start : start + len(data)] = data
        self._size += len(data)
        # The header last, so the host never reads past bytes written.
        self._buffer[: HEADER.size] = HEADER.pack(self._size, int(self._truncated))

    def text(self) -> str:
        """Everything kept, plus a marker line if output was cut."""
        kept = _decode(bytes(self._buffer[HEADER.size : HEADER.size + self._size]))
        return with_marker(kept, self._truncated, self._limit)

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
