"""Code Mode: the two tools an agent sees, whatever stands behind the portal.

``portal_codemode_search`` finds tools and shows them as Python signatures;
``portal_codemode_execute`` runs model-written Python in the sandbox, where
every tool is a callable ``namespace.tool(**kwargs)``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sandbox
from portal.audit import AuditLog
from portal.auth import Principal
from portal.bridge import RegistryBridge
from portal.catalog import Catalog, CatalogEntry, SearchHit
from portal.config import PortalConfig
from portal.limits import limits_for
from portal.metrics import PortalMetrics
from portal.permissions import Permissions
from portal.ratelimit import Admission, RateLimited
from portal.registry import Registry

__all__ = [
    "EXECUTE_DESCRIPTION",
    "EXECUTE_TOOL",
    "SEARCH_DESCRIPTION",
    "SEARCH_TOOL",
    "CodeMode",
    "ExecuteOutcome",
    "format_execution",
]

SEARCH_TOOL = "portal_codemode_search"
EXECUTE_TOOL = "portal_codemode_execute"
MAX_QUERY_CHARS = 500
MAX_SEARCH_LIMIT = 50
ANONYMOUS_USER = "anonymous"
RATE_LIMITED = "RateLimited"  # an execution refused before it ran: too many per minute or at once

SEARCH_DESCRIPTION = """\
Find the tools that fit a task across every connected system (GitLab, ...). Returns Python \
signatures with types, defaults and a one-line doc, best match first, e.g.
  gitlab.get_job_log(project: str, job_id: int, tail_lines: int = 200) -> str  # Log of one CI job
Search first, then call the tools from portal_codemode_execute. Query in plain words: \
"why did the CI job fail", "merge request diff"."""

EXECUTE_DESCRIPTION = """\
Run Python code in a sandbox where each tool found by portal_codemode_search is a function \
`namespace.tool(**kwargs)` (keyword arguments only) returning plain data (dicts, lists, str). \
Loop, filter and join inside the code; only what you print() and the value of the last \
expression come back, so return a compact summary. A failing tool raises ToolError, which you \
can catch. Run several calls at once with \
parallel(gitlab.get_project.bind(project="a"), gitlab.get_project.bind(project="b")), which returns \
their results in order. Imports: json, re, math, datetime, collections, itertools, statistics and a \
few more; no files, network or os. Example:
  mrs = gitlab.list_merge_requests(project="infra/api", state="opened")
  [{"iid": m["iid"], "title": m["title"]} for m in mrs]"""

SEARCH_INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "query": {
            "type": "string",
            "description": "What you want to do, in plain words.",
            "minLength": 1,
            "maxLength": MAX_QUERY_CHARS,
        },
        "limit": {
            "type": "integer",
            "description": "Most results to return.",
            "default": 10,
            "minimum": 1,
            "maximum": MAX_SEARCH_LIMIT,
        },
    },
    "required": ["query"],
    "additionalProperties": False,
}

EXECUTE_INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "code": {
            "type": "string",
            "description": "Python source to run; the last expression is returned.",
            "minLength": 1,
        },
    },
    "required": ["code"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class ExecuteOutcome:
    """What execute answers: the JSON text for the model and whether it is an error."""

    text: str
    is_error: bool
    result: sandbox.ExecutionResult


def _cut(text: str, budget: int, what: str) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= budget:
        return text
    kept = encoded[: max(budget, 0)].decode("utf-8", errors="ignore")
    return f"{kept}\n…[{what} cut: {len(encoded)} bytes in all, {budget} shown; print or return less]"


def format_execution(result: sandbox.ExecutionResult, max_bytes: int) -> str:
    """JSON text ``{"ok", "value", "stdout", "error"}`` that fits in ``max_bytes`` (roughly)."""
    stdout = _cut(result.stdout, max_bytes // 2 if result.value is not None else max_bytes, "output")
    value: Any = result.value
    value_json = json.dumps(value, ensure_ascii=False, default=repr)
    budget = max_bytes - len(stdout.encode("utf-8"))
    if len(value_json.encode("utf-8")) > budget:
        value = _cut(value_json, budget, "value")
    error = {"type": result.error.type, "message": result.error.message} if result.error else None
    payload = {"ok": result.ok, "value": value, "stdout": stdout, "error": error}
    return json.dumps(payload, ensure_ascii=False, default=repr)


class CodeMode:
    """Search and execute over one registry, shared by the MCP tools and the CLI."""

    def __init__(
        self,
        config: PortalConfig,
        registry: Registry,
        catalog: Catalog,
        metrics: PortalMetrics,
        audit: AuditLog,
        permissions: Permissions,
    ) -> None:
        self._config = config
        self._registry = registry
        self._catalog = catalog
        self._metrics = metrics
        self._audit = audit
        self.permissions = permissions
        self._admission = Admission(config.executions.per_minute, config.executions.in_flight)

    def may_use(self, principal: Principal | None, entry: CatalogEntry) -> bool:
        return self.permissions.allows(principal, entry.name, entry.annotations())

    @staticmethod
    def user_id(principal: Principal | None) -> str:
        """The caller's anonymous id: what downstream servers, metrics and the audit trail see."""
        return principal.user_id if principal else ANONYMOUS_USER

    def limits(self, principal: Principal | None = None) -> sandbox.Limits:
        return limits_for(self._config.sandbox, principal)

    def search(self, query: str, limit: int, principal: Principal | None) -> list[SearchHit]:
        """Tools the caller may use, best match first."""
        self._metrics.searches.inc()
        return self._catalog.search(
            query[:MAX_QUERY_CHARS],
            max(1, min(limit, MAX_SEARCH_LIMIT)),
            allowed=lambda entry: self.may_use(principal, entry),
        )

    def search_text(self, query: str, limit: int, principal: Principal | None) -> str:
        hits = self.search(query, limit, principal)
        if not hits:
            return "No tool matches that query. Try other words, or fewer of them."
        lines = [hit.entry.signature for hit in hits]
        unavailable = [s.namespace for s in self._registry.statuses() if s.state == "failed"]
        if unavailable:
            lines.append(f"# unavailable now: {', '.join(unavailable)}")
        return "\n".join(lines)

    async def execute(self, code: str, principal: Principal | None) -> ExecuteOutcome:
        user_id = self.user_id(principal)
        bridge = RegistryBridge(self._registry, self._catalog, principal, user_id, self.may_use)
        started_at = datetime.now(UTC)
        limits = self.limits(principal)
        try:
            with self._admission.admit(user_id):
                result = await sandbox.run(code, tools=bridge.tool_names(), bridge=bridge, limits=limits)
        except RateLimited as refused:
            result = sandbox.ExecutionResult(
                False, None, "", sandbox.ErrorInfo(RATE_LIMITED, str(refused)), (), 0.0
            )
        self._metrics.record_execution(result)
        text = format_execution(result, self._config.result_max_bytes)
        await self._audit.record(user_id, started_at, code, result, len(text.encode("utf-8")))
        return ExecuteOutcome(text=text, is_error=not result.ok, result=result)
