"""The `portal` command line, run as a user would, against the demo servers."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
import yaml
from portal_testing import demo_config, demo_servers

from demo.launcher import write_config
from portal.config import load_config
from portal.identity import Identities
from portal.oauth import AccessTokens, key_set_for, token_settings
from portal.store import open_store
from portal.store.database import sqlite_url

QUERY_SET = Path(__file__).parents[1] / "search_queries.jsonl"
RECALL_AT_5_FLOOR = 0.9


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("cli")
    path = folder / "portal.yaml"
    with demo_servers("gitlab") as servers:
        path.write_text(yaml.safe_dump({"state_dir": str(folder / "state"), "servers": servers}))
        yield path


def portal(
    *args: str, config: Path | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the CLI; without ``config`` it uses the running demo's, ``cwd``/.portal/demo.yaml."""
    command = [sys.executable, "-m", "portal.cli", *args]
    if config is not None:
        command += ["--config", str(config)]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, cwd=cwd or (config.parent if config else None)
    )


def test_token_mints_a_jwt_for_the_users_anonymous_id(config: Path) -> None:
    done = portal("token", "--user", "ann@example.com", "--groups", "dev, ops", "--ttl", "60", config=config)
    assert done.returncode == 0, done.stderr
    settings = load_config(config)
    store = open_store(sqlite_url(config.parent / "state"))
    try:
        expected_id = Identities(store).user_id_sync("ann@example.com")
        tokens = AccessTokens(key_set_for(settings, store), token_settings(settings), None)
        access = anyio.run(tokens.verify, done.stdout.strip())
    finally:
        store.close()
    assert access is not None
    assert (access.subject, access.claims["groups"], access.client_id, access.scopes) == (
        expected_id,
        ["dev", "ops"],
        "portal-dev-token",
        ["mcp"],
    )
    assert access.expires_at is not None and 0 < access.expires_at - time.time() <= 60
    assert "ann@example.com" not in json.dumps(access.claims)


def test_token_is_refused_outside_dev_mode(tmp_path: Path) -> None:
    oidc = tmp_path / "portal.yaml"
    oidc.write_text(
        yaml.safe_dump(
            {
                "state_dir": str(tmp_path / "state"),
                "auth": {
                    "mode": "oidc",
                    "oidc": {"issuer": "https://idp.example", "client_id": "portal", "client_secret": "s"},
                },
            }
        )
    )
    done = portal("token", "--user", "ann@example.com", config=oidc)
    assert done.returncode == 2
    assert "only in auth mode 'dev'" in done.stderr


def test_token_refuses_a_user_that_is_not_an_email(config: Path) -> None:
    done = portal("token", "--user", "ann", config=config)
    assert done.returncode == 2
    assert "email" in done.stderr


def test_tools_json_lists_the_catalog_and_server_states(config: Path) -> None:
    done = portal("tools", "--json", config=config)
    assert done.returncode == 0, done.stderr
    catalog = json.loads(done.stdout)
    assert catalog["servers"] == [{"namespace": "gitlab", "state": "ready", "tool_count": 19, "error": None}]
    names = {tool["name"] for tool in catalog["tools"]}
    assert {"gitlab.get_job_log", "gitlab.create_issue", "gitlab.search_code"} <= names
    log_tool = next(t for t in catalog["tools"] if t["name"] == "gitlab.get_job_log")
    assert log_tool["annotations"]["readOnlyHint"] is True


def test_search_json_returns_ranked_names_and_signatures(config: Path) -> None:
    done = portal("search", "why did the CI job fail", "--limit", "3", "--json", config=config)
    assert done.returncode == 0, done.stderr
    hits = json.loads(done.stdout)
    assert len(hits) == 3
    assert "gitlab.get_job_log" in [hit["name"] for hit in hits]
    assert all(hit["signature"].startswith(hit["name"] + "(") for hit in hits)


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A working folder where the demo runs: its fakes, and their config in ./.portal/demo.yaml."""
    folder = tmp_path_factory.mktemp("demo")
    (folder / ".portal").mkdir()
    with demo_config() as config:
        write_config(folder / ".portal" / "demo.yaml", config)
        yield folder


def test_without_a_config_or_a_running_demo_the_cli_says_how_to_start_the_demo(tmp_path: Path) -> None:
    done = portal("tools", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "error: no --config given and no demo running here (.portal/demo.yaml not found): start the demo "
        "with `make run` (or `python -m demo`), or pass --config portal.yaml\n"
    )


def test_the_demo_serves_all_six_servers(demo_folder: Path) -> None:
    done = portal("tools", "--json", cwd=demo_folder)
    assert done.returncode == 0, done.stderr
    servers = {s["namespace"]: s for s in json.loads(done.stdout)["servers"]}
    assert sorted(servers) == ["backstage", "elasticsearch", "gitlab", "jira", "prometheus", "sentry"]
    assert all(s["state"] == "ready" and s["tool_count"] >= 6 for s in servers.values()), servers
    assert (demo_folder / ".portal" / "portal.db").exists()


def test_search_eval_keeps_recall_at_5_above_the_floor_with_all_servers_loaded(demo_folder: Path) -> None:
    done = portal("search-eval", str(QUERY_SET), "--json", cwd=demo_folder)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["queries"] == sum(1 for line in QUERY_SET.read_text().splitlines() if line.strip())
    assert report["recall@5"] >= RECALL_AT_5_FLOOR, report["misses"]


def test_search_eval_rejects_a_malformed_query_file(config: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"q": "ok", "expect": ["a.b"]}\n{"q": 3}\n')
    done = portal("search-eval", str(bad), config=config)
    assert done.returncode == 2
    assert "bad.jsonl:2" in done.stderr


def test_exec_runs_a_file_through_the_code_mode_path(config: Path, tmp_path: Path) -> None:
    program = tmp_path / "failed_jobs.py"
    program.write_text(
        "failed = gitlab.list_pipelines(project='infra/api', status='failed')\n"
        "jobs = gitlab.list_pipeline_jobs(project='infra/api', pipeline_id=failed[0]['id'], scope='failed')\n"
        "log = gitlab.get_job_log(project='infra/api', job_id=jobs[0]['id'], tail_lines=40)\n"
        "[jobs[0]['name'], 'AssertionError' in log]\n"
    )
    done = portal("exec", str(program), "--json", config=config)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"ok": True, "value": ["pytest", True], "stdout": "", "error": None}


@pytest.mark.parametrize("as_json", [True, False])
def test_exec_survives_lone_surrogates_in_output_and_value(
    config: Path, tmp_path: Path, as_json: bool
) -> None:
    """Issue 10, item 2: `portal exec` crashed on print("\\ud800"); now it prints them escaped."""
    program = tmp_path / "surrogates.py"
    program.write_text('print("\\ud800")\n"\\udfff"\n')
    done = portal("exec", str(program), *(["--json"] if as_json else []), config=config)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    if as_json:
        assert json.loads(done.stdout)["value"] == "\udfff"
    else:
        assert "\\ud800" in done.stdout and "\\udfff" in done.stdout


def test_exec_reports_a_missing_file_clearly(config: Path, tmp_path: Path) -> None:
    done = portal("exec", str(tmp_path / "missing.py"), config=config)
    assert done.returncode == 2
    assert "cannot read" in done.stderr


def test_an_invalid_config_is_reported_without_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "portal.yaml"
    bad.write_text("servers:\n  - namespace: Bad\n    transport: {type: stdio, command: x}\n")
    done = portal("tools", config=bad)
    assert done.returncode == 2
    assert "servers.0.namespace" in done.stderr
    assert "Traceback" not in done.stderr
