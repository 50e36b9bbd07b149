"""Resources, resource templates, prompts and completions from every upstream, under one name each.

Naming, reversible by table (`FederatedNames.route`):

- a resource URI (or template) that one upstream alone lists keeps its URI, so a
  single server sits behind the portal unchanged; one that several upstreams list
  becomes ``<namespace>+<uri>`` for each (``gitlab+file:///README``). A URI no
  listing names (one made from a template) routes by that ``<namespace>+`` prefix,
  else to the one upstream whose template matches it;
- a prompt is named like a tool in direct mode: the server's ``tool_prefix``
  (default ``<namespace>_``) and its own name; `portal.config` refuses prefixes that
  could collide. Two entries that still end up with one name are both left out
  (and logged): the portal never guesses which server a name means.

Permissions are the tools' rules (portal/permissions.py): a resource is the name
``<namespace>.<uri>``, a prompt ``<namespace>.<prompt>``, both read-only. An entry
the caller may not use is neither listed nor readable, and reading it fails exactly
as an unknown one does, so its existence does not leak.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import mcp_types as types
from mcp.shared.exceptions import MCPError

from portal.auth import Principal
from portal.permissions import Permissions
from portal.registry import Registry, UpstreamError
from portal.tool_errors import clean_error_text

__all__ = ["NAMESPACE_SEPARATOR", "RESOURCE_NOT_FOUND", "FederatedNames", "Federation", "Route"]

logger = logging.getLogger(__name__)
NAMESPACE_SEPARATOR = "+"
RESOURCE_NOT_FOUND = -32002  # the MCP spec's error code for an unknown resource
READ_ONLY = {"readOnlyHint": True, "destructiveHint": False, "openWorldHint": False}
_TEMPLATE_VARIABLE = re.compile(r"\{([+#./;?&]?)[^}]*\}")


@dataclass(frozen=True)
class Route:
    """Which upstream an exposed name belongs to, and its name there."""

    namespace: str
    original: str


def _unique(claims: list[tuple[str, Route]], what: str) -> dict[str, Route]:
    """Exposed name -> route; a name two entries claim is refused for both (and logged)."""
    counts = Counter(name for name, _ in claims)
    table: dict[str, Route] = {}
    for name, route in claims:
        if counts[name] > 1:
            logger.warning("%s %r is left out: two upstream entries would share that name", what, name)
        else:
            table[name] = route
    return table


def _namespaced(listed: Mapping[str, list[str]]) -> list[tuple[str, Route]]:
    shared = Counter(original for originals in listed.values() for original in set(originals))
    return [
        (original if shared[original] == 1 else f"{ns}{NAMESPACE_SEPARATOR}{original}", Route(ns, original))
        for ns, originals in listed.items()
        for original in dict.fromkeys(originals)
    ]


def _template_pattern(template: str) -> re.Pattern[str]:
    """An RFC 6570 template as a regex: ``{id}`` one path segment, ``{+path}`` anything."""
    parts, last = [], 0
    for match in _TEMPLATE_VARIABLE.finditer(template):
        parts.append(re.escape(template[last : match.start()]))
        parts.append(".+" if match.group(1) in ("+", "#") else "[^/?#]+")
        last = match.end()
    parts.append(re.escape(template[last:]))
    return re.compile("".join(parts) + r"\Z")


@dataclass
class FederatedNames:
    """One snapshot of every upstream's resources, templates and prompts under their exposed names."""

    resources: dict[str, Route] = field(default_factory=dict)
    templates: dict[str, Route] = field(default_factory=dict)
    prompts: dict[str, Route] = field(default_factory=dict)
    patterns: list[tuple[re.Pattern[str], str]] = field(default_factory=list)  # (regex, namespace)

    @classmethod
    def build(cls, registry: Registry, prefixes: Mapping[str, str]) -> FederatedNames:
        resources = {ns: [str(r.uri) for r in rs] for ns, rs in registry.resources().items()}
        templates = {ns: [t.uri_template for t in ts] for ns, ts in registry.resource_templates().items()}
        prompt_claims = [
            (f"{prefixes.get(ns, f'{ns}_')}{p.name}", Route(ns, p.name))
            for ns, ps in registry.prompts().items()
            for p in ps
        ]
        return cls(
            resources=_unique(_namespaced(resources), "resource"),
            templates=_unique(_namespaced(templates), "resource template"),
            prompts=_unique(prompt_claims, "prompt"),
            patterns=[(_template_pattern(t), ns) for ns, ts in templates.items() for t in ts],
        )

    def exposed(self, table: dict[str, Route], namespace: str, original: str) -> str | None:
        route = Route(namespace, original)
        return next((name for name, r in table.items() if r == route), None)

    def route_uri(self, uri: str, namespaces: set[str]) -> Route | None:
        """The upstream of a URI: listed, namespaced, or matching exactly one upstream's templates."""
        if uri in self.resources:
            return self.resources[uri]
        namespace, separator, rest = uri.partition(NAMESPACE_SEPARATOR)
        if separator and namespace in namespaces and rest:
            return Route(namespace, rest)
        matching = {ns for pattern, ns in self.patterns if pattern.match(uri)}
        if len(matching) == 1:
            return Route(matching.pop(), uri)
        return None


class Federation:
    """Answers the resource, prompt and completion requests of the portal's MCP server."""

    def __init__(self, registry: Registry, prefixes: Mapping[str, str], permissions: Permissions) -> None:
        self._registry = registry
        self._prefixes = dict(prefixes)
        self._permissions = permissions
        self._names = FederatedNames()
        self._version = -1

    def names(self) -> FederatedNames:
        if self._registry.version != self._version:
            self._version = self._registry.version
            self._names = FederatedNames.build(self._registry, self._prefixes)
        return self._names

    def may_read(self, principal: Principal | None, route: Route) -> bool:
        return self._permissions.allows(principal, f"{route.namespace}.{route.original}", READ_ONLY)

    def list_resources(self, principal: Principal | None) -> list[types.Resource]:
        names = self.names()
        return [
            resource.model_copy(update={"uri": exposed})
            for ns, listed in self._registry.resources().items()
            for resource in listed
            if (exposed := names.exposed(names.resources, ns, str(resource.uri))) is not None
            and self.may_read(principal, Route(ns, str(resource.uri)))
        ]

    def list_templates(self, principal: Principal | None) -> list[types.ResourceTemplate]:
        names = self.names()
        return [
            template.model_copy(update={"uri_template": exposed})
            for ns, listed in self._registry.resource_templates().items()
            for template in listed
            if (exposed := names.exposed(names.templates, ns, template.uri_template)) is not None
            and self._permissions.allows(principal, f"{ns}.{template.uri_template}", READ_ONLY)
        ]

    def list_prompts(self, principal: Principal | None) -> list[types.Prompt]:
        names = self.names()
        return [
            prompt.model_copy(update={"name": exposed})
            for ns, listed in self._registry.prompts().items()
            for prompt in listed
            if (exposed := names.exposed(names.prompts, ns, prompt.name)) is not None
            and self.may_read(principal, Route(ns, prompt.name))
        ]

    def resource_route(self, principal: Principal | None, uri: str) -> Route:
        """The upstream of ``uri`` if the caller may read it; otherwise "not found", whichever it is."""
        route = self.names().route_uri(uri, set(self._prefixes))
        if route is None or not self.may_read(principal, route):
            raise MCPError(RESOURCE_NOT_FOUND, f"Resource not found: {uri}")
        return route

    async def read(self, principal: Principal | None, uri: str) -> types.ReadResourceResult:
        route = self.resource_route(principal, uri)
        result: types.ReadResourceResult = await self._upstream(
            route.namespace, lambda client: client.read_resource(route.original, cache_mode="bypass")
        )
        contents = [
            c.model_copy(update={"uri": uri}) if str(c.uri) == route.original else c for c in result.contents
        ]
        return result.model_copy(update={"contents": contents})

    def prompt_route(self, principal: Principal | None, name: str) -> Route:
        route = self.names().prompts.get(name)
        if route is None or not self.may_read(principal, route):
            raise MCPError(types.INVALID_PARAMS, f"Unknown prompt {name!r}")
        return route

    async def get_prompt(
        self, principal: Principal | None, name: str, arguments: dict[str, str] | None
    ) -> types.GetPromptResult:
        route = self.prompt_route(principal, name)
        result: types.GetPromptResult = await self._upstream(
            route.namespace, lambda client: client.get_prompt(route.original, arguments)
        )
        return result

    async def complete(
        self, principal: Principal | None, params: types.CompleteRequestParams
    ) -> types.CompleteResult:
        ref: Any = params.ref
        if isinstance(ref, types.PromptReference):
            route = self.prompt_route(principal, ref.name)
            upstream_ref: Any = ref.model_copy(update={"name": route.original})
        else:
            route = self.names().templates.get(ref.uri) or self.resource_route(principal, ref.uri)
            if not self._permissions.allows(principal, f"{route.namespace}.{route.original}", READ_ONLY):
                raise MCPError(RESOURCE_NOT_FOUND, f"Resource not found: {ref.uri}")
            upstream_ref = ref.model_copy(update={"uri": route.original})
        if not self._registry.supports(route.namespace, "completions"):
            return types.CompleteResult(completion=types.Completion(values=[]))
        argument = {"name": params.argument.name, "value": params.argument.value}
        context = params.context.arguments if params.context is not None else None
        result: types.CompleteResult = await self._upstream(
            route.namespace, lambda client: client.complete(upstream_ref, argument, context)
        )
        return result

    async def _upstream(self, namespace: str, send: Any) -> Any:
        try:
            return await self._registry.request(namespace, send)
        except MCPError as exc:  # the upstream's own error: its code, its text without URLs or ports
            raise MCPError(exc.error.code, clean_error_text(exc.error.message)) from None
        except UpstreamError as exc:
            raise MCPError(types.INTERNAL_ERROR, clean_error_text(str(exc))) from None
