"""Compact result shapes for the Elasticsearch tools: what a model needs, not the whole response.

TypedDicts (from typing_extensions: pydantic requires it on Python < 3.12) so each
tool publishes an outputSchema. Times are ISO 8601 UTC strings, sizes bytes.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field
from typing_extensions import TypedDict

Health = Literal["green", "yellow", "red"]


class Hit(TypedDict):
    _index: str
    _id: str
    # The document's own fields: they differ per index, so get_mapping, not this schema, lists them.
    _source: Annotated[
        dict[str, Any],
        Field(description="The document's own fields, e.g. @timestamp, message; get_mapping lists them"),
    ]


class SearchResult(TypedDict):
    total: int
    total_relation: Literal["eq", "gte"]
    hits: list[Hit]
    next_from: int | None


class CountResult(TypedDict):
    index: str
    count: int


class IndexInfo(TypedDict):
    name: str
    health: Health | None
    status: str
    docs_count: int
    size_bytes: int


class IndexList(TypedDict):
    total: int
    indices: list[IndexInfo]
    next_offset: int | None


class MappingGroup(TypedDict):
    indices: list[str]
    fields: dict[str, str]


class ClusterHealth(TypedDict):
    cluster_name: str
    status: Health
    timed_out: bool
    number_of_nodes: int
    number_of_data_nodes: int
    active_primary_shards: int
    active_shards: int
    relocating_shards: int
    initializing_shards: int
    unassigned_shards: int
    active_shards_percent: float


class ValueCount(TypedDict):
    value: str | int | float | bool
    count: int


class TopValues(TypedDict):
    field: str
    matched: int
    values: list[ValueCount]
    other_count: int


class TimeBucket(TypedDict):
    start: str
    count: int


class Histogram(TypedDict):
    interval: str
    matched: int
    buckets: list[TimeBucket]
