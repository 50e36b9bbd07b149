"""`portal new-server NAME` makes a working, registered, tested server from the template."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from backstage_rules import validate_entities

from portal.config import ModuleTransport, load_config
from portal.scaffold import ScaffoldError, new_server, project_root

ROOT = project_root()


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A minimal copy of the source tree: the template, the demo config, the catalog, the template's test."""
    ignore = shutil.ignore_patterns("__pycache__")
    for folder in ("servers/_template",):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=ignore)
    for file in (
        "servers/__init__.py",
        "servers/_fakes.py",
        "servers/_runner.py",
        "servers/_toolkit.py",
        "portal/demo.yaml",
        "catalog-info.yaml",
        "tests/servers/test_template.py",
        "tests/conftest.py",
    ):
        (tmp_path / file).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / file, tmp_path / file)
    return tmp_path


def test_the_new_server_is_renamed_registered_and_has_the_template_shape(checkout: Path) -> None:
    result = new_server("pagerduty", root=checkout)
    package = checkout / "servers" / "pagerduty"
    assert result.package == package
    assert {p.name for p in (checkout / "servers" / "_template").iterdir() if p.is_file()} == {
        p.name for p in package.iterdir() if p.is_file()
    }
    text = "\n".join(p.read_text() for p in package.rglob("*") if p.is_file())
    assert "TEMPLATE_" not in text and "servers._template" not in text and "mcp-server-template" not in text
    assert 'env_prefix="PAGERDUTY_"' in (package / "settings.py").read_text()
    servers = load_config(checkout / "portal" / "demo.yaml", environ={}).servers
    added = next(s for s in servers if s.namespace == "pagerduty")
    assert added.transport == ModuleTransport(module="servers.pagerduty", demo_backend=True)
    catalog = list(yaml.safe_load_all((checkout / "catalog-info.yaml").read_text()))
    location = next(e for e in catalog if e["kind"] == "Location")
    assert "./servers/pagerduty/catalog-info.yaml" in location["spec"]["targets"]
    entities = list(yaml.safe_load_all((package / "catalog-info.yaml").read_text()))
    assert validate_entities(entities) == []
    assert {e["metadata"]["name"] for e in entities} == {"mcp-server-pagerduty", "mcp-server-pagerduty-mcp"}


def test_the_generated_test_passes_out_of_the_box(checkout: Path) -> None:
    result = new_server("pagerduty", root=checkout)
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(result.test_folder)],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    generated_tests = sum(
        f.read_text().count("\ndef test_") + f.read_text().count("\nasync def test_")
        for f in result.test_folder.glob("test_*.py")
    )
    assert generated_tests >= 4
    assert f"{generated_tests} passed" in done.stdout
    assert (
        str(checkout / "servers" / "pagerduty")
        in subprocess.run(
            [sys.executable, "-c", "import servers.pagerduty as p; print(p.__file__)"],
            cwd=checkout,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
    )


@pytest.mark.parametrize("name", ["Bad", "x", "has-dash", "portal", "template", "1abc"])
def test_an_invalid_name_is_refused_and_nothing_is_written(checkout: Path, name: str) -> None:
    demo_before = (checkout / "portal" / "demo.yaml").read_text()
    with pytest.raises(ScaffoldError, match="invalid server name"):
        new_server(name, root=checkout)
    assert (checkout / "portal" / "demo.yaml").read_text() == demo_before
    assert sorted(p.name for p in (checkout / "servers").iterdir()) == [
        "__init__.py",
        "_fakes.py",
        "_runner.py",
        "_template",
        "_toolkit.py",
    ]


def test_an_existing_server_is_not_overwritten(checkout: Path) -> None:
    new_server("pagerduty", root=checkout)
    marker = checkout / "servers" / "pagerduty" / "client.py"
    marker.write_text("# edited by hand\n")
    with pytest.raises(ScaffoldError, match="already exists"):
        new_server("pagerduty", root=checkout)
    assert marker.read_text() == "# edited by hand\n"
