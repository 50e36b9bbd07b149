"""Benchmark 2: BM25 search speed at 10,000 tools, and its quality on the public query set."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import portal.search as portal_search
from bench.common import Section, fmt_ms, percentile, time_sync
from bench.synthetic import NOUNS, SYSTEMS, synthetic_tools
from portal.catalog import Catalog
from portal.registry import UpstreamTool
from portal.search import SearchDocument, ToolIndex
from portal.search_eval import evaluate, read_queries
from portal.signatures import render_signature

__all__ = ["run_search"]

BUILD_TARGET_S = 2.0
P99_TARGET_MS = 10.0
_PHRASES = (
    "show me the open {noun}s in {sys}", "close the {noun} {sys}", "who owns this {noun}",
    "create a {noun} for the outage", "export all {noun}s to csv", "find {noun} about payment failure",
    "restart the stuck {noun}", "how many {noun}s are resolved in {sys}", "add a comment to the {noun}",
    "delete an old {noun} from {sys}", "approve pending {noun}", "{sys} {noun} labels since yesterday",
)  # fmt: skip


def _queries(count: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    return [
        rng.choice(_PHRASES).format(noun=rng.choice(NOUNS), sys=rng.choice(SYSTEMS)) for _ in range(count)
    ]


def _documents(tools: Sequence[UpstreamTool]) -> list[SearchDocument]:
    """What the catalog feeds the index (as ``portal.catalog._document`` builds it)."""
    return [
        SearchDocument(
            t.qualified_name, t.tool.description or "", list(t.tool.input_schema.get("properties", {}))
        )
        for t in tools
    ]


@dataclass
class _StemStats:
    words: int = 0  # word occurrences stemmed (per build)
    stems: dict[str, str] = field(default_factory=dict)  # distinct words seen


@contextmanager
def _memoised_stemmer() -> Iterator[_StemStats]:
    """What-if, for this process only: the portal's stemmer with a per-word cache in front."""
    original = portal_search._stemmer
    stats = _StemStats()

    class Cached:
        def stemWords(self, words: list[str]) -> list[str]:  # noqa: N802 - snowballstemmer's name
            stats.words += len(words)
            return [stats.stems.get(w) or stats.stems.setdefault(w, original.stemWord(w)) for w in words]

    portal_search._stemmer = Cached()
    try:
        yield stats
    finally:
        portal_search._stemmer = original


def run_search(gitlab: list[UpstreamTool], queries_path: Path, quick: bool) -> Section:
    size = 2_000 if quick else 10_000
    tools = synthetic_tools(size)
    documents = _documents(tools)
    builds = time_sync(lambda: ToolIndex(documents), 1 if quick else 3)
    with _memoised_stemmer() as stem_stats:
        cached_builds = time_sync(lambda: ToolIndex(documents), 1 if quick else 3)
    words_per_build = stem_stats.words // len(cached_builds)
    signatures = time_sync(lambda: [render_signature(t.namespace, t.tool) for t in tools], 1)
    index = ToolIndex(documents)
    queries = _queries(100 if quick else 1_000)
    for query in queries[:20]:  # warm-up
        index.search(query, 10)
    latencies = []
    for query in queries:
        started = time.perf_counter()
        index.search(query, 10)
        latencies.append((time.perf_counter() - started) * 1000)
    build_s = statistics.median(builds) / 1000
    cached_s = statistics.median(cached_builds) / 1000
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)

    gitlab_catalog = Catalog(lambda: (1, gitlab))
    report = evaluate(
        read_queries(queries_path), lambda q, k: [hit.entry.name for hit in gitlab_catalog.search(q, k)]
    )

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    rows = [
        [f"Index build, {size:,} tools (`ToolIndex`)", f"{build_s:.2f} s", f"<= {BUILD_TARGET_S:g} s",
         verdict(build_s <= BUILD_TARGET_S)],
        [f"Index build, {size:,} tools, with a per-word stem cache (what-if, not in the portal)",
         f"{cached_s:.2f} s", f"<= {BUILD_TARGET_S:g} s", verdict(cached_s <= BUILD_TARGET_S)],
        [f"Signatures rendered, {size:,} tools (the rest of a catalog rebuild)",
         f"{signatures[0] / 1000:.2f} s", "-", "-"],
        [f"Query p50 (`ToolIndex.search`, top 10, {len(queries):,} queries)", fmt_ms(p50), "-", "-"],
        ["Query p99", fmt_ms(p99), f"<= {P99_TARGET_MS:g} ms", verdict(p99 <= P99_TARGET_MS)],
        [f"recall@1, six demo servers ({report.queries} queries)", f"{report.recall_at_1:.3f}", "-", "-"],
        ["recall@5, six demo servers", f"{report.recall_at_5:.3f}", "-", "-"],
        ["MRR (top 10), six demo servers", f"{report.mrr:.3f}", "-", "-"],
    ]  # fmt: skip
    misses = "; ".join(f'"{m.q}" (expected {", ".join(m.expect)})' for m in report.misses) or "none"
    verdict_text = (
        f"The index build misses its target: {build_s:.1f} s against {BUILD_TARGET_S:g} s. A profile "
        f"puts nearly all of it in Snowball stemming: `portal.search.tokenize` calls the pure-Python "
        f"`snowballstemmer` once per word occurrence ({words_per_build:,} per build here, for "
        f"{len(stem_stats.stems):,} distinct words). With a per-word cache in front of the same stemmer "
        f"the build takes {cached_s:.2f} s, so caching stems in `portal/search.py` (or PyStemmer, the "
        f"C implementation) is the fix. The synthetic vocabulary is smaller than a real registry's, so "
        f"the cache's gain is optimistic; but occurrences grow with every tool while a vocabulary "
        f"grows far more slowly, so a cache should still absorb most calls."
        if build_s > BUILD_TARGET_S
        else "The index build meets its target."
    )
    notes = f"""\
Speed is measured on {size:,} synthetic tools (section 1's generator) with BM25 (bm25s) over names
split into words, descriptions and parameter names; build times are medians of {len(builds)}
build{"s" if len(builds) > 1 else ""}. The catalog rebuilds the index synchronously, on the
portal's event loop, at the first search or listing after any upstream tool list changes. Query
latency is one `ToolIndex.search` call (tokenize, score every document, rank, top 10) for
generated plain-language queries, one at a time ({fmt_ms(p99)} at p99 against a
{P99_TARGET_MS:g} ms target). {verdict_text}
Quality is `portal.search_eval.evaluate` on `tests/search_queries.jsonl` against the six demo servers'
{len(gitlab)} tools through `Catalog.search`: recall@k is the share of expected tools found in
the top k, MRR the mean reciprocal rank of the first expected tool. Queries with no expected tool in
the top 5: {misses}."""
    return Section(
        title="2. Search",
        header=["Measure", "Measured", "Target", "Verdict"],
        rows=rows,
        notes=notes,
        figures={"build_s": build_s, "cached_build_s": cached_s, "query_p50_ms": p50, "query_p99_ms": p99,
                 "recall_at_1": report.recall_at_1, "recall_at_5": report.recall_at_5, "mrr": report.mrr},
    )  # fmt: skip
