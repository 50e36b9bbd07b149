"""The Elasticsearch MCP server: tool definitions over `ElasticsearchClient`. No I/O at construction.

Index arguments take a name, a wildcard pattern or a comma list ("logs-*",
"logs-2026.02.26", "logs-2026.02.25,logs-2026.02.26"). Queries are either a
Lucene query string (`query`) or a query DSL object (`dsl`), optionally
narrowed to an @timestamp window with `since`/`until`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from servers._toolkit import READ, tool_registrar

from . import models as m
from .client import BackendError, ElasticsearchClient, InputError, build_query
from .settings import MAX_SIZE, Settings

__all__ = ["build_server"]


Index = Annotated[
    str,
    Field(
        min_length=1,
        description="Index name, wildcard pattern or comma list, e.g. 'logs-*' or 'logs-2026.02.26'",
    ),
]
Query = Annotated[
    str | None,
    Field(
        description="Lucene query string, e.g. 'level:ERROR AND service:orders-api', "
        "'message:\"too many digits\"', 'http.status:[500 TO 599]'. Keyword fields match whole, "
        "case-sensitive values; words without a field search every field. Give this or dsl, not both; "
        "neither matches everything."
    ),
]
Dsl = Annotated[
    dict[str, Any] | None,
    Field(
        description='Query DSL object (what goes under a request\'s "query"), e.g. '
        '{"bool": {"filter": [{"term": {"level": "ERROR"}}, {"range": {"duration_ms": {"gte": 1000}}}]}}'
    ),
]
Since = Annotated[
    str | None,
    Field(
        description="Only @timestamp >= this: ISO 8601 UTC ('2026-02-26T14:00:00Z') or date math ('now-24h')"
    ),
]
Until = Annotated[str | None, Field(description="Only @timestamp <= this, same forms as since")]
SortSpec = Annotated[str, Field(pattern=r"^[^:\s]+(:(asc|desc))?$")]


def build_server(settings: Settings) -> MCPServer:
    es = ElasticsearchClient(settings)  # lazy: connects at the first tool call
    server = MCPServer(
        name="elasticsearch",
        instructions="Elasticsearch: centralised logs and log search (as in Kibana). Search and count log "
        "documents (log lines, messages, requests), top values of a field, counts over time, indices, "
        "field mappings and cluster health. Start with list_indices() and get_mapping('logs-*').",
    )

    # Every tool reads; each is registered with our own errors turned into the SDK's ToolError.
    tool = tool_registrar(server, BackendError, InputError)(READ)

    @tool
    def search(
        index: Index = "logs-*",
        query: Query = None,
        dsl: Dsl = None,
        since: Since = None,
        until: Until = None,
        size: Annotated[
            int | None, Field(ge=1, le=MAX_SIZE, description="Hits per page, 1-200; default 20")
        ] = None,
        from_: Annotated[int, Field(ge=0, le=10_000, description="Hits to skip: pass next_from to page")] = 0,
        sort: Annotated[
            list[SortSpec] | None,
            Field(
                description="'field' or 'field:asc|desc' items; default ['@timestamp:desc'] (newest first); "
                "['_score'] for relevance"
            ),
        ] = None,
        fields: Annotated[
            list[str] | None,
            Field(
                description="Only these _source fields, e.g. ['@timestamp', 'message', 'http.status']; "
                "wildcards like 'http.*' work; default all"
            ),
        ] = None,
    ) -> m.SearchResult:
        """Search documents (log lines) and return the matching hits, newest first by default.

        Returns total (number of matches; total_relation 'gte' means at least that many),
        hits (each with _index, _id and _source; strings over 500 characters are cut with a
        '… [truncated: N more characters] …' marker: read the whole document with get_document) and
        next_from (pass it as from_ for the next page; null on the last page).
        Example: search(index='logs-*', query='service:orders-api AND level:ERROR',
        since='2026-02-26T00:00:00Z', size=5, fields=['@timestamp', 'message']).
        """
        built = build_query(query, dsl, since, until)
        return es.search(
            index, built, size or settings.default_size, from_, sort or ["@timestamp:desc"], fields
        )

    @tool
    def count(
        index: Index = "logs-*",
        query: Query = None,
        dsl: Dsl = None,
        since: Since = None,
        until: Until = None,
    ) -> m.CountResult:
        """Count the documents matching a query, without fetching them: returns index and count.

        Example: count(index='logs-*', query='level:ERROR AND service:etl-exporter', since='now-7d').
        """
        return es.count(index, build_query(query, dsl, since, until))

    @tool
    def top_values(
        index: Index,
        field: Annotated[
            str,
            Field(
                min_length=1,
                description="A keyword, number or date field, e.g. 'service', 'http.status', "
                "'message.keyword'; not a text field",
            ),
        ],
        size: Annotated[int, Field(ge=1, le=100, description="How many values, 1-100")] = 10,
        query: Query = None,
        dsl: Dsl = None,
        since: Since = None,
        until: Until = None,
    ) -> m.TopValues:
        """The most frequent values of a field among matching documents (a terms aggregation).

        Returns field, matched (documents matching the query), values (value and count, most
        frequent first) and other_count (documents holding values not listed). Example: which
        services log errors: top_values(index='logs-*', field='service', query='level:ERROR').
        """
        return es.top_values(index, field, size, build_query(query, dsl, since, until))

    @tool
    def count_over_time(
        index: Index = "logs-*",
        interval: Literal["1m", "5m", "15m", "30m", "1h", "3h", "6h", "12h", "1d"] = "1h",
        query: Query = None,
        dsl: Dsl = None,
        since: Since = None,
        until: Until = None,
    ) -> m.Histogram:
        """How many matching documents fall in each time interval of @timestamp (a date histogram):
        when a burst of errors started and stopped.

        Returns interval, matched (all matching documents) and buckets (start as ISO 8601 UTC,
        count), oldest first; intervals without documents are left out; at most 500 buckets.
        Example: count_over_time(query='level:ERROR', interval='5m', since='2026-02-26T12:00:00Z').
        """
        return es.count_over_time(index, interval, build_query(query, dsl, since, until))

    @tool
    def get_document(
        index: Annotated[
            str,
            Field(min_length=1, description="The hit's _index: one concrete index, e.g. 'logs-2026.02.26'"),
        ],
        id: Annotated[str, Field(min_length=1, description="The hit's _id")],
    ) -> m.Hit:
        """One document by index and id, with its whole _source (strings cut only beyond 20,000
        characters): read a full stack trace that search() truncated."""
        if any(c in index for c in "*,"):
            raise ToolError(f"needs one concrete index, not '{index}': pass the _index of a search() hit")
        return es.get_document(index, id)

    @tool
    def list_indices(
        pattern: Annotated[str, Field(min_length=1, description="Names or wildcard, e.g. 'logs-*'")] = "*",
        limit: Annotated[int, Field(ge=1, le=500, description="Indices per page, 1-500")] = 100,
        offset: Annotated[int, Field(ge=0, description="Indices to skip: pass next_offset to page")] = 0,
    ) -> m.IndexList:
        """List indices sorted by name: name, health (green|yellow|red), status (open|close),
        docs_count and size_bytes (store size in bytes, replicas included). Returns total and
        next_offset (null on the last page). Log indices are usually daily, e.g. logs-2026.02.26."""
        return es.list_indices(pattern, limit, offset)

    @tool
    def get_mapping(
        index: Index = "logs-*",
        prefix: Annotated[str | None, Field(description="Only fields whose path starts with this")] = None,
    ) -> list[m.MappingGroup]:
        """The fields of indices and their types, as {path: type} (e.g. 'http.status': 'integer',
        'message': 'text', 'message.keyword': 'keyword'); indices with identical mappings are grouped.

        Use it before querying: keyword fields match exact values (term, top_values); text fields
        match words (match, query strings); date and number fields take ranges. At most 300 fields
        per group; narrow with prefix."""
        return es.get_mapping(index, prefix)

    @tool
    def cluster_health() -> m.ClusterHealth:
        """The cluster's health: status (green: all shards assigned; yellow: some replicas missing;
        red: some primary shards missing, so searches may miss data), node and shard counts, and
        active_shards_percent."""
        return es.cluster_health()

    return server
