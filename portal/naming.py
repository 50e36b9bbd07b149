"""What namespaces, tools and parameters are called in Code Mode: the rules and the mapping.

Upstream MCP servers name tools as they like (``get-sum``, ``API-get-self``,
``files/read``, ``class``) and parameters too (``user-id``, ``$filter``). Code
Mode shows every name as a Python identifier the model can type, and sends the
original upstream. This module is the one place that decides:

- a *namespace* becomes a global in the sandbox, so it must be a lower-case
  identifier that is no keyword, no builtin and none of the names the sandbox
  itself puts in scope (``parallel``, ``ToolError``, the importable modules,
  see `sandbox.policy` and `sandbox.environment`); a bad one is refused when the
  config loads (`portal.config`), with a usable name suggested;
- a *tool* is an attribute of its namespace, so it must be an identifier the
  sandbox lets code read: no keyword, no leading ``_``, none of the attributes
  the sandbox denies (`sandbox.guards`). Builtins are fine there (``fs.list``);
- a *parameter* is a keyword argument: an identifier, no keyword, no leading ``_``.

`python_name` maps one name; `NameTable` maps all the names of one namespace (or
one tool's parameters) at once, so that each Python name is unique and maps
back to exactly one original. Collisions are resolved deterministically: a
name that is already valid keeps it, the others take it in sorted order of
their original names, and the rest get ``_2``, ``_3``, ... appended.
"""

from __future__ import annotations

import builtins
import keyword
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Final

from RestrictedPython.transformer import INSPECT_ATTRIBUTES

from sandbox import policy

__all__ = [
    "NAMESPACE_PATTERN",
    "RESERVED_NAMESPACES",
    "Collision",
    "Kind",
    "NameTable",
    "direct_name",
    "tool_prefix_clash",
    "namespace_for",
    "namespace_problem",
    "python_name",
    "usable",
]


class Kind(Enum):
    """Where a name appears in the code, which decides what it may be."""

    NAMESPACE = "server"
    TOOL = "tool"
    PARAMETER = "param"


NAMESPACE_PATTERN: Final = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_MAX_NAMESPACE = 32

# Every name the sandbox's global scope already has, or that code binds by importing:
# a namespace of that name would hide it (or be hidden by it).
RESERVED_NAMESPACES: Final = frozenset(
    set(dir(builtins))
    | set(keyword.kwlist)
    | set(keyword.softkwlist)
    | policy.ALLOWED_BUILTINS
    | policy.ALLOWED_EXCEPTIONS
    | policy.SANDBOX_BUILTINS
    | policy.GUARDED_BUILTINS
    | set(policy.EXCLUDED_BUILTINS)
    | {name.partition(".")[0] for name in policy.ALLOWED_MODULES}
    | {"portal", "print", "printed"}  # the product itself; RestrictedPython's print names
    | {"results", "resources"}  # pseudo-namespaces the portal answers (kept_results.py, resource_reader.py)
)

# Attributes the sandbox refuses to read on any object (`sandbox.guards`, RestrictedPython).
_DENIED_ATTRIBUTES: Final = frozenset(policy.FORBIDDEN_ATTRIBUTES | INSPECT_ATTRIBUTES)

_INVALID_RUN = re.compile(r"[^A-Za-z0-9_]+")


def usable(name: str, kind: Kind) -> bool:
    """True when ``name`` can stand in code as it is, for this kind of name."""
    if not name.isascii() or not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
        return False
    if name.endswith("__roles__"):  # RestrictedPython refuses such names everywhere
        return False
    if kind is Kind.NAMESPACE:
        return namespace_problem(name) is None
    if kind is Kind.TOOL:
        return name not in _DENIED_ATTRIBUTES
    return True


def namespace_problem(name: str) -> str | None:
    """Why ``name`` cannot be a namespace, or None when it can."""
    if not NAMESPACE_PATTERN.match(name):
        return "a namespace must be 1 to 32 lower-case letters, digits and '_', starting with a letter"
    if name in RESERVED_NAMESPACES or name.endswith("__roles__"):
        return (
            f"namespace {name!r} is reserved: it is a Python keyword or builtin, or a name the "
            "sandbox already gives the code (parallel, ToolError, the importable modules)"
        )
    return None


def _ascii_words(name: str) -> str:
    """Letters and digits in ASCII: accents dropped, other characters spelled ``u<hex>``."""
    out: list[str] = []
    for char in unicodedata.normalize("NFKC", name):
        if char.isascii():
            out.append(char)
            continue
        plain = "".join(
            c for c in unicodedata.normalize("NFKD", char) if c.isascii() and not unicodedata.combining(c)
        )
        if plain:
            out.append(plain)
        elif unicodedata.category(char)[0] in "LN":
            out.append(f"_u{ord(char):04x}_")
        else:
            out.append("_")
    return "".join(out)


def python_name(name: str, kind: Kind = Kind.TOOL) -> str:
    """The Python name for one upstream name: ``get-sum`` -> ``get_sum``, ``class`` -> ``class_``.

    A name that is already usable is returned unchanged. Uniqueness is `NameTable`'s job.
    """
    if usable(name, kind):
        return name
    text = _INVALID_RUN.sub("_", _ascii_words(name)).strip("_")
    text = re.sub(r"_{2,}", "_", text)
    if kind is Kind.NAMESPACE:
        text = text.lower()
    if not text:
        text = kind.value
    elif text[0].isdigit():
        text = f"{kind.value}_{text}"
    if kind is Kind.NAMESPACE:
        text = text[:_MAX_NAMESPACE].rstrip("_")
    if not usable(text, kind):
        text = f"{text}_"  # PEP 8's way around a keyword or a taken name: class_, list_
    if kind is Kind.NAMESPACE and not usable(text, kind):
        text = f"{text[: _MAX_NAMESPACE - 4].rstrip('_')}_ns"
    return text


def namespace_for(server_name: str) -> str:
    """A namespace for a server known by another name (a package, a server's ``serverInfo.name``)."""
    base = server_name.rsplit("/", 1)[-1]
    for prefix in ("mcp-server-", "server-", "mcp_server_", "mcp-"):
        if base.lower().startswith(prefix) and len(base) > len(prefix):
            base = base[len(prefix) :]
            break
    return python_name(base, Kind.NAMESPACE)


@dataclass(frozen=True)
class Collision:
    """Several upstream names that map to the same Python name, and what each one got."""

    where: str
    python_name: str
    originals: tuple[str, ...]
    assigned: tuple[str, ...]

    def assignments(self) -> dict[str, str]:
        """Original name to the Python name it got."""
        return dict(zip(self.originals, self.assigned, strict=True))

    def describe(self) -> str:
        pairs = ", ".join(f"{o!r} -> {a}" for o, a in self.assignments().items())
        return f"{self.where}: {pairs}"


class NameTable:
    """One reversible mapping between the original names of a scope and unique Python names."""

    def __init__(self, originals: Iterable[str], kind: Kind, where: str = "") -> None:
        unique = list(dict.fromkeys(originals))
        base = {original: python_name(original, kind) for original in unique}
        # Claim order: names valid as they are first, then the rest by original name.
        order = sorted(unique, key=lambda o: (base[o] != o, o))
        claimed: set[str] = set()
        to_python: dict[str, str] = {}
        losers: list[str] = []
        for original in order:
            if base[original] in claimed:
                losers.append(original)
            else:
                claimed.add(base[original])
                to_python[original] = base[original]
        for original in losers:
            number = 2
            while f"{base[original]}_{number}" in claimed or f"{base[original]}_{number}" in base.values():
                number += 1
            to_python[original] = f"{base[original]}_{number}"
            claimed.add(to_python[original])
        self._to_python = {original: to_python[original] for original in unique}
        self._to_original = {python: original for original, python in self._to_python.items()}
        groups: dict[str, list[str]] = {}
        for original in order:
            groups.setdefault(base[original], []).append(original)
        self.collisions = tuple(
            Collision(where, name, tuple(group), tuple(self._to_python[o] for o in group))
            for name, group in sorted(groups.items())
            if len(group) > 1
        )

    def python(self, original: str) -> str:
        return self._to_python[original]

    def original(self, python: str) -> str | None:
        return self._to_original.get(python)

    def items(self) -> list[tuple[str, str]]:
        """(original, python) pairs, in the order the originals came."""
        return list(self._to_python.items())

    def to_original(self, arguments: Mapping[str, object]) -> dict[str, object]:
        """Keyword arguments by Python name, keyed by original name; unknown keys pass unchanged."""
        return {self._to_original.get(key, key): value for key, value in arguments.items()}


def direct_name(namespace: str, tool: str, prefix: str | None = None) -> str:
    """A tool's name in direct mode: ``namespace_tool`` from its Python name.

    ``prefix`` is the server's ``tool_prefix`` when it sets one (``""``: the tool's name alone);
    `portal.config` refuses prefixes that could give two tools one name (`tool_prefix_clash`).

    Two namespaces where one is the other plus ``_...`` could give equal names
    (``a_b`` + ``c`` and ``a`` + ``b_c``); `portal.config` refuses such a pair in direct mode.
    """
    return f"{namespace}_{tool}" if prefix is None else f"{prefix}{tool}"


def tool_prefix_clash(prefixes: Mapping[str, str]) -> tuple[str, str] | None:
    """Two namespaces whose direct-mode prefixes can give one name (one starts the other), or None.

    ``prefixes`` maps each namespace to its prefix, in config order; ``""`` starts every prefix.
    """
    items = list(prefixes.items())
    for index, (first, first_prefix) in enumerate(items):
        for second, second_prefix in items[index + 1 :]:
            if second_prefix.startswith(first_prefix):
                return first, second
            if first_prefix.startswith(second_prefix):
                return second, first
    return None


def direct_mode_clash(namespaces: Iterable[str]) -> tuple[str, str] | None:
    """Two namespaces whose direct-mode names can collide (``a`` and ``a_b``), or None."""
    names = sorted(set(namespaces))
    for shorter in names:
        for longer in names:
            if longer != shorter and longer.startswith(f"{shorter}_"):
                return shorter, longer
    return None
