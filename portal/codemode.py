"""Code Mode: the two tools an agent sees, whatever stands behind the portal.

``portal_codemode_search`` finds tools and shows them as Python signatures;
``portal_codemode_execute`` runs model-written Python in the sandbox, where
every tool is a callable ``namespace.tool(**kwargs)``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio

import sandbox
from portal.approvals import start_collecting
from portal.audit import AuditLog
from portal.auth import Principal
from portal.bridge import RegistryBridge
from portal.catalog import Catalog, CatalogEntry, SearchHit
from portal.config import PortalConfig
from portal.envelope import PORTAL_ERROR, ErrorEnvelope, portal_error_answer, render_answer
from portal.kept_results import RESULTS_NAMESPACE, KeptResults, ResultsBridge
from portal.limits import limits_for
from portal.metrics import PortalMetrics
from portal.observed_shapes import observer_for
from portal.permissions import Permissions
from portal.ratelimit import Admission, LocalAdmission, RateLimited
from portal.registry import Registry
from portal.resource_reader import RESOURCES_NAMESPACE, ResourceReader, ResourcesBridge
from portal.search_answer import MAX_FULL_DETAIL, brief_answer, full_contract
from portal.search_feedback import SearchFeedback

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
SEARCH_DETAILS = ("brief", "full")
ANONYMOUS_USER = "anonymous"
logger = logging.getLogger(__name__)
CANCELLED = "cancelled"  # the audit outcome of an execution its client cancelled
RATE_LIMITED = "RateLimited"  # an execution refused before it ran: too many per minute or at once

SEARCH_DESCRIPTION = """\
Find the tools that fit a task across every connected system (GitLab, ...). Returns Python \
signatures with types, defaults and a one-line doc, best match first, then the shape of each \
result type once (field? is optional), e.g.
  gitlab.get_project(project: str) -> Project  # Get one project
  Project = {id: int, path: str, default_branch: str | None, ...}
Use exactly those field names in your code. For a tool's whole contract (every parameter with \
its description, enum values and default, the full result shape, annotations, an example call), \
search its exact name as shown ("gitlab.get_project") or pass detail="full". Search first, then \
call the tools from portal_codemode_execute. Query in plain words: "why did the CI job fail", \
"merge request diff"."""

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
        "detail": {
            "type": "string",
            "enum": list(SEARCH_DETAILS),
            "description": (
                f'"full": the whole contract of each result (at most {MAX_FULL_DETAIL}); '
                "a query that is a tool's exact name gets it anyway."
            ),
            "default": "brief",
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


def format_execution(
    result: sandbox.ExecutionResult,
    max_bytes: int,
    keep_value: Callable[[Any, int], str | None] = lambda value, size: None,
) -> str:
    """The answer text for one run: see portal/envelope.py for the rules it keeps."""
    error = None
    if result.error is not None:
        error = ErrorEnvelope(result.error.type, result.error.message, result.error.tool, result.error.hint)
    return render_answer(
        ok=result.ok,
        value=result.value if result.ok else None,
        stdout=result.stdout,
        error=error,
        max_bytes=max_bytes,
        keep_value=keep_value,
    )


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
        admission: Admission | None = None,
    ) -> None:
        self._config = config
        self._registry = registry
        self._catalog = catalog
        self._metrics = metrics
        self._audit = audit
        self.permissions = permissions
        # Shared by every replica when the store is PostgreSQL (portal/ratelimit.py admission_for).
        self._admission = admission or LocalAdmission(
            config.executions.per_minute, config.executions.in_flight
        )
        self.kept_results = KeptResults()
        # resources.read(uri=...) in the sandbox (portal/resource_reader.py); set by portal/mcp_server.py
        self.resource_reader: ResourceReader | None = None
        self.feedback = SearchFeedback()  # learning from use: portal/search_feedback.py

    def may_use(self, principal: Principal | None, entry: CatalogEntry) -> bool:
        aliases = (entry.original_name,) if entry.original_name != entry.name else ()
        return self.permissions.allows(principal, entry.name, entry.annotations(), aliases)

    @staticmethod
    def user_id(principal: Principal | None) -> str:
        """The caller's anonymous id: what downstream servers, metrics and the audit trail see."""
        return principal.user_id if principal else ANONYMOUS_USER

    def limits(self, principal: Principal | None = None) -> sandbox.Limits:
        return limits_for(self._config.sandbox, principal)

    def search(self, query: str, limit: int, principal: Principal | None) -> list[SearchHit]:
        """Tools the caller may use, best match first."""
        self._metrics.searches.inc()
        return self.feedback.ranked(
            self.user_id(principal),
            query[:MAX_QUERY_CHARS],
            max(1, min(limit, MAX_SEARCH_LIMIT)),
            lambda q, k: self._catalog.search(q, k, allowed=lambda entry: self.may_use(principal, entry)),
        )

    def search_text(self, query: str, limit: int, principal: Principal | None, detail: str = "brief") -> str:
        """Signatures then result shapes; whole contracts for an exact tool name or ``detail="full"``."""
        observer = observer_for(self._registry)
        exact = self._exact_tool(query, principal)
        if exact is not None:
            return full_contract(exact, observer)
        hits = self.search(query, limit, principal)
        if not hits:
            return "No tool matches that query. Try other words, or fewer of them."
        if detail == "full":
            return "\n\n".join(full_contract(hit.entry, observer) for hit in hits[:MAX_FULL_DETAIL])
        signatures, shapes = brief_answer([hit.entry for hit in hits], query, observer)
        lines = signatures + shapes
        unavailable = [  # only servers the caller could use: a name is a fact about the catalog
            s.namespace
            for s in self._registry.statuses()
            if s.state == "failed" and self.permissions.may_reach_namespace(principal, s.namespace)
        ]
        if unavailable:
            lines.append(f"# unavailable now: {', '.join(unavailable)}")
        return "\n".join(lines)

    def _exact_tool(self, query: str, principal: Principal | None) -> CatalogEntry | None:
        """The tool whose name (as search shows it) the query is, if the caller may use it."""
        name = query.strip().removesuffix("()")
        entry = self._catalog.get(name)
        if entry is None and "." in name and " " not in name:  # the upstream's own name (`ns.get-sum`)
            entry = next((e for e in self._catalog.entries() if e.original_name == name), None)
        return entry if entry is not None and self.may_use(principal, entry) else None

    async def execute(self, code: str, principal: Principal | None) -> ExecuteOutcome:
        """Run the code and answer; exactly one audit record is written whatever happens after the run."""
        user_id = self.user_id(principal)
        started_at = datetime.now(UTC)
        registry_bridge = RegistryBridge(self._registry, self._catalog, principal, user_id, self.may_use)
        inner: sandbox.ToolBridge = registry_bridge
        if self.resource_reader is not None:
            inner = ResourcesBridge(registry_bridge, self.resource_reader, principal)
        bridge = ResultsBridge(inner, self.kept_results, user_id)
        result: sandbox.ExecutionResult | None = None
        text = portal_error_answer(self._config.result_max_bytes)
        decisions = start_collecting()  # human approvals asked during the run, for the audit record
        try:
            result = await self._run(code, principal, user_id, bridge, registry_bridge.tool_names())
            text = format_execution(
                result,
                self._config.result_max_bytes,
                lambda value, size: self.kept_results.keep(user_id, value, size),
            )
        except anyio.get_cancelled_exc_class():  # notifications/cancelled, or the client went away
            result = _cancelled(bridge.calls())  # the worker is killed as the sandbox unwinds
            raise
        except Exception:
            logger.exception("execute failed in the portal for user %s", user_id)
            result = _portal_failure(result.tool_calls if result else bridge.calls())
        finally:
            outcome = result or _portal_failure(bridge.calls())  # a cancelled run is audited too
            with anyio.CancelScope(shield=True):  # so the audit write itself is not cancelled
                audited = await self._finish(user_id, started_at, code, outcome, text, decisions)
        if not audited:  # never answer ok for an execution the audit trail does not hold
            result = _portal_failure(result.tool_calls)
            text = portal_error_answer(self._config.result_max_bytes)
        try:  # ranking hints are a nicety: their failure never costs the caller an audited answer
            self.feedback.learn(user_id, result)
        except Exception:
            logger.exception("learning from the execution failed")
        return ExecuteOutcome(text=text, is_error=not result.ok, result=result)

    async def _run(
        self,
        code: str,
        principal: Principal | None,
        user_id: str,
        bridge: ResultsBridge,
        tools: dict[str, list[str]],
    ) -> sandbox.ExecutionResult:
        registry = self._registry
        if self.resource_reader is not None and (registry.resources() or registry.resource_templates()):
            tools = {**tools, RESOURCES_NAMESPACE: ["read"]}
        if self.kept_results.has_any(user_id):
            tools = {**tools, RESULTS_NAMESPACE: ["get"]}
        try:
            limits = self.limits(principal)
            async with self._admission.admit(user_id, limits.wall_seconds):
                return await sandbox.run(code, tools=tools, bridge=bridge, limits=limits)
        except RateLimited as refused:
            return sandbox.ExecutionResult(
                False, None, "", sandbox.ErrorInfo(RATE_LIMITED, str(refused)), (), 0.0
            )

    async def _finish(
        self,
        user_id: str,
        started_at: datetime,
        code: str,
        result: sandbox.ExecutionResult,
        text: str,
        approvals: list[dict[str, str]] | None = None,
    ) -> bool:
        """Metrics and the audit record; False when the record could not be written (logged)."""
        try:
            self._metrics.record_execution(result)
        except Exception:
            logger.exception("recording execution metrics failed")
        try:
            await self._audit.record(user_id, started_at, code, result, len(text.encode("utf-8")), approvals)
        except Exception:
            logger.exception("writing the audit record failed for user %s", user_id)
            return False
        return True


def _cancelled(tool_calls: tuple[sandbox.ToolCallRecord, ...]) -> sandbox.ExecutionResult:
    """Audited with the outcome ``cancelled`` (docs/protocol.md, cancellation)."""
    error = sandbox.ErrorInfo(CANCELLED, "the client cancelled this execution")
    return sandbox.ExecutionResult(False, None, "", error, tool_calls, 0.0)


def _portal_failure(tool_calls: tuple[sandbox.ToolCallRecord, ...] = ()) -> sandbox.ExecutionResult:
    error = sandbox.ErrorInfo(PORTAL_ERROR, "the portal failed while answering this execution")
    return sandbox.ExecutionResult(False, None, "", error, tool_calls, 0.0)
