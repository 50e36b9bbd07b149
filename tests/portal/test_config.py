from pathlib import Path

import pytest
import yaml
from portal_testing import demo_config

from portal.config import ConfigError, HttpTransport, ModuleTransport, demo_config_path, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "portal.yaml"
    path.write_text(text)
    return path


def test_the_demo_configures_gitlab_as_production_would_with_its_fakes_url_and_token(tmp_path: Path) -> None:
    with demo_config(["gitlab"]) as raw:
        config = load_config(write(tmp_path, yaml.safe_dump(raw)), environ={})
    gitlab = next(s for s in config.servers if s.namespace == "gitlab")
    assert isinstance(gitlab.transport, ModuleTransport)
    assert gitlab.transport.module == "servers.gitlab"
    assert set(gitlab.transport.settings) == {"url", "token"}
    assert gitlab.transport.settings["url"].startswith("http://127.0.0.1:")
    assert config.codemode is True


def test_the_fake_only_knobs_are_gone_from_the_module_transport(tmp_path: Path) -> None:
    transport = "{type: module, module: servers.gitlab, demo_backend: true}"
    text = f"servers:\n  - namespace: gitlab\n    transport: {transport}\n"
    with pytest.raises(ConfigError, match="demo_backend"):
        load_config(write(tmp_path, text), environ={})


def test_without_a_path_the_running_demos_config_is_read_and_without_one_the_error_says_how_to_start_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"start the demo with `make run` \(or `python -m demo`\)"):
        load_config(environ={})
    demo_config_path().parent.mkdir()
    demo_config_path().write_text("codemode: false\n")
    assert load_config(environ={}).codemode is False


def test_each_transport_kind_is_parsed(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            """
servers:
  - namespace: a
    transport: {type: module, module: servers.gitlab}
  - namespace: b
    transport: {type: stdio, command: python3, args: ["-m", "servers.gitlab"]}
  - namespace: c
    transport: {type: http, url: "http://127.0.0.1:9/mcp", headers: {Authorization: "Bearer ${TOKEN}"}}
""",
        ),
        environ={},
    )
    assert [s.transport.type for s in config.servers] == ["module", "stdio", "http"]
    assert isinstance(config.servers[2].transport, HttpTransport)
    assert config.servers[2].transport.headers == {"Authorization": "Bearer ${TOKEN}"}


def test_environment_overrides_top_level_and_nested_values(tmp_path: Path) -> None:
    path = write(tmp_path, "port: 8000\nsandbox: {wall_seconds: 5, cpu_seconds: 3}\n")
    config = load_config(
        path,
        environ={
            "PORTAL_PORT": "9100",
            "PORTAL_CODEMODE": "false",
            "PORTAL_SANDBOX__WALL_SECONDS": "7",
            "OTHER": "x",
        },
    )
    assert config.port == 9100
    assert config.codemode is False
    assert config.sandbox.wall_seconds == 7
    assert config.sandbox.cpu_seconds == 3


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            "servers:\n  - namespace: Bad-Name\n    transport: {type: module, module: x}\n",
            "servers.0.namespace",
        ),
        ("servers:\n  - namespace: a\n    transport: {type: carrier-pigeon}\n", "servers.0.transport"),
        (
            "servers:\n  - {namespace: a, transport: {type: http, url: 'ftp://x'}}\n",
            "servers.0.transport.http.url",
        ),
        (
            "servers:\n  - {namespace: a, transport: {type: stdio, command: x}}\n"
            "  - {namespace: a, transport: {type: stdio, command: y}}\n",
            "declared twice",
        ),
        ("port: 70000\n", "port"),
        ("unknown_key: 1\n", "unknown_key"),
        ("- just\n- a list\n", "mapping at the top level"),
        ("servers: [\n", "not valid YAML"),
    ],
)
def test_an_invalid_config_is_refused_with_the_place_named(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text), environ={})
    assert fragment in str(caught.value)


def test_a_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "nope.yaml", environ={})
