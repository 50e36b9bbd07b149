"""Benchmark 1: what the tool list costs in the model's context, Code Mode against direct mode."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import mcp_types as types

from bench.common import Section
from bench.synthetic import synthetic_tools
from bench.tokens import count_tokens, tools_list_json
from portal.mcp_server import codemode_tools, direct_name
from portal.registry import UpstreamTool

__all__ = ["run_context"]

SIZES = (10, 100, 1_000, 10_000)
# Published by Cloudflare (Code Mode / MCP server portals): tools -> (direct tokens, portal tokens).
CLOUDFLARE = {52: (9_400, 600), 2_500: (1_170_000, 1_000)}


def direct_tools(tools: Sequence[UpstreamTool]) -> list[types.Tool]:
    """The list a client gets with ``codemode: false``: every tool renamed ``namespace_tool``."""
    return [t.tool.model_copy(update={"name": direct_name(t.namespace, t.tool.name)}) for t in tools]


def _plot(points: list[tuple[int, int]], codemode: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [n for n, _ in points]
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    ax.plot(sizes, [t for _, t in points], "o-", label="direct mode (every tool listed)")
    ax.plot(sizes, [codemode] * len(sizes), "s-", label="Code Mode (2 tools, constant)")
    ax.plot(list(CLOUDFLARE), [d for d, _ in CLOUDFLARE.values()], "x", ms=9, color="grey",
            label="Cloudflare published, direct")  # fmt: skip
    ax.plot(list(CLOUDFLARE), [c for _, c in CLOUDFLARE.values()], "+", ms=11, color="grey",
            label="Cloudflare published, portal")  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("tools behind the portal (synthetic registries)")
    ax.set_ylabel("tokens of tools/list (o200k_base)")
    ax.set_title("Context cost of the tool list")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def run_context(gitlab: Sequence[UpstreamTool], plot_path: Path, image_link: str) -> Section:
    codemode = count_tokens(tools_list_json(codemode_tools()))
    rows: list[list[str]] = []
    figures: dict[str, float] = {"codemode_tokens": codemode}

    def add(label: str, count: int, direct: int) -> None:
        rows.append([label, f"{count:,}", f"{direct:,}", f"{direct // max(count, 1):,}", f"{codemode:,}",
                     f"{direct / codemode:,.1f}x"])  # fmt: skip

    gitlab_tokens = count_tokens(tools_list_json(direct_tools(gitlab)))
    add("The six demo servers", len(gitlab), gitlab_tokens)
    figures["gitlab_direct_tokens"] = gitlab_tokens
    points = []
    for size in SIZES:
        tokens = count_tokens(tools_list_json(direct_tools(synthetic_tools(size))))
        points.append((size, tokens))
        add("synthetic", size, tokens)
        figures[f"direct_tokens_{size}"] = tokens
    _plot(points, codemode, plot_path)
    big = points[-1][1]
    notes = f"""\
Code Mode lists the same two tools (`portal_codemode_search`, `portal_codemode_execute`) whatever
stands behind the portal, so its cost is a constant {codemode:,} tokens. Direct mode grows linearly
with the number of tools: about {gitlab_tokens // len(gitlab):,} tokens per demo tool (their output
schemas are large) and about {big // SIZES[-1]:,} per synthetic tool. At 10,000 tools the direct list
({big:,} tokens) is several times a 1M-token context window; Code Mode's does not move. For comparison,
Cloudflare published 52 tools at about 9,400 tokens going to about 600 with their two portal tools,
and 2,500 API endpoints going from 1.17M tokens to about 1,000: the same shape as ours. Counts are the
exact o200k_base tokens of `json.dumps` of the `tools/list` result (`ListToolsResult`, by alias,
without nulls); the search results and tool answers Code Mode spends later are not counted here."""
    return Section(
        title="1. Context cost of the tool list",
        header=[
            "Registry",
            "Tools",
            "Direct mode tokens",
            "Per tool",
            "Code Mode tokens",
            "Direct / Code Mode",
        ],
        rows=rows,
        notes=notes,
        extra=f"![Tokens of tools/list against number of tools, log-log]({image_link})",
        figures=figures,
    )
