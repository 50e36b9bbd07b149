"""Measure search quality on a query set: recall@1, recall@5 and MRR.

The query set is JSON lines ``{"q": "...", "expect": ["ns.tool", ...], "split": "dev"}``
(``split`` optional: "dev" for tuning, "heldout" for reporting only; :func:`split_of`
assigns it from a fixed hash of the query text, so nobody picks which queries are held out). A
query's recall@k is the share of its expected tools found in the top k, out of
at most k (a query expecting two tools scores 1 at k=1 when either is first,
and 1 at k=5 only when both are in the top 5); MRR uses the rank of the first
expected tool in the top 10.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["SPLITS", "EvalQuery", "EvalReport", "evaluate", "read_queries", "split_of"]

_RANK_DEPTH = 10
_SPLIT_SALT = "portal-search-eval/1 "
SPLITS = ("dev", "heldout")


@dataclass(frozen=True)
class EvalQuery:
    q: str
    expect: tuple[str, ...]
    split: str | None = None


def split_of(query: str) -> str:
    """The half a query belongs to: a seeded hash of its text, stable across runs and machines."""
    digest = hashlib.sha256((_SPLIT_SALT + query).encode("utf-8")).digest()
    return SPLITS[digest[0] % 2]


@dataclass(frozen=True)
class Miss:
    q: str
    expect: tuple[str, ...]
    got: tuple[str, ...]


@dataclass
class EvalReport:
    queries: int = 0
    recall_at_1: float = 0.0
    recall_at_5: float = 0.0
    mrr: float = 0.0
    misses: list[Miss] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "queries": self.queries,
            "recall@1": round(self.recall_at_1, 4),
            "recall@5": round(self.recall_at_5, 4),
            "mrr": round(self.mrr, 4),
            "misses": [{"q": m.q, "expect": list(m.expect), "got": list(m.got)} for m in self.misses],
        }


def read_queries(path: Path, split: str | None = None) -> list[EvalQuery]:
    """Parse the JSON-lines file (only ``split``'s half if given); a bad line is an error naming its line."""
    queries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            item = json.loads(line)
            query, expect, half = item["q"], item["expect"], item.get("split")
            if not isinstance(query, str) or not isinstance(expect, list) or not expect:
                raise ValueError("needs a string 'q' and a non-empty list 'expect'")
            if half is not None and half not in SPLITS:
                raise ValueError(f"'split' must be one of {', '.join(SPLITS)}")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path}:{number}: {exc}") from None
        if split is None or half == split:
            queries.append(EvalQuery(query, tuple(str(name) for name in expect), half))
    return queries


def evaluate(queries: Sequence[EvalQuery], search: Callable[[str, int], list[str]]) -> EvalReport:
    """Run every query through ``search(query, k) -> ranked names`` and average the metrics."""
    report = EvalReport(queries=len(queries))
    if not queries:
        return report
    for query in queries:
        ranked = search(query.q, _RANK_DEPTH)
        expected = set(query.expect)
        report.recall_at_1 += len(expected & set(ranked[:1])) / min(len(expected), 1)
        report.recall_at_5 += len(expected & set(ranked[:5])) / min(len(expected), 5)
        first = next((rank for rank, name in enumerate(ranked, start=1) if name in expected), None)
        report.mrr += 1 / first if first else 0.0
        if not expected & set(ranked[:5]):
            report.misses.append(Miss(query.q, query.expect, tuple(ranked[:3])))
    report.recall_at_1 /= len(queries)
    report.recall_at_5 /= len(queries)
    report.mrr /= len(queries)
    return report
