"""Benchmark: what result shapes cost in a search answer, before and after (o200k_base tokens).

"Before" is the answer as it was without shapes: the same hits and signatures,
with object results typed bare ``dict`` / ``list[dict]`` and no shape lines.
"After" is what ``portal_codemode_search`` answers now (`portal.search_answer`).
``python -m bench.shapes`` prints the section as markdown.
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

import anyio

from bench.common import Section
from bench.tokens import count_tokens
from portal.catalog import Catalog, CatalogEntry
from portal.registry import UpstreamTool
from portal.search_answer import brief_answer, result_of
from portal.search_eval import read_queries
from portal.signatures import is_wrapped_output, schema_type

__all__ = ["run_shapes"]

LIMIT = 10  # the search tool's default
_BARE = ("dict", "list[dict]", "Any", "list", "dict[str, Any]", "list[dict[str, Any]]")


def legacy_return(entry: CatalogEntry) -> str:
    """The return type search showed before shapes: any object result was ``dict``."""
    schema = entry.tool.output_schema
    if not schema:
        return "Any"
    if is_wrapped_output(schema):
        return schema_type(schema["properties"]["result"], schema.get("$defs", {}))
    return "dict"


def legacy_line(entry: CatalogEntry) -> str:
    result = result_of(entry, None)
    current = result.annotation if result is not None else "Any"
    head, marker, tail = entry.signature.partition(f") -> {current}")
    return f"{head}) -> {legacy_return(entry)}{tail}" if marker else entry.signature


def answers(catalog: Catalog, queries: Sequence[str]) -> list[tuple[str, str]]:
    """(before, after) answer texts for each query."""
    out = []
    for query in queries:
        entries = [hit.entry for hit in catalog.search(query, LIMIT)]
        signatures, shapes = brief_answer(entries, query, None)
        out.append(("\n".join(legacy_line(e) for e in entries), "\n".join(signatures + shapes)))
    return out


def run_shapes(tools: list[UpstreamTool], queries_path: Path) -> Section:
    catalog = Catalog(lambda: (1, tools))
    queries = [q.q for q in read_queries(queries_path)]
    pairs = answers(catalog, queries)
    before = [count_tokens(b) for b, _ in pairs]
    after = [count_tokens(a) for _, a in pairs]
    cut = sum(1 for _, a in pairs if "more result shapes" in a)
    extra = statistics.mean(after) - statistics.mean(before)
    entries = catalog.entries()
    bare_before = sum(1 for e in entries if legacy_return(e) in _BARE)
    bare_after = sum(1 for e in entries if (r := result_of(e, None)) is None or r.annotation in _BARE)

    def row(name: str, fn: object) -> list[str]:
        b, a = fn(before), fn(after)  # type: ignore[operator]
        return [name, f"{b:,.0f}", f"{a:,.0f}", f"{a / b:.2f}x"]

    rows = [
        row("Mean tokens per search answer", statistics.mean),
        row("Median tokens per search answer", statistics.median),
        row("Largest search answer", max),
        ["Signatures typed bare `dict`, `list[dict]` or `Any`", f"{bare_before} of {len(entries)}",
         f"{bare_after} of {len(entries)}", "-"],
    ]  # fmt: skip
    notes = f"""\
Every query of `tests/search_queries.jsonl` ({len(queries)}) searched with the default limit
({LIMIT} hits) over the six demo servers' {len(entries)} tools; tokens are exact o200k_base counts of
the answer text. Before: the same hits' signatures with object results typed bare `dict` or
`list[dict]` and nothing else, as search answered before result shapes. After: the answer
`portal_codemode_search` gives now, signatures naming their result types (`-> list[ProjectSummary]`)
and then each shape once per answer (`ProjectSummary = {{id: int, path: str, ...}}`), at most
{_limits()}; {cut} of {len(queries)} answers reached the shape-line cap (their last line
says how many shapes it left out; an exact tool name gets the whole contract). The {extra:,.0f} extra
tokens per answer buy the field names: without them a model guesses (`p["path_with_namespace"]` on
`gitlab.list_projects()`, the KeyError issue 12 reports) and pays a failed execute and one more turn.
`tests/e2e/test_model_writes_code_from_search.py` checks that tasks (a) to (e) of section 5 can be
written from the answers' field names alone."""
    return Section(
        title="7. Search answers with result shapes",
        header=["Measure", "Before shapes", "With shapes", "With / before"],
        rows=rows,
        notes=notes,
        figures={"mean_before": statistics.mean(before), "mean_after": statistics.mean(after),
                 "median_before": statistics.median(before), "median_after": statistics.median(after)},
    )  # fmt: skip


def _limits() -> str:
    from portal import shapes

    return (
        f"{shapes.MAX_FIELDS} fields per shape (fields the query names kept first, the rest as `...`), "
        f"{shapes.MAX_DEPTH} levels of nesting and {shapes.MAX_SHAPE_LINES} shape lines per answer"
    )


async def _demo_tools() -> list[UpstreamTool]:
    """Every demo server's tools, listed through the portal's registry against the demo's fakes."""
    import tempfile

    from demo.backends import demo_config
    from portal.config import PortalConfig
    from portal.runtime import open_runtime

    with tempfile.TemporaryDirectory(prefix="bench-shapes-") as tmp, demo_config(state_dir=tmp) as config:
        async with open_runtime(PortalConfig.model_validate(config)) as runtime:
            return runtime.registry.tools()


def main() -> int:
    import logging

    logging.basicConfig(level=logging.WARNING, force=True)
    root = Path(__file__).resolve().parent.parent
    tools = anyio.run(_demo_tools)
    print(run_shapes(tools, root / "tests" / "search_queries.jsonl").markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
