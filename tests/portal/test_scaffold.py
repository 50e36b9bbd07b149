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

from portal.scaffold import ScaffoldError, new_server, project_root

ROOT = project_root()


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A minimal copy of the source tree: the template and its fake, the catalog, the template's test."""
    ignore = shutil.ignore_patterns("__pycache__")
    for folder in ("servers/_template", "demo/_template"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=ignore)
    for file in (
        "servers/__init__.py",
        "servers/_runner.py",
        "servers/_toolkit.py",
        "demo/__init__.py",
        "demo/_fakes.py",
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
    assert result.fake == checkout / "demo" / "pagerduty"
    assert "demo._template" not in (result.fake / "fake.py").read_text()
    catalog = list(yaml.safe_load_all((checkout / "catalog-info.yaml").read_text()))
    location = next(e for e in catalog if e["kind"] == "Location")
    assert location["spec"]["targets"][-1] == "./servers/pagerduty/catalog-info.yaml"
    portal = next(e for e in catalog if e["kind"] == "Component")
    assert portal["spec"]["dependsOn"][-1] == "component:default/mcp-server-pagerduty"
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
    catalog_before = (checkout / "catalog-info.yaml").read_text()
    with pytest.raises(ScaffoldError, match="invalid server name"):
        new_server(name, root=checkout)
    assert (checkout / "catalog-info.yaml").read_text() == catalog_before
    assert sorted(p.name for p in (checkout / "servers").iterdir()) == [
        "__init__.py",
        "_runner.py",
        "_template",
        "_toolkit.py",
    ]
    assert sorted(p.name for p in (checkout / "demo").iterdir()) == ["__init__.py", "_fakes.py", "_template"]


def test_an_existing_server_is_not_overwritten(checkout: Path) -> None:
    new_server("pagerduty", root=checkout)
    marker = checkout / "servers" / "pagerduty" / "client.py"
    marker.write_text("# edited by hand\n")
    with pytest.raises(ScaffoldError, match="already exists"):
        new_server("pagerduty", root=checkout)
    assert marker.read_text() == "# edited by hand\n"


def test_make_new_server_then_the_new_servers_tests_and_the_catalog_check_pass_in_a_copy_of_the_repo(
    tmp_path: Path,
) -> None:
    """`make new-server NAME=pager_duty` then `make test`, in a copy of every tracked file."""
    copy = tmp_path / "repo"
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
    ).stdout.decode()
    for name in filter(None, tracked.split("\0")):
        if (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    env = {**os.environ, "PYTHONPATH": str(copy)}
    made = subprocess.run(
        [sys.executable, "-m", "portal.cli", "new-server", "pager_duty"],
        cwd=copy, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert made.returncode == 0, made.stdout + made.stderr
    checks = [
        "tests/servers/pager_duty",
        "tests/test_catalog_info.py",
        "tests/servers/test_shape.py",
        "tests/test_demo_apart.py",
    ]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *checks],
        cwd=copy, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "skipped" not in done.stdout
