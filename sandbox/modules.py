"""Curated stand-ins for the allowed modules, and the guarded `__import__`.

Code never holds a real module object: module attributes lead to other
modules (`re.enum`, `uuid.os`) and `from m import x` reads attributes with the
unguarded getattr. A CuratedModule holds only the public, non-module members
the policy allows, and is read-only.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from types import MappingProxyType, ModuleType
from typing import Any

from sandbox import policy


class ForbiddenImportError(ImportError):
    """Import of a module outside the allowlist (reported as ForbiddenImport)."""


class CuratedModule:
    """Read-only namespace standing in for one allowed module."""

    __slots__ = ("_name", "_members")

    def __init__(self, name: str, members: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_members", MappingProxyType(dict(members)))

    def __getattr__(self, attr: str) -> Any:
        try:
            return self._members[attr]
        except KeyError:
            raise AttributeError(f"module '{self._name}' has no attribute '{attr}' in the sandbox") from None

    def __setattr__(self, attr: str, value: Any) -> None:
        raise AttributeError(f"module '{self._name}' is read-only in the sandbox")

    def __delattr__(self, attr: str) -> None:
        raise AttributeError(f"module '{self._name}' is read-only in the sandbox")

    def __repr__(self) -> str:
        return f"<module '{self._name}' (sandboxed)>"


def allowed_module_list() -> str:
    """Comma-separated allowlist, for error messages."""
    return ", ".join(sorted(policy.ALLOWED_MODULES))


def forbidden_import_message(name: str) -> str:
    """Cause and fix for an import outside the allowlist."""
    return (
        f"Module '{name}' is not available in the sandbox. Allowed modules: {allowed_module_list()}. "
        "Use the tools for anything that needs the network, files or processes."
    )


def _public_members(module: ModuleType, only: frozenset[str] | None) -> dict[str, Any]:
    names = only if only is not None else getattr(module, "__all__", None) or dir(module)
    excluded = policy.EXCLUDED_MODULE_MEMBERS.get(module.__name__, frozenset())
    members = {}
    for name in names:
        value = getattr(module, name, None)
        if name.startswith("_") or name in excluded or value is None or isinstance(value, ModuleType):
            continue
        members[name] = value
    return members


def build_modules() -> dict[str, CuratedModule]:
    """Import every allowed module (before rlimits apply) and curate it.

    Keys are importable names: each allowed module, and the parent package of
    dotted ones ("urllib", holding only its allowed submodules).
    """
    curated: dict[str, CuratedModule] = {}
    for name, only in policy.ALLOWED_MODULES.items():
        curated[name] = CuratedModule(name, _public_members(importlib.import_module(name), only))
    for parent in {n.rpartition(".")[0] for n in policy.ALLOWED_MODULES if "." in n}:
        children = {
            n.rpartition(".")[2]: curated[n] for n in policy.ALLOWED_MODULES if n.rpartition(".")[0] == parent
        }
        curated.setdefault(parent, CuratedModule(parent, children))
    return curated


def make_importer(curated: Mapping[str, CuratedModule]) -> Callable[..., CuratedModule]:
    """Build the `__import__` the code's `import` statements call."""

    def guarded_import(
        name: str,
        globals: Any = None,
        locals: Any = None,
        fromlist: Any = (),
        level: int = 0,
    ) -> CuratedModule:
        if level != 0 or name not in curated:
            raise ForbiddenImportError(forbidden_import_message(name))
        # `import a.b` binds `a`; `from a.b import x` needs `a.b` itself.
        return curated[name] if fromlist else curated[name.partition(".")[0]]

    return guarded_import
