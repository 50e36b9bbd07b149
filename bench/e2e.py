"""Benchmark 4: execute end to end over Streamable HTTP, against the same calls made directly.

Two real portal processes (uvicorn on 127.0.0.1, the demo config with a temporary
state directory and a free port): one in Code Mode, one with ``codemode: false``.
The official MCP client talks to each with a development bearer token.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from bench.common import Section, fmt_ms, percentile, ratio, time_async, time_sync
from bench.served import ServedPortal, served_portal
from demo.backends import demo_config

__all__ = ["run_e2e"]

PROJECT = {"project": "infra/api"}
Call = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class Program:
    label: str
    code: str
    direct: list[Call]  # the same work as direct tool calls (namespace_tool)
    baseline: str  # how the direct column is described


PROGRAMS = [
    Program("Trivial program (`1 + 1`)", "1 + 1", [("gitlab_get_project", PROJECT)],
            "1 direct call (the cheapest tool round trip)"),
    Program(
        "3 tool calls",
        'p = gitlab.get_project(project="infra/api")\n'
        'mrs = gitlab.list_merge_requests(project="infra/api")\n'
        'pipes = gitlab.list_pipelines(project="infra/api")\n'
        '[p["id"], len(mrs), len(pipes)]',
        [("gitlab_get_project", PROJECT), ("gitlab_list_merge_requests", PROJECT),
         ("gitlab_list_pipelines", PROJECT)],
        "the same 3 direct calls, one by one",
    ),
    Program(
        "20 tool calls in a loop",
        "ids = []\n"
        "for _ in range(20):\n"
        '    ids.append(gitlab.get_project(project="infra/api")["id"])\n'
        "len(ids)",
        [("gitlab_get_project", PROJECT)] * 20,
        "the same 20 direct calls, one by one",
    ),
    Program(
        "10 concurrent calls inside code (`parallel`)",
        "paths = ['infra/api', 'infra/web', 'platform/auth', 'data/etl'] * 3\n"
        "pending = [gitlab.get_project.bind(project=p) for p in paths[:10]]\n"
        "[p['id'] for p in parallel(*pending)]",
        [("gitlab_get_project", {"project": p})
         for p in (["infra/api", "infra/web", "platform/auth", "data/etl"] * 3)[:10]],
        "the same 10 direct calls, one by one",
    ),
]  # fmt: skip


@contextmanager
def _portal_process(workdir: Path, codemode: bool) -> Iterator[ServedPortal]:
    """``portal serve`` on the demo config (fakes started for it), in Code Mode or direct mode."""
    # One user runs every program back to back: lift the per-user admission limits for this measurement.
    limits = {"per_minute": None, "in_flight": None}
    with (
        demo_config(codemode=codemode, executions=limits) as config,
        served_portal(workdir, config) as served,
    ):
        yield served


@asynccontextmanager
async def _session(portal: ServedPortal) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {portal.token()}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(60.0)) as http,
        Client(streamable_http_client(f"{portal.url}/mcp", http_client=http)) as client,
    ):
        yield client


async def _execute(client: Client, code: str) -> None:
    result = await client.call_tool("portal_codemode_execute", {"code": code})
    answer = json.loads(result.content[0].text)  # type: ignore[union-attr]
    if result.is_error or not answer["ok"]:
        raise RuntimeError(f"execute failed: {answer}")


async def _direct(client: Client, calls: list[Call]) -> None:
    for name, arguments in calls:
        result = await client.call_tool(name, arguments)
        if result.is_error:
            raise RuntimeError(f"{name} failed: {result.content}")


async def _measure(
    codemode: ServedPortal, direct: ServedPortal, runs: int, warmups: int
) -> list[tuple[list[float], list[float]]]:
    samples = []
    async with _session(codemode) as code_client, _session(direct) as direct_client:
        for program in PROGRAMS:
            for _ in range(warmups):  # warm-up: connections, caches, first imports
                await _execute(code_client, program.code)
                await _direct(direct_client, program.direct)
            in_code: list[float] = []
            one_by_one: list[float] = []
            for _ in range(runs):  # interleaved, so a noisy moment hits both alike
                in_code += await time_async(lambda p=program: _execute(code_client, p.code), 1)  # type: ignore[misc]
                one_by_one += await time_async(lambda p=program: _direct(direct_client, p.direct), 1)  # type: ignore[misc]
            samples.append((in_code, one_by_one))
    return samples


def _upstream_call_ms(runs: int, no_nagle: bool) -> float:
    """p50 of one ``get_project`` from the GitLab client to its fake backend, in this process.

    ``no_nagle`` is a what-if: the fake's handler with ``disable_nagle_algorithm`` set.
    """
    from http.server import BaseHTTPRequestHandler

    from demo.gitlab import fake
    from servers.gitlab.client import GitLabClient
    from servers.gitlab.settings import Settings

    saved = BaseHTTPRequestHandler.disable_nagle_algorithm
    BaseHTTPRequestHandler.disable_nagle_algorithm = no_nagle
    backend = fake.start(host="127.0.0.1", port=0)
    try:
        client = GitLabClient(Settings.model_validate(backend.settings))
        client.get_project("infra/api")  # opens the keep-alive connection
        return percentile(time_sync(lambda: client.get_project("infra/api"), runs), 50)
    finally:
        backend.stop()
        BaseHTTPRequestHandler.disable_nagle_algorithm = saved


def _net(ms: float) -> str:
    return f"about {fmt_ms(ms)}" if ms >= 1 else "nothing measurable (under 1 ms)"


def run_e2e(quick: bool) -> Section:
    runs = 3 if quick else 30
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp, ExitStack() as stack:
        started = []
        for codemode in (True, False):
            workdir = Path(tmp) / ("codemode" if codemode else "direct")
            workdir.mkdir()
            started.append(stack.enter_context(_portal_process(workdir, codemode)))
        samples = anyio.run(_measure, started[0], started[1], runs, 1 if quick else 2)
    rows: list[list[str]] = []
    figures: dict[str, float] = {}
    for index, (program, (in_code, one_by_one)) in enumerate(zip(PROGRAMS, samples, strict=True)):
        c50, c99 = percentile(in_code, 50), percentile(in_code, 99)
        d50, d99 = percentile(one_by_one, 50), percentile(one_by_one, 99)
        rows.append([program.label, fmt_ms(c50), fmt_ms(c99), program.baseline, fmt_ms(d50), fmt_ms(d99),
                     ratio(c50, d50)])  # fmt: skip
        figures[f"program{index}_execute_p50_ms"] = c50
        figures[f"program{index}_direct_p50_ms"] = d50
    upstream = _upstream_call_ms(5 if quick else 20, no_nagle=False)
    upstream_fixed = _upstream_call_ms(5 if quick else 20, no_nagle=True)
    trivial, twenty = samples[0][0], samples[2][0]
    per_call = (percentile(twenty, 50) - percentile(trivial, 50)) / 20
    per_direct = percentile(samples[2][1], 50) / 20
    figures["upstream_call_p50_ms"] = upstream
    figures["upstream_call_no_nagle_p50_ms"] = upstream_fixed
    notes = f"""\
Client-side wall time of one `tools/call` of `portal_codemode_execute` against the same upstream calls
made one by one as direct tool calls (`gitlab_*`) on a second portal with `codemode: false`; both over
Streamable HTTP on 127.0.0.1 with the official client and a bearer token, each portal in its own uvicorn
process with the demo GitLab server and its fake backend; {runs} runs per row, interleaved, after
warm-up. A ratio above 1 means Code Mode took longer. Every execute pays for a fresh sandbox process
(section 3), so a trivial program costs several times one direct call. Each further tool call inside
the code costs about {fmt_ms(per_call)} (20-call p50 minus trivial p50, over 20) against
{fmt_ms(per_direct)} per direct call, so with many calls the two converge.

Both columns are dominated by the upstream itself: back to back on a kept-alive connection, one
`get_project` from the GitLab client to the fake backend, in-process with no MCP at all, takes
{fmt_ms(upstream)} at p50. That is not the fake's work but TCP: the fake (stdlib
`BaseHTTPRequestHandler`) writes headers and body in separate small writes, and Nagle's algorithm
against the client's delayed ACK holds the body back. Measured in this run with the handler's
`disable_nagle_algorithm` set (a what-if inside the bench process, not in demo/_fakes.py), the same
call takes {fmt_ms(upstream_fixed)}. Until the fake sets it, read the per-call figures above as
inflated by the fake, not by the portal. Net of that upstream time, the portal adds
{_net(per_call - upstream)} per call made inside code and {_net(per_direct - upstream)} per direct
call (an MCP round trip over HTTP); both are differences of medians, so only their size is meaningful.
What this table cannot show is the larger saving: in direct mode an agent needs a model turn per
call, with every intermediate result in its context, whereas one execute does the loop in a single
turn and returns only the summary (not measured here).
"""
    return Section(
        title="4. Execute end to end over Streamable HTTP",
        header=["Program (Code Mode execute)", "p50", "p99", "Direct mode equivalent", "p50", "p99",
                "Code Mode / direct (p50)"],
        rows=rows,
        notes=notes,
        figures=figures,
    )  # fmt: skip
