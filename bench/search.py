"""Benchmark 2: search quality on the dev and held-out halves, with and without real distractors,
for each ranking layer, and search speed at 10,000 tools."""

from __future__ import annotations

import gzip
import json
import random
import statistics
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import mcp_types as types

import portal.search as portal_search
from bench.common import Section, fmt_ms, percentile, time_sync
from bench.synthetic import NOUNS, SYSTEMS, synthetic_tools
from portal.catalog import Catalog
from portal.registry import UpstreamTool
from portal.search import SearchDocument, ToolIndex
from portal.search_embeddings import static_embedder
from portal.search_eval import EvalReport, evaluate, read_queries

__all__ = [
    "CONFIGURATIONS",
    "DISTRACTORS",
    "EVAL_SET",
    "SAME_SYSTEMS",
    "distractor_tools",
    "quality",
    "run_search",
]

ROOT = Path(__file__).resolve().parent.parent
EVAL_SET = ROOT / "tests" / "search_eval" / "queries.jsonl"
DISTRACTORS = ROOT / "tests" / "search_eval" / "distractors.json.gz"
BUILD_TARGET_S = 2.0
P99_TARGET_MS = 5.0
# Distractor servers for the same systems as the demo ones (a second GitLab, Sentry or Jira server).
SAME_SYSTEMS = frozenset({"gitlab_community", "gitlab_reference", "sentry_official", "jira_community"})
TARGETS = {"heldout recall@5": 0.95, "heldout MRR": 0.85, "heldout recall@5 with distractors": 0.90}
_PHRASES = (
    "show me the open {noun}s in {sys}", "close the {noun} {sys}", "who owns this {noun}",
    "create a {noun} for the outage", "export all {noun}s to csv", "find {noun} about payment failure",
    "restart the stuck {noun}", "how many {noun}s are resolved in {sys}", "add a comment to the {noun}",
    "delete an old {noun} from {sys}", "approve pending {noun}", "{sys} {noun} labels since yesterday",
)  # fmt: skip


@dataclass(frozen=True)
class Configuration:
    """One ranking layer stack: whether server vocabulary and embeddings take part."""

    label: str
    server_vocabulary: bool
    embeddings: bool


CONFIGURATIONS = (
    Configuration("BM25 (tool text only)", server_vocabulary=False, embeddings=False),
    Configuration("BM25 + server vocabulary", server_vocabulary=True, embeddings=False),
    Configuration(
        "BM25 + server vocabulary + embeddings (the portal)", server_vocabulary=True, embeddings=True
    ),
)


def distractor_tools(path: Path = DISTRACTORS) -> list[UpstreamTool]:
    """The fixture's real third-party tools (bench/collect_distractors.py), as the registry lists them."""
    with gzip.open(path, "rt", encoding="utf-8") as file:
        document = json.load(file)
    return [
        UpstreamTool(
            server["namespace"],
            types.Tool.model_validate(
                {"name": t["name"], "description": t["description"], "inputSchema": t["inputSchema"]}
            ),
            server["instructions"],
        )
        for server in document["servers"]
        for t in server["tools"]
    ]


@contextmanager
def _embeddings(enabled: bool) -> Iterator[None]:
    """What-if for this process: the catalog's indexes built with or without the embedding model."""
    original = portal_search.static_embedder
    portal_search.static_embedder = original if enabled else lambda: None  # type: ignore[assignment]
    try:
        yield
    finally:
        portal_search.static_embedder = original


def quality(
    tools: Sequence[UpstreamTool], configuration: Configuration, split: str | None, path: Path = EVAL_SET
) -> EvalReport:
    """recall@1/@5 and MRR of ``Catalog.search`` over ``tools`` on one half of the query set."""
    listed = list(tools) if configuration.server_vocabulary else [replace(t, instructions="") for t in tools]
    with _embeddings(configuration.embeddings):
        catalog = Catalog(lambda: (1, listed))
        catalog.entries()  # build the index inside the what-if
    return evaluate(read_queries(path, split), lambda q, k: [hit.entry.name for hit in catalog.search(q, k)])


def _queries(count: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    return [
        rng.choice(_PHRASES).format(noun=rng.choice(NOUNS), sys=rng.choice(SYSTEMS)) for _ in range(count)
    ]


def _documents(tools: Sequence[UpstreamTool]) -> list[SearchDocument]:
    """What the catalog feeds the index, with a line of domain text per synthetic server."""
    return [
        SearchDocument(
            t.qualified_name,
            t.tool.description or "",
            list(t.tool.input_schema.get("properties", {})),
            f"{t.namespace}: the {t.namespace} system, its records and their history.",
        )
        for t in tools
    ]


@dataclass(frozen=True)
class _Speed:
    build_s: float
    p50_ms: float
    p99_ms: float


def _speed(documents: list[SearchDocument], queries: list[str], embeddings: bool, builds: int) -> _Speed:
    embedder = static_embedder() if embeddings else None
    build_ms = time_sync(lambda: ToolIndex(documents, embedder=embedder), builds)
    index = ToolIndex(documents, embedder=embedder)
    for query in queries[:20]:  # warm-up
        index.search(query, 10)
    latencies = []
    for query in queries:
        started = time.perf_counter()
        index.search(query, 10)
        latencies.append((time.perf_counter() - started) * 1000)
    return _Speed(statistics.median(build_ms) / 1000, percentile(latencies, 50), percentile(latencies, 99))


def _cells(report: EvalReport) -> list[str]:
    return [f"{report.recall_at_1:.3f}", f"{report.recall_at_5:.3f}", f"{report.mrr:.3f}"]


def run_search(demo: list[UpstreamTool], queries_path: Path, quick: bool) -> Section:
    distractors = distractor_tools()
    servers = len({t.namespace for t in distractors})
    others = [t for t in distractors if t.namespace not in SAME_SYSTEMS]
    catalogs = {
        "six demo servers": demo,
        f"+ {len(distractors):,} distractors": [*demo, *distractors],
        f"+ {len(others):,} distractors of other systems": [*demo, *others],
    }
    results: dict[tuple[str, str, str], EvalReport] = {}
    rows = []
    for configuration in CONFIGURATIONS:
        for where, tools in catalogs.items():
            halves = {split: quality(tools, configuration, split) for split in ("dev", "heldout")}
            for split, report in halves.items():
                results[(configuration.label, where, split)] = report
            rows.append([configuration.label, where, *_cells(halves["dev"]), *_cells(halves["heldout"])])
    portal_label, (plain, mixed, other) = CONFIGURATIONS[-1].label, list(catalogs)
    held = results[(portal_label, plain, "heldout")]
    held_mixed = results[(portal_label, mixed, "heldout")]
    held_other = results[(portal_label, other, "heldout")]
    dev = results[(portal_label, plain, "dev")]
    own = quality(demo, CONFIGURATIONS[-1], None, queries_path)

    size = 2_000 if quick else 10_000
    documents = _documents(synthetic_tools(size))
    queries = _queries(100 if quick else 1_000)
    speeds = {
        embeddings: _speed(documents, queries, embeddings, 1 if quick else 3) for embeddings in (False, True)
    }

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    achieved = {
        "heldout recall@5": held.recall_at_5,
        "heldout MRR": held.mrr,
        "heldout recall@5 with distractors": held_mixed.recall_at_5,
    }
    same = ", ".join(sorted(SAME_SYSTEMS & {t.namespace for t in distractors}))
    target_lines = [
        f"- {name}: {achieved[name]:.3f} against >= {target:.2f}: {verdict(achieved[name] >= target)}"
        for name, target in TARGETS.items()
    ]
    speed_lines = [
        f"- {'with embeddings (the portal)' if embeddings else 'BM25 only'}: index build {s.build_s:.2f} s "
        f"(<= {BUILD_TARGET_S:g} s: {verdict(s.build_s <= BUILD_TARGET_S)}), query p50 {fmt_ms(s.p50_ms)}, "
        f"p99 {fmt_ms(s.p99_ms)} (<= {P99_TARGET_MS:g} ms: {verdict(s.p99_ms <= P99_TARGET_MS)})"
        for embeddings, s in speeds.items()
    ]
    # Only the dev half's misses are shown: listing held-out misses would invite tuning on them.
    misses = "; ".join(f'"{m.q}" ({", ".join(m.expect)})' for m in dev.misses) or "none"
    newline = "\n"
    notes = f"""\
Quality is `portal.search_eval.evaluate` through `Catalog.search` on `tests/search_eval/queries.jsonl`:
{len(read_queries(EVAL_SET))} queries written before any tuning from each system's own product words and from
the way people prompt agents, at least two per tool of the six demo servers ({len(demo)} tools), split by a
seeded hash of the query text into a development half ({len(read_queries(EVAL_SET, "dev"))}
queries, the only one weights were tuned on) and a held-out half ({held.queries} queries, only reported).
recall@k is the share of a query's expected tools in the top k, MRR the mean reciprocal rank of the
first expected tool in the top 10. Each row adds one layer: BM25 over each tool's name (weighted),
first sentence (weighted), rest of the description and parameter names; then each server's domain
vocabulary (its MCP `instructions`, indexed once per server and added at a lower weight); then the
static embeddings of wordllama's bundled model (`embeddings` extra) fused with BM25. Learning from use
(`portal/search_feedback.py`) starts empty and so takes no part here. Distractors are
{len(distractors):,} real tool definitions listed over stdio from {servers} MCP servers published on npm
(`tests/search_eval/distractors.json.gz`, written once by `bench/collect_distractors.py`; several
overlap the demo systems: a community GitLab server, Sentry's own, a Jira one, Datadog, Kubernetes),
mixed into the same catalog. Before any tuning
(commit 35f3059), BM25 scored recall@5 0.753 / 0.732 and MRR 0.542 / 0.553 (dev / held-out).

Targets, on the held-out half:
{newline.join(target_lines)}

With all distractors, part of the loss is not a ranking error: {same} are other MCP servers for the same
GitLab, Sentry and Jira, whose tools answer the same queries, but only the demo server's tool counts as
right. Without those servers ({len(others):,} distractors of other systems) held-out recall@5 is
{held_other.recall_at_5:.3f} and MRR {held_other.mrr:.3f}.

The project's older query set (`tests/search_queries.jsonl`, {own.queries} queries, written with the tool
docs at hand) gives recall@1 {own.recall_at_1:.3f}, recall@5 {own.recall_at_5:.3f}, MRR {own.mrr:.3f}.
Development queries with no expected tool in the top 5 (the portal's ranking, no distractors): {misses}.
The held-out half has {len(held.misses)} such queries; they are deliberately not listed.

Speed on {size:,} synthetic tools (section 1's generator, a line of domain text per server), median
of {1 if quick else 3} builds; query latency is one `ToolIndex.search` (tokenize, score every document,
embed the query, fuse, top 10) for {len(queries):,} generated queries one at a time:
{newline.join(speed_lines)}"""
    portal_speed = speeds[True]
    return Section(
        title="2. Search",
        header=["Ranking", "Catalog", "dev recall@1", "dev recall@5", "dev MRR",
                "held-out recall@1", "held-out recall@5", "held-out MRR"],
        rows=rows,
        notes=notes,
        figures={"heldout_recall_at_5": held.recall_at_5, "heldout_mrr": held.mrr,
                 "heldout_recall_at_5_distractors": held_mixed.recall_at_5,
                 "heldout_recall_at_5_other_distractors": held_other.recall_at_5,
                 "query_p99_ms": portal_speed.p99_ms, "build_s": portal_speed.build_s},
    )  # fmt: skip
