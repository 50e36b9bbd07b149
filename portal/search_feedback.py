"""Learning from use: tools that worked after a search rank higher for similar words later.

When an execute succeeds, the tools it called successfully are credited to the words of the
searches made just before by the same caller: "query terms -> tool names", with no user id
in what is learned. A later search whose words were credited lifts those tools' scores by at
most ``MAX_LIFT`` (a share of their own score), so use reorders close candidates but cannot push
an unrelated tool into the results, nor show a tool the caller may not use (ranking only
reorders what the catalog returned for that caller).

Everything is in memory and bounded: ``MAX_TERMS`` words (least recently credited dropped
first), ``MAX_TOOLS_PER_TERM`` tools per word, and a short list of pending searches per caller,
kept under a digest of the caller's id for ``PENDING_SECONDS``. Nothing is persisted: a restart
starts from what the index alone knows.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from portal.catalog import SearchHit
from portal.search import tokenize
from sandbox import ExecutionResult

__all__ = ["SearchFeedback"]

MAX_LIFT = 0.5
MAX_TERMS = 4_096
MAX_TOOLS_PER_TERM = 16
MAX_CALLERS = 1_024
PENDING_PER_CALLER = 4
PENDING_SECONDS = 600.0
EXTRA_DEPTH = 10  # candidates fetched beyond the limit, so a credited tool just below it can rise


@dataclass(frozen=True)
class _Pending:
    terms: frozenset[str]
    at: float


class SearchFeedback:
    """What use has taught search, shared by every caller of one portal process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._credits: OrderedDict[str, Counter[str]] = OrderedDict()
        self._pending: OrderedDict[str, list[_Pending]] = OrderedDict()

    def ranked(
        self, caller: str, query: str, limit: int, search: Callable[[str, int], list[SearchHit]]
    ) -> list[SearchHit]:
        """``search(query, k)`` reordered by what use taught, cut to ``limit``; the query is noted."""
        terms = frozenset(tokenize(query))
        self._note_search(caller, terms)
        hits = search(query, limit + EXTRA_DEPTH if self._credits else limit)
        lifted = [replace(hit, score=hit.score * (1 + self._lift(terms, hit.entry.name))) for hit in hits]
        return sorted(lifted, key=lambda hit: -hit.score)[:limit]

    def learn(self, caller: str, result: ExecutionResult) -> None:
        """Credit a successful run's tools to the caller's recent searches; a failed run teaches nothing."""
        pending = self._pending.pop(_digest(caller), [])
        now = self._clock()
        terms = {term for p in pending if now - p.at <= PENDING_SECONDS for term in p.terms}
        tools = {call.name for call in result.tool_calls if call.ok}
        if not result.ok or not terms or not tools:
            return
        for term in terms:
            credits = self._credits.pop(term, Counter())
            credits.update(tools)
            self._credits[term] = Counter(dict(credits.most_common(MAX_TOOLS_PER_TERM)))
        while len(self._credits) > MAX_TERMS:
            self._credits.popitem(last=False)

    def _note_search(self, caller: str, terms: frozenset[str]) -> None:
        if not terms:
            return
        key = _digest(caller)
        pending = [*self._pending.pop(key, []), _Pending(terms, self._clock())][-PENDING_PER_CALLER:]
        self._pending[key] = pending
        while len(self._pending) > MAX_CALLERS:
            self._pending.popitem(last=False)

    def _lift(self, terms: Sequence[str] | frozenset[str], tool: str) -> float:
        """Share of the query's credited uses that went to ``tool``, times ``MAX_LIFT``."""
        credited = [self._credits[t] for t in terms if t in self._credits]
        if not credited:
            return 0.0
        share = sum(c[tool] / sum(c.values()) for c in credited) / len(terms)
        return MAX_LIFT * min(1.0, share)


def _digest(caller: str) -> str:
    """Pending searches are keyed by a digest, so not even the in-memory state holds a user id."""
    return hashlib.sha256(caller.encode("utf-8")).hexdigest()[:16]
