"""``portal new-server NAME``: copy ``servers/_template/`` into a new server that works at once.

The copy is renamed throughout (package path, env prefix, server name,
catalog entity names), registered in the demo config and in the top-level
``catalog-info.yaml``, and gets its own test folder, copied from the
template's tests. The developer then changes the API it wraps.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from portal.naming import namespace_problem

__all__ = ["ScaffoldError", "ScaffoldResult", "new_server", "project_root"]

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,30}$")
RESERVED = frozenset({"portal", "sandbox", "servers", "template", "test", "tests", "print", "json"})
TEMPLATE = "_template"
TEMPLATE_TEST = Path("tests/servers/test_template.py")
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc")
_TEXT_SUFFIXES = {".py", ".md", ".yaml", ".yml", ".toml", ".txt"}


class ScaffoldError(Exception):
    """The new server cannot be created; the message says why and what to do."""


@dataclass(frozen=True)
class ScaffoldResult:
    package: Path
    test_folder: Path
    demo_config: Path
    catalog: Path


def project_root() -> Path:
    """The source checkout holding ``servers/`` (the scaffold is a developer tool)."""
    import servers

    return Path(servers.__file__).resolve().parent.parent


def _renames(name: str) -> list[tuple[str, str]]:
    title = name.replace("_", " ").title()
    slug = name.replace("_", "-")
    return [
        ("servers._template", f"servers.{name}"),
        ("servers/_template", f"servers/{name}"),
        ("TEMPLATE_", f"{name.upper()}_"),
        ('name="template"', f'name="{name}"'),
        ("mcp-server-template", f"mcp-server-{slug}"),
        ("Template MCP server", f"{title} MCP server"),
        ("The template server", f"The {name} server"),
        ("test_template", f"test_{name}"),
        ("template_fake", f"{name}_fake"),
    ]


def _rewrite(path: Path, renames: list[tuple[str, str]]) -> None:
    text = path.read_text(encoding="utf-8")
    for old, new in renames:
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


def _check_name(name: str, root: Path) -> None:
    if not NAME_PATTERN.match(name) or name in RESERVED or namespace_problem(name) is not None:
        raise ScaffoldError(
            f"invalid server name {name!r}: use 2-31 lower-case letters, digits or '_', starting with a "
            f"letter, and not one of {', '.join(sorted(RESERVED))}"
        )
    if (root / "servers" / name).exists():
        raise ScaffoldError(f"servers/{name} already exists: pick another name or remove it first")
    if not (root / "servers" / TEMPLATE).is_dir():
        raise ScaffoldError(f"no servers/{TEMPLATE} under {root}: run this from a source checkout")


def _demo_with(text: str, name: str) -> str:
    """The demo config's text with the new server appended (comments kept)."""
    if re.search(rf"^\s*- namespace: {re.escape(name)}\s*$", text, re.MULTILINE):
        raise ScaffoldError(f"the demo config already declares the namespace {name!r}")
    entry = (
        f"  - namespace: {name}\n"
        f"    transport:\n"
        f"      type: module\n"
        f"      module: servers.{name}\n"
        f"      demo_backend: true\n"
    )
    return text.rstrip("\n") + "\n" + entry


def _catalog_with(text: str, name: str) -> str:
    """The top-level catalog's text with the new server's file among the Location's targets."""
    target = f"./servers/{name}/catalog-info.yaml"
    if target in text:
        return text
    marker = re.search(r"^(\s*)targets:\s*\n((?:\1\s*- .*\n)+)", text, re.MULTILINE)
    if marker is None:
        raise ScaffoldError("catalog-info.yaml has no Location with a 'targets:' list to extend")
    items = marker.group(2)
    indent = re.match(r"\s*", items.splitlines()[0]).group(0)  # type: ignore[union-attr]
    insert_at = marker.end(2)
    return text[:insert_at] + f"{indent}- {target}\n" + text[insert_at:]


def new_server(name: str, root: Path | None = None) -> ScaffoldResult:
    """Create ``servers/<name>/`` and its tests from the template, and register it."""
    root = root or project_root()
    _check_name(name, root)
    renames = _renames(name)
    package = root / "servers" / name
    test_folder = root / "tests" / "servers" / name
    demo = root / "portal" / "demo.yaml"
    catalog = root / "catalog-info.yaml"
    # Every check that can fail runs before the first write, so a refusal leaves no trace.
    demo_text = _demo_with(demo.read_text(encoding="utf-8"), name)
    catalog_text = _catalog_with(catalog.read_text(encoding="utf-8"), name) if catalog.exists() else None
    if test_folder.exists():
        raise ScaffoldError(f"{test_folder} already exists: remove it first")
    shutil.copytree(root / "servers" / TEMPLATE, package, ignore=_SKIP)
    try:
        for path in package.rglob("*"):
            if path.is_file() and path.suffix in _TEXT_SUFFIXES:
                _rewrite(path, renames)
        test_folder.mkdir(parents=True)
        test_file = test_folder / f"test_{name}_server.py"
        shutil.copyfile(root / TEMPLATE_TEST, test_file)
        _rewrite(test_file, renames)
    except Exception:
        shutil.rmtree(package, ignore_errors=True)
        shutil.rmtree(test_folder, ignore_errors=True)
        raise
    demo.write_text(demo_text, encoding="utf-8")
    if catalog_text is not None:
        catalog.write_text(catalog_text, encoding="utf-8")
    return ScaffoldResult(package, test_folder, demo, catalog)
