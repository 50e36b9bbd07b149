"""A quiet, honest demo: no access lines for scrapes and probes, one startup line saying who is up and why
not, Prometheus every 15 s in the demo (1 s stays the tests' default), progress on a terminal."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator
from pathlib import Path

import pytest

from demo import launcher
from demo.prometheus import fake as prometheus_fake
from portal.access_log import ProbeFilter, uvicorn_log_config
from portal.cli_progress import Progress
from portal.config import PortalConfig
from portal.registry import ServerStatus
from portal.status_line import servers_line


def _access(path: str, status: int = 200, method: str = "GET") -> logging.LogRecord:
    return logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d', ("127.0.0.1:5", method, path,
        "1.1", status), None,
    )  # fmt: skip


def test_scrapes_and_health_probes_leave_no_access_line_but_failures_and_other_paths_do() -> None:
    keep = ProbeFilter().filter
    assert [keep(_access(p)) for p in ("/metrics", "/healthz", "/readyz", "/metrics?x=1")] == [False] * 4
    assert keep(_access("/mcp", method="POST")) is True
    assert keep(_access("/admin")) is True
    assert keep(_access("/metrics", status=404)) is True
    assert keep(_access("/healthz", status=503)) is True


@pytest.fixture
def uvicorn_loggers() -> Iterator[None]:
    """Uvicorn's loggers as they were: dictConfig points them at this test's captured stdout."""
    loggers = [logging.getLogger(name) for name in ("uvicorn", "uvicorn.error", "uvicorn.access")]
    saved = [(lg.handlers[:], lg.filters[:], lg.level, lg.propagate) for lg in loggers]
    try:
        yield
    finally:
        for lg, (handlers, filters, level, propagate) in zip(loggers, saved, strict=True):
            lg.handlers, lg.filters, lg.level, lg.propagate = handlers, filters, level, propagate


@pytest.mark.usefixtures("uvicorn_loggers")
def test_uvicorns_access_log_carries_the_filter_unless_log_probes_is_on(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logging.config.dictConfig(uvicorn_log_config(log_probes=False))
    access = logging.getLogger("uvicorn.access")
    access.info(*_record_args("/metrics"))
    access.info(*_record_args("/mcp"))
    assert capsys.readouterr().out.count('"GET') == 1
    logging.config.dictConfig(uvicorn_log_config(log_probes=True))
    logging.getLogger("uvicorn.access").info(*_record_args("/metrics"))
    assert '"GET /metrics' in capsys.readouterr().out
    assert PortalConfig().log_probes is False


def _record_args(path: str) -> tuple[object, ...]:
    return ('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET", path, "1.1", 200)


def test_the_startup_line_names_the_servers_up_and_why_the_others_are_not() -> None:
    config = PortalConfig.model_validate(
        {
            "servers": [
                {"namespace": "gitlab", "transport": {"type": "module", "module": "servers.gitlab"}},
                {"namespace": "jira", "transport": {"type": "module", "module": "servers.jira"}},
                {"namespace": "prometheus", "enabled": False, "transport": {"type": "module",
                 "module": "servers.prometheus"}, "disabled_reason": "Debian package prometheus not "
                 "installed; run make system-deps"},
            ]
        }
    )  # fmt: skip
    statuses = [
        ServerStatus("gitlab", "ready", 19, None),
        ServerStatus("jira", "failed", 0, "connection refused at its URL"),
        ServerStatus("prometheus", "disabled", 0, None),
    ]
    assert servers_line(statuses, config.servers) == (
        "servers up: gitlab (19 tools); jira failed: connection refused at its URL; `portal tools` shows "
        "every server; prometheus disabled: Debian package prometheus not installed; run make system-deps"
    )


def test_without_the_prometheus_package_the_demo_lists_it_disabled_with_the_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(prometheus_fake, "BINARY", str(tmp_path / "no-prometheus"))
    names = ("gitlab", "prometheus")
    assert launcher.servable_names(names) == ("gitlab",)
    assert launcher.unservable(names) == {
        "prometheus": "Debian package prometheus not installed; run make system-deps"
    }


def test_the_demo_asks_prometheus_for_a_scrape_every_15_seconds() -> None:
    assert launcher._options("127.0.0.1", 8000)["prometheus"]["scrape_interval_seconds"] == 15


@pytest.mark.skipif(not Path(prometheus_fake.BINARY).exists(), reason="Debian prometheus missing")
def test_prometheus_is_configured_with_the_interval_asked_for_and_1_s_by_default() -> None:
    with prometheus_fake.start(wait_for_scrape=False, scrape_interval_seconds=15) as slow:
        slow_config = json.loads((slow.workdir / "prometheus.yml").read_text())["global"]
    with prometheus_fake.start(wait_for_scrape=False) as fast:
        fast_config = json.loads((fast.workdir / "prometheus.yml").read_text())["global"]
    assert slow_config == {"scrape_interval": "15s", "scrape_timeout": "10s", "evaluation_interval": "15s"}
    assert fast_config == {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"}


def test_progress_is_rewritten_in_place_on_a_terminal_and_silent_elsewhere() -> None:
    terminal = io.StringIO()
    progress = Progress(4, "search-eval", terminal, enabled=True)
    for _ in range(4):
        progress.advance()
    progress.finish()
    assert terminal.getvalue() == (
        "\rsearch-eval: 1/4 (25%)\rsearch-eval: 2/4 (50%)\rsearch-eval: 3/4 (75%)\rsearch-eval: 4/4 (100%)"
        "\rsearch-eval: 4/4 (100%)\n"
    )
    pipe = io.StringIO()
    quiet = Progress(4, "search-eval", pipe)  # a StringIO is no terminal
    quiet.advance()
    quiet.finish()
    assert pipe.getvalue() == ""
