"""Human approval of destructive calls: the portal asks the user (``elicitation/create``) first.

Configured by ``approve:`` (portal/config.py `ApprovalConfig`); without that
section nothing is asked. With it, a call of a tool the rule names (globs over
``namespace.tool``; by default every tool whose annotations make it destructive,
MCP's default for a tool that says nothing) waits for the user's Approve or Deny,
in Code Mode (each inner call) and direct mode alike. The question goes to the
caller's own client through its request's stream (portal/progress.py). A client
that cannot be asked (no elicitation capability, or the CLI) gets a refusal
that says so, unless ``when_unsupported: allow``. A denied or unasked call does
not run: it answers a tool error the model can read.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from fnmatch import fnmatchcase
from typing import Any

import anyio
import mcp_types as types

from portal.config import ApprovalConfig
from portal.relay import current_sink

__all__ = ["APPROVE", "DENY", "Approvals", "start_collecting"]

logger = logging.getLogger(__name__)
APPROVE, DENY = "Approve", "Deny"
_SUMMARY_CHARS = 300
# The decisions of one execution, for its audit record (portal/codemode.py); None outside one.
_decisions: ContextVar[list[dict[str, str]] | None] = ContextVar("portal_approvals", default=None)


def start_collecting() -> list[dict[str, str]]:
    """From now on in this context (and the tasks it starts), decisions go into the list returned."""
    decisions: list[dict[str, str]] = []
    _decisions.set(decisions)
    return decisions


_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"decision": {"type": "string", "title": "Decision", "enum": [APPROVE, DENY]}},
    "required": ["decision"],
}


def _destructive(tool: types.Tool) -> bool:
    hints = tool.annotations
    if hints is not None and hints.read_only_hint:
        return False
    return hints is None or hints.destructive_hint is None or bool(hints.destructive_hint)


def summarise(arguments: dict[str, Any]) -> str:
    """The arguments as the user sees them: JSON, cut short (values can be large or secret-looking)."""
    text = json.dumps(arguments, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= _SUMMARY_CHARS else f"{text[: _SUMMARY_CHARS - 1]}…"


class Approvals:
    def __init__(self, config: ApprovalConfig | None) -> None:
        self._config = config

    def needed(self, namespace: str, tool: types.Tool) -> bool:
        if self._config is None:
            return False
        name = f"{namespace}.{tool.name}"
        if any(fnmatchcase(name, pattern) for pattern in self._config.exclude):
            return False
        if self._config.tools is None:
            return _destructive(tool)
        return any(fnmatchcase(name, pattern) for pattern in self._config.tools)

    async def refusal(self, namespace: str, tool: types.Tool, arguments: dict[str, Any]) -> str | None:
        """None when the call may run; otherwise why not, for the caller. Every decision is logged."""
        if not self.needed(namespace, tool):
            return None
        assert self._config is not None  # needed() is False without a config
        name = f"{namespace}.{tool.name}"
        decision, reason = await self._ask(name, arguments)
        logger.info("approval of %s: %s", name, decision)
        collected = _decisions.get()
        if collected is not None:
            collected.append({"tool": name, "decision": decision})
        return reason

    async def _ask(self, name: str, arguments: dict[str, Any]) -> tuple[str, str | None]:
        assert self._config is not None
        sink = current_sink()
        unsupported = (
            f"{name} needs the user's approval, and this client cannot ask (it has no elicitation "
            "capability): run it from a client that can, or ask the operator about approve.when_unsupported"
        )
        if sink is None:
            return (
                ("allowed-unasked", None)
                if self._config.when_unsupported == "allow"
                else ("refused", unsupported)
            )
        params = types.ElicitRequestFormParams(
            message=f"Allow {name} to run with {summarise(arguments)}?", requested_schema=_SCHEMA
        )
        with anyio.move_on_after(self._config.timeout_seconds):
            answer = await sink.elicit("portal", params)
            if isinstance(answer, types.ErrorData):
                if self._config.when_unsupported == "allow":
                    return "allowed-unasked", None
                return "refused", unsupported
            if answer.action == "accept" and (answer.content or {}).get("decision") == APPROVE:
                return "approved", None
            return "denied", f"{name} was not run: the user denied it ({answer.action})"
        return (
            "timed-out",
            f"{name} was not run: nobody answered the approval within {self._config.timeout_seconds:g} s",
        )
