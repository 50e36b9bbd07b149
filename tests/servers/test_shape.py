"""Every server folder has the shape the portal relies on (STYLE.md #1)."""

import importlib
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

import servers

ROOT = Path(servers.__file__).parent
DEMO = ROOT.parent / "demo"
# The template's files: every server folder has the same ones (it may add modules of its own).
REQUIRED_FILES = {
    "__init__.py",
    "__main__.py",
    "server.py",
    "client.py",
    "settings.py",
    "models.py",
    "README.md",
    "catalog-info.yaml",
}
FOLDERS = sorted(
    p.name
    for p in ROOT.iterdir()
    if p.is_dir() and (not p.name.startswith(("_", ".")) or p.name == "_template") and p.name != "__pycache__"
)


def test_there_is_a_template_and_at_least_one_server():
    assert {"_template", "gitlab"} <= set(FOLDERS)


@pytest.mark.parametrize("name", FOLDERS)
def test_each_server_folder_has_every_required_file(name):
    assert {p.name for p in (ROOT / name).iterdir()} >= REQUIRED_FILES


@pytest.mark.parametrize("name", FOLDERS)
def test_each_server_exports_build_server_and_settings(name):
    package = importlib.import_module(f"servers.{name}")
    assert {"build_server", "Settings"} <= set(package.__all__)
    assert callable(package.build_server)
    assert issubclass(package.Settings, BaseSettings)


@pytest.mark.parametrize("name", FOLDERS)
def test_each_fake_starts_and_points_settings_at_itself(name):
    package = importlib.import_module(f"servers.{name}")
    fake = importlib.import_module(f"demo.{name}.fake")
    with fake.start() as running:
        settings = package.Settings(**running.settings)
        assert running.url.startswith("http://127.0.0.1:")
        assert settings.url == running.url
        package.build_server(settings)  # offline: no request is made at construction


@pytest.mark.parametrize("name", FOLDERS)
def test_each_client_module_imports_nothing_from_mcp(name):
    source = (ROOT / name / "client.py").read_text()
    assert "import mcp" not in source
    assert "from mcp" not in source


def test_the_template_itself_has_exactly_the_required_files():
    assert {p.name for p in (ROOT / "_template").iterdir() if p.is_file()} == REQUIRED_FILES


@pytest.mark.parametrize("name", FOLDERS)
def test_each_server_has_its_fake_in_the_demo_and_none_of_its_own(name):
    assert (DEMO / name / "fake.py").is_file()
    assert [p.name for p in (ROOT / name).glob("*fake*")] == []


@pytest.mark.parametrize("name", FOLDERS)
def test_each_server_registers_its_tools_through_the_toolkit(name):
    """One registration helper (servers/_toolkit.py), so every tool gets the same error translation."""
    source = (ROOT / name / "server.py").read_text()
    assert "tool = tool_registrar(server, " in source
    assert "@server.tool(" not in source and "server.tool(annotations" not in source
    assert "ParamSpec" not in source and "TOOL_NAMES" not in source


@pytest.mark.parametrize("name", FOLDERS)
def test_each_main_runs_the_shared_runner(name):
    source = (ROOT / name / "__main__.py").read_text()
    assert "from servers._runner import main" in source
    assert f'prog="python -m servers.{name}"' in source
