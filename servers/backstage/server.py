"""The Backstage MCP server: tool definitions over `BackstageClient`. No I/O at construction.

Every tool names entities by ref, `kind:namespace/name` (e.g.
"component:default/orders-api"); where a tool says so, the kind and the
namespace ("default") may be left out. Results are compact: use get_entity for
the full annotations, links, spec and relations of one entity.
"""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from servers._toolkit import IDEMPOTENT_WRITE, READ, tool_registrar

from . import models as m
from . import shapes
from .client import BackendError, BackstageClient
from .settings import Settings

__all__ = ["build_server"]

# Registering adds a location and deletes nothing; registering it again changes nothing (409).
WRITE = IDEMPOTENT_WRITE

ComponentRef = Annotated[
    str,
    Field(
        min_length=1,
        max_length=300,
        description="Entity ref kind:namespace/name, e.g. 'component:default/orders-api' or "
        "'resource:default/orders-db'; a bare name means a component in namespace default",
    ),
]
Facet = Literal[
    "kind", "spec.type", "spec.lifecycle", "spec.owner", "spec.system", "metadata.tags", "metadata.namespace"
]


def _filters(
    kind: str | None,
    type_: str | None,
    owner: str | None,
    tag: str | None,
    lifecycle: str | None,
    raw: str | None,
) -> list[str]:
    """The search arguments as Backstage filter statements, all of which must match."""
    owner_ref = shapes.normalize(owner, "group", "default") if owner else None
    if owner and not owner_ref:
        raise ToolError(
            f"owner '{owner}' is not a group name or ref: "
            "write e.g. 'team-payments' or 'group:default/team-payments'"
        )
    pairs = [("kind", kind), ("spec.type", type_), ("relations.ownedBy", owner_ref)]
    pairs += [("metadata.tags", tag), ("spec.lifecycle", lifecycle)]
    statements = [f"{key}={value}" for key, value in pairs if value]
    return statements + [s.strip() for s in (raw or "").split(",") if s.strip()]


def build_server(settings: Settings) -> MCPServer:
    bs = BackstageClient(settings)
    server = MCPServer(
        name="backstage",
        instructions=(
            "Backstage software catalog (service catalog, developer portal): find services, components, "
            "APIs, resources, teams and people; ownership (who owns or maintains what, which team is "
            "responsible), what depends on what, and API definitions. Entities are named by ref "
            "kind:namespace/name."
        ),
    )

    # Each tool is registered with our own errors turned into the SDK's ToolError (servers/_toolkit.py).
    tool = tool_registrar(server, BackendError)

    @tool(READ)
    def search_entities(
        kind: m.Kind | None = None,
        type: Annotated[
            str | None, Field(description="spec.type: service, library, openapi, database, team, ...")
        ] = None,
        text: Annotated[
            str | None,
            Field(
                description="Case-insensitive substring of name, title, description, or a person's name/email"
            ),
        ] = None,
        owner: Annotated[
            str | None, Field(description="Owning group: 'team-payments' or 'group:default/team-payments'")
        ] = None,
        tag: Annotated[str | None, Field(description="A tag, e.g. 'python'")] = None,
        lifecycle: Annotated[
            str | None, Field(description="production, experimental, deprecated, ...")
        ] = None,
        filter: Annotated[
            str | None,
            Field(
                description="Extra Backstage filter: comma-separated key=value statements that must all "
                "match (case-insensitive), e.g. 'metadata.annotations.gitlab.com/project-slug=infra/api' "
                "or 'spec.system=shop,relations.dependsOn=resource:default/orders-db'; a bare key means "
                "the field exists"
            ),
        ] = None,
        limit: Annotated[
            int | None, Field(ge=1, le=100, description="Items per page, 1-100; default 20")
        ] = None,
        offset: Annotated[int, Field(ge=0, description="Items to skip (first page only)")] = 0,
        cursor: Annotated[
            str | None,
            Field(description="next_cursor of a previous call; the other filters are then ignored"),
        ] = None,
    ) -> m.SearchResult:
        """Find catalog entities (services, APIs, resources, systems, groups, users), sorted by name.

        All given arguments must match. Each item: ref (use with the other tools), kind, name, title,
        description (first 200 chars), type, lifecycle, owner ref, system ref, tags. total_items
        counts every match; when next_cursor is not null, pass it as `cursor` for the next page.
        Example: search_entities(kind='component', type='service', owner='team-payments').
        Find the entity of a GitLab project: filter='metadata.annotations.gitlab.com/project-slug=infra/api'.
        """
        filters = _filters(kind, type, owner, tag, lifecycle, filter)
        return bs.search(filters, text, limit or settings.page_size, offset, cursor)

    @tool(READ)
    def get_entity(
        ref: Annotated[
            str | None,
            Field(description="Entity ref, e.g. 'component:default/orders-api'; or give kind/namespace/name"),
        ] = None,
        kind: Annotated[
            str | None, Field(description="Kind, e.g. component, api, resource, group, user")
        ] = None,
        namespace: Annotated[str, Field(description="Namespace; almost always 'default'")] = "default",
        name: Annotated[str | None, Field(description="Entity name, e.g. 'orders-api'")] = None,
    ) -> m.Entity:
        """One entity in full: title, description, tags, annotations (e.g. gitlab.com/project-slug,
        sentry.io/project-slug, jira/project-key), links, spec (an API's definition is replaced by
        its size: use get_api_definition), and relations grouped by type (ownedBy, dependsOn,
        dependencyOf, providesApi, consumesApi, apiConsumedBy, partOf, hasMember, memberOf...) as refs.
        Example: get_entity(ref='component:default/orders-api') or get_entity(kind='api', name='orders-api').
        Without a kind, a component is meant.
        """
        if ref:
            return bs.get_entity(ref, default_kind=kind or "component")
        if name:
            return bs.get_entity(f"{kind or 'component'}:{namespace}/{name}")
        raise ToolError("give ref (e.g. 'component:default/orders-api') or name (with kind and namespace)")

    @tool(READ)
    def get_owner(ref: ComponentRef) -> m.Owner:
        """Who owns an entity: the owner group (or user) with display_name, team email, type,
        parent group, and its members (ref, name, display_name, email). in_catalog is false when
        the owner named in spec.owner has no entity (then only owner_ref is known).
        Example: get_owner(ref='component:default/orders-api') -> team-payments, alice and bob.
        """
        return bs.owner(ref)

    @tool(READ)
    def list_dependencies(ref: ComponentRef) -> m.RelatedList:
        """What an entity needs: its dependsOn targets (components, resources such as databases and
        topics) and the APIs it consumes (consumesApi), from spec.dependsOn/consumesApis and the
        catalog's relations. Each item: ref, relation (dependsOn|consumesApi), kind, name, title,
        type, owner, lifecycle; in_catalog is false for a target the catalog does not know.
        """
        return bs.dependencies(ref)

    @tool(READ)
    def list_dependents(
        ref: ComponentRef,
        via_apis: Annotated[
            bool, Field(description="Also list consumers of the APIs this component provides")
        ] = True,
    ) -> m.RelatedList:
        """What breaks if this entity breaks: entities that depend on it (relation dependencyOf) and,
        for an API, its consumers (apiConsumedBy). With via_apis (default), a component's dependents
        include the consumers of each API it provides, with `via` naming that API.
        Example: list_dependents(ref='resource:default/orders-db') -> orders-api, etl-exporter.
        """
        return bs.dependents(ref, via_apis)

    @tool(READ)
    def get_api_definition(
        ref: Annotated[
            str,
            Field(
                min_length=1, description="API ref, e.g. 'api:default/orders-api'; a bare name means an API"
            ),
        ],
        start: Annotated[
            int, Field(ge=0, description="Character offset to read from (for long definitions)")
        ] = 0,
        max_chars: Annotated[int, Field(ge=200, le=200_000, description="Characters to return")] = 20_000,
    ) -> m.ApiDefinition:
        """An API entity's definition text (spec.definition: OpenAPI/AsyncAPI YAML, GraphQL SDL, ...),
        with its type (openapi, asyncapi, graphql, grpc), lifecycle, owner, and the components that
        provide and consume it. Long definitions come in chunks: when next_start is not null the text
        ends with a truncation marker; call again with start=next_start.
        """
        return bs.api_definition(ref, start, max_chars)

    @tool(READ)
    def list_group_members(
        group: Annotated[
            str,
            Field(
                min_length=1,
                description="Group name or ref, e.g. 'team-payments' or 'group:default/team-web'",
            ),
        ],
    ) -> m.GroupMembers:
        """The people in a group (its hasMember relations), each with ref, name, display_name and
        email (e.g. alice@acme.example), plus the group's display_name and team email.
        """
        return bs.group_members(group)

    @tool(READ)
    def list_facets(
        facet: Facet = "kind",
        kind: Annotated[m.Kind | None, Field(description="Only count this kind")] = None,
    ) -> list[m.FacetValue]:
        """The distinct values of one field across the catalog with their entity counts, most common
        first: e.g. facet='spec.type', kind='component' -> service 4, library 1. Use it to learn the
        kinds, types, tags or owners before searching."""
        return bs.facets(facet, [f"kind={kind}"] if kind else [])

    @tool(WRITE)
    def register_location(
        target: Annotated[
            str,
            Field(
                min_length=1,
                description="URL of a catalog-info.yaml (e.g. in GitLab), or an absolute path (type 'file')",
            ),
        ],
        type: Literal["url", "file"] = "url",
        dry_run: Annotated[bool, Field(description="Only preview the entities the file defines")] = False,
    ) -> m.RegisteredLocation:
        """Register a catalog-info.yaml with the catalog so its entities get imported (deletes nothing).
        With dry_run the catalog reads the file and lists the entity refs it defines, registering
        nothing. A real registration returns the location id; its entities appear once the catalog
        has processed it (usually within a minute). Registering the same location twice is an error.
        """
        return bs.register_location(target, type, dry_run)

    return server
