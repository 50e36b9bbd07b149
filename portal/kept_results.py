"""Values too large for one answer, kept for their user so the next execution can page through them.

An execution whose value does not fit in ``result_max_bytes`` answers with a handle instead
(see portal/envelope.py); code in a later execution of the same user reads the value back with
``results.get(handle=...)`` and returns the part it needs. Only the user who made a value can read it,
values expire, and the memory held is bounded per user and in all.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox import ToolBridge, ToolCallFailed, ToolCallRecord

__all__ = ["RESULTS_NAMESPACE", "KeptResults", "ResultsBridge"]

RESULTS_NAMESPACE = "results"  # the sandbox name of the reader: results.get(handle)
_GET = f"{RESULTS_NAMESPACE}.get"


@dataclass(frozen=True)
class _Kept:
    value: Any
    size: int
    expires: float


class KeptResults:
    def __init__(
        self,
        ttl_seconds: float = 900.0,
        per_user: int = 8,
        max_total_bytes: int = 64 * 1024 * 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self._per_user = per_user
        self._max_total = max_total_bytes
        self._clock = clock
        self._by_user: dict[str, OrderedDict[str, _Kept]] = {}
        self._total = 0

    def keep(self, user_id: str, value: Any, size: int) -> str | None:
        """Store a value and return its handle, or None when it is larger than everything allowed."""
        if size > self._max_total:
            return None
        self._expire()
        kept = self._by_user.setdefault(user_id, OrderedDict())
        while len(kept) >= self._per_user:
            self._drop(user_id, next(iter(kept)))
        while self._total + size > self._max_total:
            self._drop_oldest()
        handle = f"r_{secrets.token_hex(6)}"
        kept[handle] = _Kept(value, size, self._clock() + self.ttl_seconds)
        self._total += size
        return handle

    def get(self, user_id: str, handle: str) -> Any:
        """The kept value; KeyError when the handle is unknown, expired, or another user's."""
        self._expire()
        kept = self._by_user.get(user_id)
        if kept is None:
            raise KeyError(handle)
        return kept[handle].value

    def has_any(self, user_id: str) -> bool:
        self._expire()
        return bool(self._by_user.get(user_id))

    def _expire(self) -> None:
        now = self._clock()
        for user_id, kept in list(self._by_user.items()):
            for handle in [h for h, item in kept.items() if item.expires <= now]:
                self._drop(user_id, handle)

    def _drop(self, user_id: str, handle: str) -> None:
        kept = self._by_user.get(user_id)
        if kept is None or handle not in kept:
            return
        self._total -= kept.pop(handle).size
        if not kept:
            del self._by_user[user_id]

    def _drop_oldest(self) -> None:
        oldest = min(
            (
                (item.expires, user_id, handle)
                for user_id, kept in self._by_user.items()
                for handle, item in kept.items()
            ),
            default=None,
        )
        if oldest is None:
            return
        self._drop(oldest[1], oldest[2])


class ResultsBridge:
    """Answers ``results.get(handle=...)`` from the kept values; every other call goes to ``inner``."""

    def __init__(self, inner: ToolBridge, kept: KeptResults, user_id: str) -> None:
        self._inner = inner
        self._kept = kept
        self._user_id = user_id
        self._calls: list[ToolCallRecord] = []

    def calls(self) -> tuple[ToolCallRecord, ...]:
        """Every call that reached the host so far: what the audit holds if the run never reports."""
        return tuple(self._calls)

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> Any:
        started = time.perf_counter()
        ok = False
        try:
            value = await self._answer(name, arguments)
            ok = True
            return value
        finally:
            self._calls.append(ToolCallRecord(name, (time.perf_counter() - started) * 1000, ok))

    async def _answer(self, name: str, arguments: dict[str, Any]) -> Any:
        if name != _GET:
            return await self._inner.call_tool(name, arguments)
        handle = arguments.get("handle")
        if not isinstance(handle, str) or set(arguments) - {"handle"}:
            raise ToolCallFailed("results.get takes one argument: results.get(handle='r_...')")
        try:
            return self._kept.get(self._user_id, handle)
        except KeyError:
            minutes = int(self._kept.ttl_seconds // 60)
            raise ToolCallFailed(
                f"results.get: no kept value {handle[:40]!r}; values are kept for {minutes} minutes "
                "for the user who made them: run the code that made it again"
            ) from None
