"""Issue 10, item 3: /metrics names every tool in its counters, so it is not served to the public.

Without a scrape token only a direct loopback connection may read it (a request relayed by a proxy
on the same host arrives from loopback too, and says so in its forwarding headers); with
``metrics_token`` set, every scraper must present it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from portal_testing import RunningPortal, running_portal
from starlette.requests import Request

from portal.metrics import ScrapeGate

TOKEN = "a-scrape-token"


def _request(client: str, headers: dict[str, str] | None = None) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return Request(
        {"type": "http", "method": "GET", "path": "/metrics", "headers": raw, "client": (client, 5)}
    )


@pytest.fixture(scope="module")
def open_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPortal]:
    with running_portal(tmp_path_factory.mktemp("metrics-open"), {"servers": []}) as running:
        yield running


@pytest.fixture(scope="module")
def token_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPortal]:
    with running_portal(
        tmp_path_factory.mktemp("metrics-token"), {"servers": [], "metrics_token": TOKEN}
    ) as running:
        yield running


def test_metrics_relayed_by_a_proxy_are_not_served_without_a_token(open_portal: RunningPortal) -> None:
    direct = httpx.get(f"{open_portal.base_url}/metrics", timeout=10)
    relayed = httpx.get(
        f"{open_portal.base_url}/metrics", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=10
    )
    assert direct.status_code == 200 and "portal_executions" in direct.text
    assert relayed.status_code == 404
    assert "portal_" not in relayed.text


def test_metrics_from_a_remote_address_are_not_served_without_a_token() -> None:
    gate = ScrapeGate()
    assert gate.allows(_request("127.0.0.1"))
    assert gate.allows(_request("::1"))
    assert not gate.allows(_request("10.0.0.8"))
    assert not gate.allows(_request("192.0.2.1"))
    assert not gate.allows(_request("127.0.0.1", {"Forwarded": "for=192.0.2.1"}))


def test_metrics_with_a_scrape_token_need_the_token_even_on_loopback(token_portal: RunningPortal) -> None:
    url = f"{token_portal.base_url}/metrics"
    assert httpx.get(url, timeout=10).status_code == 404
    assert httpx.get(url, headers={"Authorization": "Bearer wrong"}, timeout=10).status_code == 404
    allowed = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert allowed.status_code == 200 and "portal_executions" in allowed.text


def test_a_remote_scraper_with_the_token_is_served() -> None:
    gate = ScrapeGate(TOKEN)
    assert gate.allows(_request("10.0.0.8", {"Authorization": f"Bearer {TOKEN}"}))
    assert not gate.allows(_request("10.0.0.8", {"Authorization": f"Bearer {TOKEN}x"}))


def test_config_never_prints_the_scrape_token(tmp_path: Path) -> None:
    from portal.config import PortalConfig

    config = PortalConfig.model_validate({"state_dir": str(tmp_path), "metrics_token": TOKEN})
    assert TOKEN not in repr(config)
