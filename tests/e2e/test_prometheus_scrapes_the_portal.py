"""A real Prometheus scrapes the portal's /metrics, and code reads them back through the portal."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from portal_testing import RunningPortal, demo_servers, free_port, mcp_session, running_portal

pytestmark = pytest.mark.anyio

if not Path("/usr/bin/prometheus").exists():
    if os.environ.get("CI"):
        raise RuntimeError("Prometheus is missing: `make test` installs Debian's prometheus package")
    pytest.skip(
        "Debian's prometheus package is not installed (make test installs it)", allow_module_level=True
    )

SCRAPE_TOKEN = "scrape-token-for-tests"
PROGRAM = """
found = prometheus.instant_query(query='portal_upstream_up{namespace="gitlab"}')
[(s["metric"].get("namespace"), s["value"]) for s in found["samples"]]
"""


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPortal]:
    port = free_port()
    # The portal is not serving yet while its upstreams start: do not wait for the first scrape.
    scrape = {
        "wait_for_scrape": False,
        "scrape_targets": [f"127.0.0.1:{port}"],
        "scrape_bearer_token": SCRAPE_TOKEN,
    }
    with (
        demo_servers("gitlab", "prometheus", options={"prometheus": scrape}) as servers,
        running_portal(
            tmp_path_factory.mktemp("prom"), {"servers": servers, "metrics_token": SCRAPE_TOKEN}, port=port
        ) as running,
    ):
        yield running


async def test_code_reads_the_portals_own_metrics_from_a_real_prometheus(portal: RunningPortal) -> None:
    answer: dict = {}
    async with mcp_session(portal) as client:
        with anyio.fail_after(40):  # scrape interval 1 s, plus Prometheus's first target refresh
            while not answer.get("value"):
                result = await client.call_tool("portal_codemode_execute", {"code": PROGRAM})
                answer = json.loads(result.content[0].text)
                assert answer["error"] is None, answer
                if not answer["value"]:
                    await anyio.sleep(0.5)  # waiting on an external scraper; bounded by fail_after
    assert answer["value"] == [["gitlab", 1.0]]
