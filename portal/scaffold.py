"""``portal new-server NAME``: copy ``servers/_template/`` into a new server that works at once.

The copy is renamed throughout (package path, env prefix, server name,
catalog entity names), gets the template's fake backend as ``demo/<name>/``
(where the demo launcher finds it by itself), is registered in the top-level
``catalog-info.yaml`` (the Location's targets and the portal's ``dependsOn``),
and gets its own test folder, copied from the template's tests. The developer
then changes the API it wraps.
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
    fake: Path
    test_folder: Path
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
        ("demo._template", f"demo.{name}"),
        ("demo/_template", f"demo/{name}"),
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
    for folder in ("servers", "demo"):
        if (root / folder / name).exists():
            raise ScaffoldError(f"{folder}/{name} already exists: pick another name or remove it first")
        if not (root / folder / TEMPLATE).is_dir():
            raise ScaffoldError(f"no {folder}/{TEMPLATE} under {root}: run this from a source checkout")


def _catalog_with(text: str, name: str) -> str:
    """The top-level catalog's text with the new server among the Location's targets and in dependsOn."""
    text = _append_item(text, "targets", f"./servers/{name}/catalog-info.yaml")
    return _append_item(text, "dependsOn", f"component:default/mcp-server-{name.replace('_', '-')}")


def _append_item(text: str, key: str, item: str) -> str:
    """``item`` added at the end of the block list under ``key:`` (comments and order kept)."""
    if re.search(rf"^\s*- {re.escape(item)}\s*$", text, re.MULTILINE):
        return text
    found = re.search(rf"^(\s*){key}:\s*\n((?:\1\s*- .*\n)+)", text, re.MULTILINE)
    if found is None:
        raise ScaffoldError(f"catalog-info.yaml has no '{key}:' list to extend")
    indent = re.match(r"\s*", found.group(2)).group(0)  # type: ignore[union-attr]
    return text[: found.end(2)] + f"{indent}- {item}\n" + text[found.end(2) :]


def _copy_renamed(source: Path, target: Path, renames: list[tuple[str, str]]) -> None:
    shutil.copytree(source, target, ignore=_SKIP)
    for path in target.rglob("*"):
        if path.is_file() and path.suffix in _TEXT_SUFFIXES:
            _rewrite(path, renames)


def new_server(name: str, root: Path | None = None) -> ScaffoldResult:
    """Create ``servers/<name>/``, its fake ``demo/<name>/`` and its tests from the template; register it."""
    root = root or project_root()
    _check_name(name, root)
    renames = _renames(name)
    package, fake = root / "servers" / name, root / "demo" / name
    test_folder = root / "tests" / "servers" / name
    catalog = root / "catalog-info.yaml"
    # Every check that can fail runs before the first write, so a refusal leaves no trace.
    catalog_text = _catalog_with(catalog.read_text(encoding="utf-8"), name) if catalog.exists() else None
    if test_folder.exists():
        raise ScaffoldError(f"{test_folder} already exists: remove it first")
    try:
        _copy_renamed(root / "servers" / TEMPLATE, package, renames)
        _copy_renamed(root / "demo" / TEMPLATE, fake, renames)
        test_folder.mkdir(parents=True)
        test_file = test_folder / f"test_{name}_server.py"
        shutil.copyfile(root / TEMPLATE_TEST, test_file)
        _rewrite(test_file, renames)
    except Exception:
        for folder in (package, fake, test_folder):
            shutil.rmtree(folder, ignore_errors=True)
        raise
    if catalog_text is not None:
        catalog.write_text(catalog_text, encoding="utf-8")
    return ScaffoldResult(package, fake, test_folder, catalog)
