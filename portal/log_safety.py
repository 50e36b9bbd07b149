"""Log records of bounded size: a value a model or an upstream chose never floods the log.

A failing upstream call once logged its whole argument (a 3,000,509-character line) through the
SDK's "Tool 'x' failed: ..." record. Every record passing the portal's handlers is cut to
``MAX_RECORD_CHARS``, and the cut part is described by its size and a short digest, so two
records about the same value can still be matched without the value being kept.
"""

from __future__ import annotations

import hashlib
import logging

__all__ = ["MAX_RECORD_CHARS", "BoundedRecords", "bound_log_records"]

MAX_RECORD_CHARS = 2000


class BoundedRecords(logging.Filter):
    """Cuts a record's message to ``limit`` characters, noting size and SHA-256 prefix of the whole."""

    def __init__(self, limit: int = MAX_RECORD_CHARS) -> None:
        super().__init__()
        self.limit = limit

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's to report
            return True
        if len(message) > self.limit:
            digest = hashlib.sha256(message.encode("utf-8", "surrogatepass")).hexdigest()[:12]
            record.msg = f"{message[: self.limit]}…[cut: {len(message)} characters in all, sha256 {digest}]"
            record.args = None
        return True


def bound_log_records(logger: logging.Logger | None = None, limit: int = MAX_RECORD_CHARS) -> None:
    """Put the filter on every handler of ``logger`` (the root logger by default), once."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, BoundedRecords) for f in handler.filters):
            handler.addFilter(BoundedRecords(limit))
