"""Assemble the globals the restricted code runs with, from the policy.

This is the only place that decides what names code can reach: the allowed
builtins, the guard hooks RestrictedPython's output calls, the curated
modules (through `__import__`) and one global per tool namespace.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from typing import Any

from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence

from sandbox import guards, policy
from sandbox.output import CappedOutput, print_factory
from sandbox.tools import ToolError


def build_builtins(
    importer: Callable[..., Any], sandbox_builtins: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The code's `__builtins__`: plain allowed names, guarded replacements, and
    the sandbox's own (`policy.SANDBOX_BUILTINS`: ToolError, parallel)."""
    table = {name: getattr(builtins, name) for name in policy.ALLOWED_BUILTINS | policy.ALLOWED_EXCEPTIONS}
    table.update(
        getattr=guards.guarded_getattr,
        hasattr=guards.guarded_hasattr,
        setattr=guards.guarded_setattr,
        delattr=guards.guarded_delattr,
        type=guards.guarded_type,
        __import__=importer,
        ToolError=ToolError,
    )
    table.update(sandbox_builtins or {})
    return table


def build_globals(
    builtins_table: Mapping[str, Any], output: CappedOutput, namespaces: Mapping[str, Any]
) -> dict[str, Any]:
    """A fresh global namespace for one execution."""
    namespace: dict[str, Any] = {
        "__builtins__": dict(builtins_table),
        "__name__": "__sandbox__",
        "__metaclass__": guards.UserClass,
        "_getattr_": guards.guarded_getattr,
        "_getitem_": guards.getitem,
        "_getiter_": iter,  # iteration cannot reach attributes; nothing to guard
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": guards.guarded_write,
        "_inplacevar_": guards.inplace,
        "_apply_": guards.apply,
        "_print_": print_factory(output),
        # A final expression is compiled in eval mode, where RestrictedPython
        # does not inject `_print`; provide it so `print(...)` works there too.
        "_print": output,
    }
    namespace.update(namespaces)
    return namespace
