"""Benchmark 8: what a direct-mode call through the portal adds to calling the upstream itself.

One upstream, the conformance fixture (tests/support/conformance_fixture) served
over Streamable HTTP on 127.0.0.1 in its own process, and one ``portal serve``
process in direct mode with that fixture as its only upstream (``tool_prefix: ""``,
reached over the same HTTP transport). The official client calls the same tool
on both, interleaved, each on its own kept-alive session.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import anyio
import httpx
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from bench.common import Section, fmt_ms, percentile, ratio
from bench.served import served_portal

__all__ = ["run_protocol"]

SUPPORT = Path(__file__).resolve().parents[1] / "tests" / "support"
CALLS = [
    ("`test_simple_text` (one text block)", "test_simple_text", {}),
    ("`test_structured_output` (structuredContent)", "test_structured_output", {"a": 2, "b": 3}),
    ("`test_embedded_resource`", "test_embedded_resource", {}),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _fixture() -> Iterator[str]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    child = subprocess.Popen(
        [sys.executable, "-m", "conformance_fixture", "--port", str(port)],
        cwd=SUPPORT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url, timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or child.poll() is not None:
                    raise RuntimeError("the conformance fixture did not start") from None
            time.sleep(0.1)  # polling a child process that has no readiness event; bounded by the deadline
        yield url
    finally:
        child.terminate()
        child.wait(timeout=15)


@asynccontextmanager
async def _client(url: str, token: str | None = None) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(60.0)) as http,
        Client(streamable_http_client(url, http_client=http), mode="legacy") as client,
    ):
        yield client


async def _measure(
    upstream: str, portal: str, token: str, runs: int
) -> list[tuple[list[float], list[float]]]:
    samples: list[tuple[list[float], list[float]]] = [([], []) for _ in CALLS]
    async with _client(upstream) as direct, _client(portal, token) as proxied:
        for _ in range(5):  # warm-up: connections, tool lists, the portal's catalog
            for _, tool, arguments in CALLS:
                await direct.call_tool(tool, arguments)
                await proxied.call_tool(tool, arguments)
        for _ in range(runs):
            for index, (_, tool, arguments) in enumerate(CALLS):
                for client, bucket in ((direct, samples[index][0]), (proxied, samples[index][1])):
                    started = time.perf_counter()
                    await client.call_tool(tool, arguments)
                    bucket.append((time.perf_counter() - started) * 1000)
    return samples


def run_protocol(quick: bool = False) -> Section:
    runs = 30 if quick else 300
    with _fixture() as upstream, tempfile.TemporaryDirectory() as workdir:
        config = {
            "codemode": False,
            "servers": [
                {"namespace": "fixture", "tool_prefix": "", "transport": {"type": "http", "url": upstream}}
            ],
        }
        with served_portal(Path(workdir), config) as portal:
            samples = anyio.run(_measure, upstream, f"{portal.url}/mcp", portal.token(), runs)
    rows, added = [], []
    for (label, _, _), (direct, proxied) in zip(CALLS, samples, strict=True):
        d50, d99, p50, p99 = (percentile(direct, 50), percentile(direct, 99), percentile(proxied, 50),
                              percentile(proxied, 99))  # fmt: skip
        added.append(p50 - d50)
        rows.append(
            [label, fmt_ms(d50), fmt_ms(d99), fmt_ms(p50), fmt_ms(p99), fmt_ms(p50 - d50), ratio(p50, d50)]
        )
    notes = f"""
Client-side wall time of one `tools/call`, {runs} runs per row, interleaved call by call after warm-up:
straight to the upstream (the conformance fixture, `python -m conformance_fixture --port N`, one
uvicorn process) and through a `portal serve` process in direct mode whose only upstream is that same
fixture over Streamable HTTP. Both use the official client with a kept-alive session on 127.0.0.1; the
portal's side carries a bearer token it verifies on every request. What the portal adds is its own HTTP
and MCP hop (parse, auth, permission check, catalog lookup) plus a second Streamable HTTP round trip to
the upstream: about {fmt_ms(sorted(added)[len(added) // 2])} at p50 here. Results pass through
unchanged (structuredContent, embedded resources), so the result size does not change the overhead.
The p99 columns are noisy: the machine that ran this has two cores shared with other work.
"""
    return Section(
        title="8. Direct-mode overhead against the upstream itself",
        header=[
            "Tool call",
            "upstream p50",
            "upstream p99",
            "via portal p50",
            "via portal p99",
            "added (p50)",
            "portal / upstream (p50)",
        ],  # fmt: skip
        rows=rows,
        notes=notes,
        figures={"added_p50_ms": sorted(added)[len(added) // 2]},
    )


if __name__ == "__main__":
    print(run_protocol("--quick" in sys.argv).markdown())
