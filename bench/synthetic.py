"""Realistic generated tool registries: ``<system>_<verb>_<noun>`` tools shaped like the GitLab ones.

Each tool has a one- to three-sentence description, two to six typed
parameters with descriptions (pydantic-style JSON Schema: titles, defaults,
``anyOf`` with null for optional values) and an output schema, as an MCP
server built with the SDK's decorator API serves them. Seeded: the same
``count`` always gives the same tools.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

import mcp_types as types

from portal.registry import UpstreamTool

__all__ = ["NOUNS", "SYSTEMS", "VERBS", "synthetic_tools"]

SYSTEMS = (
    "jira", "github", "slack", "pagerduty", "datadog", "salesforce", "zendesk", "stripe", "aws", "gcp",
    "azure", "k8s", "confluence", "notion", "sentry", "okta", "snowflake", "hubspot", "linear", "asana",
    "grafana", "vault", "terraform", "jenkins", "argocd", "servicenow", "workday", "netsuite", "shopify",
    "twilio", "sendgrid", "segment", "looker", "airflow", "dbt", "kafka", "redis", "postgres", "s3", "bamboo",
)  # fmt: skip
VERBS = (
    "list", "get", "create", "update", "delete", "search", "archive", "assign", "close", "reopen",
    "export", "import", "approve", "cancel", "restart", "tag", "comment_on", "count", "sync", "validate",
)  # fmt: skip
NOUNS = (
    "issue", "ticket", "incident", "deployment", "invoice", "customer", "user", "channel", "message",
    "alert", "dashboard", "cluster", "pod", "service", "pipeline", "build", "release", "contract",
    "order", "payment", "subscription", "account", "contact", "lead", "opportunity", "page", "document",
    "secret", "policy", "role", "group", "team", "project", "repository", "branch", "runbook", "schedule",
    "monitor", "report", "dataset",
)  # fmt: skip

_DOING = {
    "list": "Lists {noun}s in {sys}, newest first, optionally filtered",
    "get": "Gets one {noun} from {sys} by id with all its fields",
    "create": "Creates a new {noun} in {sys} as the calling user",
    "update": "Updates the given fields of an existing {noun} in {sys}",
    "delete": "Deletes a {noun} from {sys}; this cannot be undone",
    "search": "Full-text search over {sys} {noun}s by keyword",
    "archive": "Archives a {noun} in {sys} so it no longer shows in default lists",
    "assign": "Assigns a {noun} in {sys} to a user or team",
    "close": "Closes an open {noun} in {sys} with an optional resolution",
    "reopen": "Reopens a closed {noun} in {sys}",
    "export": "Exports {noun}s from {sys} as CSV or JSON rows",
    "import": "Imports {noun}s into {sys} from rows of key/value pairs",
    "approve": "Approves a pending {noun} in {sys} on behalf of the caller",
    "cancel": "Cancels a {noun} in {sys} that has not finished yet",
    "restart": "Restarts a {noun} in {sys} and returns its new state",
    "tag": "Adds or removes tags on a {noun} in {sys}",
    "comment_on": "Posts a comment on a {noun} in {sys}, visible to everyone with access",
    "count": "Counts {noun}s in {sys} matching the filters, grouped by state",
    "sync": "Synchronises a {noun} in {sys} with its upstream source",
    "validate": "Checks a {noun} in {sys} against its rules and lists the problems found",
}
_EXTRA_SENTENCES = (
    "Returns the {noun}'s id, state, owner, created_at and web_url.",
    "Paginated: a page shorter than per_page is the last one.",
    "Use get_{noun} for the full record.",
    "Requires write access to the {noun}'s workspace.",
    "Times are ISO 8601 in UTC.",
    "Fails with a clear message when the {noun} does not exist.",
)
_STATES = ["open", "in_progress", "resolved", "closed", "all"]


def _parameter_pool(noun: str, system: str) -> list[tuple[str, dict[str, Any], bool]]:
    """(name, schema, required) candidates; the first is the tool's main identifier."""
    optional_int = {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 100}, {"type": "null"}]}
    return [
        (
            f"{noun}_id",
            {"type": "string", "minLength": 1, "description": f"Id of the {noun}, e.g. 'ABC-123'"},
            True,
        ),
        (
            "workspace",
            {
                "type": "string",
                "minLength": 1,
                "description": f"{system.title()} workspace or project key, e.g. 'ops'",
            },
            True,
        ),
        (
            "state",
            {
                "enum": _STATES,
                "type": "string",
                "default": "open",
                "description": f"Only {noun}s in this state",
            },
            False,
        ),
        (
            "query",
            {
                "anyOf": [{"type": "string"}, {"type": "null"}],
                "default": None,
                "description": "Text to find in the title or body",
            },
            False,
        ),
        (
            "labels",
            {
                "anyOf": [{"items": {"type": "string"}, "type": "array"}, {"type": "null"}],
                "default": None,
                "description": "Only items having all these labels",
            },
            False,
        ),
        (
            "since",
            {
                "anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}],
                "default": None,
                "description": "Only items changed after this time (ISO 8601)",
            },
            False,
        ),
        (
            "owner",
            {
                "anyOf": [{"type": "string"}, {"type": "null"}],
                "default": None,
                "description": "Username or email of the owner",
            },
            False,
        ),
        (
            "page",
            {"type": "integer", "minimum": 1, "default": 1, "description": "Page number, starting at 1"},
            False,
        ),
        (
            "per_page",
            {**optional_int, "default": None, "description": "Items per page, 1-100; default 20"},
            False,
        ),
        (
            "dry_run",
            {"type": "boolean", "default": False, "description": "Validate only, change nothing"},
            False,
        ),
    ]


def _title(name: str) -> str:
    return name.replace("_", " ").title()


def _output_schema(noun: str, rng: random.Random, many: bool) -> dict[str, Any]:
    model = noun.title().replace("_", "")
    fields: dict[str, dict[str, Any]] = {
        "id": {"type": "string"}, "title": {"type": "string"}, "state": {"type": "string"},
        "owner": {"anyOf": [{"type": "string"}, {"type": "null"}]}, "created_at": {"type": "string"},
        "updated_at": {"type": "string"}, "web_url": {"type": "string"},
        "labels": {"items": {"type": "string"}, "type": "array"},
    }  # fmt: skip
    chosen = ["id", *rng.sample(list(fields)[1:], rng.randint(2, 5))]
    definition = {
        "properties": {name: {**fields[name], "title": _title(name)} for name in chosen},
        "required": chosen,
        "title": model,
        "type": "object",
    }
    if not many:
        return definition
    return {
        "properties": {"result": {"items": {"$ref": f"#/$defs/{model}"}, "title": "Result", "type": "array"}},
        "required": ["result"],
        "type": "object",
        "$defs": {model: definition},
    }


def _tool(system: str, verb: str, noun: str, rng: random.Random) -> types.Tool:
    name = f"{verb}_{noun}"
    sentences = [_DOING[verb].format(noun=noun, sys=system.title()) + "."]
    sentences += [s.format(noun=noun) for s in rng.sample(_EXTRA_SENTENCES, rng.randint(0, 2))]
    pool = _parameter_pool(noun, system)
    head = pool[:2] if verb not in ("list", "search", "count", "export") else pool[1:2]
    params = head + rng.sample(pool[2:], rng.randint(2, 6) - len(head))
    properties = {pname: {**schema, "title": _title(pname)} for pname, schema, _ in params}
    input_schema = {
        "properties": properties,
        "required": [pname for pname, _, required in params if required],
        "title": f"{name}Arguments",
        "type": "object",
    }
    read_only = verb in ("list", "get", "search", "export", "count", "validate")
    return types.Tool(
        name=name,
        description=" ".join(sentences),
        input_schema=input_schema,
        output_schema=_output_schema(noun, rng, verb in ("list", "search", "export")),
        annotations=types.ToolAnnotations(read_only_hint=read_only, open_world_hint=True),
    )


def synthetic_tools(count: int, seed: int = 7) -> list[UpstreamTool]:
    """``count`` distinct tools (at most 32,000), each under its system's namespace."""
    combos = list(itertools.product(SYSTEMS, VERBS, NOUNS))
    if count > len(combos):
        raise ValueError(f"at most {len(combos)} synthetic tools")
    rng = random.Random(seed)
    picked = rng.sample(combos, count)
    return [UpstreamTool(system, _tool(system, verb, noun, rng)) for system, verb, noun in picked]
