"""The demo is no part of the product: not installed, and imported by no product module."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCT_PACKAGES = ("portal", "sandbox", "servers")


def demo_imports(source: str) -> list[str]:
    """Every ``demo`` module the source imports, by any spelling ast can see."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.split(".")[0] == "demo"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] == "demo":
                found.append(node.module)
        elif isinstance(node, ast.Call) and _is_dynamic_import(node):
            name = node.args[0]
            if isinstance(name, ast.Constant) and str(name.value).split(".")[0] == "demo":
                found.append(str(name.value))
            elif isinstance(name, ast.JoinedStr) and _starts_with_demo(name):
                found.append(ast.unparse(name))
    return found


def _is_dynamic_import(node: ast.Call) -> bool:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name in ("import_module", "__import__") and bool(node.args)


def _starts_with_demo(text: ast.JoinedStr) -> bool:
    first = text.values[0] if text.values else None
    return isinstance(first, ast.Constant) and str(first.value).split(".")[0] == "demo"


@pytest.mark.parametrize("package", PRODUCT_PACKAGES)
def test_no_product_module_imports_the_demo(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): names
        for path in sorted((ROOT / package).rglob("*.py"))
        if (names := demo_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


@pytest.mark.parametrize(
    "source",
    [
        "import demo",
        "import demo.gitlab.fake as fake",
        "from demo.gitlab import fake",
        "from demo import backends",
        "importlib.import_module('demo.gitlab.fake')",
        "importlib.import_module(f'demo.{name}.fake')",
        "__import__('demo')",
    ],
)
def test_the_walk_sees_every_spelling_of_a_demo_import(source: str) -> None:
    assert demo_imports(source) != []


def test_relative_and_lookalike_imports_are_not_demo_imports() -> None:
    assert demo_imports("from . import demo\nimport demonstration\nfrom portal import demo_x") == []


def test_the_distribution_installs_the_product_packages_and_not_the_demo() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    include = project["tool"]["setuptools"]["packages"]["find"]["include"]
    assert sorted(include) == sorted(f"{package}*" for package in PRODUCT_PACKAGES)


def test_no_fake_is_left_among_the_servers() -> None:
    assert sorted(str(p.relative_to(ROOT)) for p in (ROOT / "servers").rglob("*fake*.py")) == []
