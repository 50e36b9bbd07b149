"""Who may use which tool: rules from the config, checked in the host on every call.

A rule grants its groups the tools whose ``namespace.tool`` matches one of its
glob patterns (and none of its ``exclude`` patterns) and whose MCP annotations
equal every hint the rule names. A caller may use a tool when any rule grants
it. Without a ``permissions`` section every caller may use every tool (the
development default); with one, anything not granted is refused.

```yaml
permissions:
  - groups: ["*"]                  # every signed-in user
    tools: ["*"]
    annotations: {readOnlyHint: true}
  - groups: [release-managers]
    tools: ["gitlab.*", "jira.*"]  # writes too
```
"""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from portal.auth import Principal

__all__ = ["EVERYONE", "Permissions", "PermissionRule"]

EVERYONE = "*"
Hint = Literal["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"]


class PermissionRule(BaseModel):
    """One grant: these groups may use these tools (optionally only those with these annotations)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    groups: list[str] = Field(min_length=1, description='Group names; "*" is every signed-in user.')
    tools: list[str] = Field(min_length=1, description='Globs over "namespace.tool", e.g. "gitlab.*".')
    exclude: list[str] = Field(default_factory=list, description="Globs this rule does not grant.")
    annotations: dict[Hint, bool] = Field(default_factory=dict, description="Hints a tool must have.")

    def applies_to(self, groups: Sequence[str]) -> bool:
        return EVERYONE in self.groups or any(group in self.groups for group in groups)

    def grants(self, name: str, annotations: dict[str, Any], aliases: Sequence[str] = ()) -> bool:
        """``aliases`` are other names of the same tool (its upstream name): a pattern may use any,
        and an exclusion that matches any of them wins."""
        names = (name, *aliases)
        if not any(fnmatchcase(n, pattern) for n in names for pattern in self.tools):
            return False
        if any(fnmatchcase(n, pattern) for n in names for pattern in self.exclude):
            return False
        return all(_hint(annotations, hint) == wanted for hint, wanted in self.annotations.items())


# MCP's defaults for absent hints: a tool is assumed to write, destructively, not idempotently.
_HINT_DEFAULTS = {
    "readOnlyHint": False,
    "destructiveHint": True,
    "idempotentHint": False,
    "openWorldHint": True,
}


def _hint(annotations: dict[str, Any], hint: str) -> bool:
    value = annotations.get(hint)
    return bool(value) if value is not None else _HINT_DEFAULTS[hint]


class Permissions:
    def __init__(self, rules: Sequence[PermissionRule] | None) -> None:
        self._rules = None if rules is None else tuple(rules)

    @property
    def enforced(self) -> bool:
        return self._rules is not None

    def allows(
        self, principal: Principal | None, name: str, annotations: dict[str, Any], aliases: Sequence[str] = ()
    ) -> bool:
        """May ``principal`` use the tool ``name`` (``namespace.tool``) with these annotations?

        ``aliases``: the tool's upstream name when it differs from its Python name
        (``everything.get-sum`` for ``everything.get_sum``, `portal.naming`).
        """
        if self._rules is None:
            return True
        if principal is None:
            return False
        return any(
            r.applies_to(principal.groups) and r.grants(name, annotations, aliases) for r in self._rules
        )

    def may_reach_namespace(self, principal: Principal | None, namespace: str) -> bool:
        """Could any rule grant ``principal`` a tool of ``namespace``? For servers with no tool list.

        A failed server lists no tools, so whether the caller may use one cannot be asked; a
        rule whose pattern could match the namespace is enough to name it, no rule is enough to
        keep it unnamed.
        """
        if self._rules is None:
            return True
        if principal is None:
            return False
        return any(
            r.applies_to(principal.groups)
            and any(fnmatchcase(namespace, pattern.split(".", 1)[0]) for pattern in r.tools)
            for r in self._rules
        )
