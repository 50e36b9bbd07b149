"""Compact result shapes for the Backstage tools: the fields a model needs, not the whole entity.

TypedDicts (from typing_extensions: pydantic requires it on Python < 3.12) so
each tool publishes an outputSchema. Every entity is named by its ref,
`kind:namespace/name` lower-cased (e.g. "component:default/orders-api"), which
every tool accepts back.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field
from typing_extensions import TypedDict

Kind = Literal["component", "api", "resource", "system", "domain", "group", "user", "location", "template"]


class EntitySummary(TypedDict):
    ref: str
    kind: str
    name: str
    title: str | None
    description: str | None
    type: str | None
    lifecycle: str | None
    owner: str | None
    system: str | None
    tags: list[str]


class SearchResult(TypedDict):
    items: list[EntitySummary]
    total_items: int
    next_cursor: str | None


class Link(TypedDict):
    url: str
    title: str | None


class Entity(EntitySummary):
    namespace: str
    uid: str
    annotations: dict[str, str]
    links: list[Link]
    # What a kind adds beyond the fields above differs per kind (a group's children, an API's
    # definition placeholder), so it stays free-form, described.
    spec: Annotated[
        dict[str, Any],
        Field(
            description="The rest of the entity's spec, kind-specific (e.g. dependsOn, providesApis, "
            "children, members); type, lifecycle, owner and system are the fields above"
        ),
    ]
    relations: dict[str, list[str]]


class Person(TypedDict):
    ref: str
    name: str
    display_name: str | None
    email: str | None


class Owner(TypedDict):
    entity_ref: str
    owner_ref: str
    in_catalog: bool
    kind: str
    name: str
    display_name: str | None
    email: str | None
    type: str | None
    parent: str | None
    members: list[Person]


class GroupMembers(TypedDict):
    group_ref: str
    display_name: str | None
    email: str | None
    members: list[Person]


class Related(TypedDict):
    ref: str
    relation: str
    via: str | None
    in_catalog: bool
    kind: str
    name: str
    title: str | None
    type: str | None
    owner: str | None
    lifecycle: str | None


class RelatedList(TypedDict):
    entity_ref: str
    items: list[Related]


class ApiDefinition(TypedDict):
    ref: str
    title: str | None
    type: str | None
    lifecycle: str | None
    owner: str | None
    provided_by: list[str]
    consumed_by: list[str]
    definition: str
    total_chars: int
    next_start: int | None


class FacetValue(TypedDict):
    value: str
    count: int


class Location(TypedDict):
    id: str
    type: str
    target: str


class RegisteredLocation(TypedDict):
    location: Location
    dry_run: bool
    entities: list[str]
