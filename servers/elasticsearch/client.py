"""Talks to Elasticsearch with the official `elasticsearch` client (9.x). Imports nothing from `mcp`.

Errors: the client raises `ApiError` subclasses carrying the HTTP status and
Elasticsearch's error body, `UnsupportedProductError` when the answer lacks the
`X-Elastic-Product: Elasticsearch` header, and `elastic_transport` errors for
timeouts, refused connections and bodies that are not JSON. `_translated()` is
the ONE place where all of them become `BackendError`, whose message names the
cause and the fix and never the API key or password.

The `Elasticsearch` object is built at the first call, not in `__init__`, so
`build_server()` stays cheap and offline. Retries are off: a model should see
a 429 or a timeout at once, with what to do, rather than wait through backoff.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout, SerializationError, TransportError
from elasticsearch import ApiError, Elasticsearch, UnsupportedProductError

from servers._toolkit import clip_strings

from . import models as m
from .settings import Settings

__all__ = ["BackendError", "ElasticsearchClient", "InputError", "build_query", "status_message"]

TIME_FIELD = "@timestamp"
TEXT_LIMIT = 500  # characters of one _source string in search hits
DOCUMENT_TEXT_LIMIT = 20_000  # ... and in get_document, which exists to read the whole thing
MAX_MAPPING_FIELDS = 300
MAX_BUCKETS = 500
_INDEX_HINT = "list the indices with list_indices(), or use a wildcard pattern such as 'logs-*'"


class BackendError(Exception):
    """Elasticsearch failed us; the message is safe to show a model (cause + fix, no secrets)."""


class InputError(Exception):
    """The tool arguments cannot make a valid request; the message says which and how to fix it."""


def _es_reason(body: Any) -> tuple[str | None, str | None, str | None]:
    """(type, reason, the index a 404 names) from Elasticsearch's error body."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None, (str(error)[:300] if error else None), None
    root = (error.get("root_cause") or [error])[0]
    reason = str(root.get("reason") or error.get("reason") or "")
    caused = error.get("caused_by") or root.get("caused_by") or {}
    if caused.get("reason") and caused["reason"] not in reason:
        reason = f"{reason}; caused by {caused['reason']}"
    reason = reason if len(reason) <= 400 else reason[:400] + "..."
    return (
        str(root.get("type") or error.get("type")),
        reason,
        root.get("resource.id") or root.get("index"),
    )


def status_message(code: int, body: Any, retry_after: str | None, what: str, hint: str) -> str:
    """The text of a BackendError for an HTTP failure (public for tests)."""
    kind, reason, index = _es_reason(body)
    if code == 400:
        return f"Elasticsearch rejected the request for {what} (400 {kind}: {reason}): {hint}"
    if code == 401:
        return (
            "Elasticsearch rejected the credentials (401 Unauthorized): set ELASTICSEARCH_API_KEY "
            "(or ELASTICSEARCH_USERNAME and ELASTICSEARCH_PASSWORD) to valid credentials"
        )
    if code == 403:
        return (
            f"Elasticsearch answered 403 Forbidden for {what}: the credentials lack a privilege ({reason}); "
            "use indices this key may read, or ask for read access"
        )
    if code == 404 and kind == "index_not_found_exception":
        return f"Elasticsearch has no index '{index}' (404 index_not_found_exception): {_INDEX_HINT}"
    if code == 404:
        return f"Elasticsearch answered 404 for {what}: {hint}"
    if code == 429:
        wait = (
            f"wait {retry_after} s (Retry-After), then retry"
            if retry_after
            else "wait a few seconds, then retry"
        )
        return f"Elasticsearch is overloaded and rejected the request (429 Too Many Requests, {kind}): {wait}"
    if code >= 500:
        return (
            f"Elasticsearch failed with {code} on {what} ({kind or 'no details'}): a server-side error; "
            "retry later, and check cluster_health()"
        )
    return f"Elasticsearch refused the request for {what} ({code} {kind}: {reason}): check the arguments"


def build_query(
    query: str | None, dsl: dict[str, Any] | None, since: str | None, until: str | None
) -> dict[str, Any]:
    """One query DSL object from a Lucene string OR a DSL object, plus an optional @timestamp range."""
    if query and dsl:
        raise InputError("Give either query (a Lucene string) or dsl (a query DSL object), not both")
    if dsl and set(dsl) == {"query"} and isinstance(dsl["query"], dict):
        dsl = dsl["query"]  # a whole request body was passed: keep its query
    base = {"query_string": {"query": query}} if query else dsl or {"match_all": {}}
    if not since and not until:
        return base
    bounds = {k: v for k, v in (("gte", since), ("lte", until)) if v}
    return {"bool": {"must": [base], "filter": [{"range": {TIME_FIELD: bounds}}]}}


def _sort_clauses(sort: list[str]) -> list[dict[str, Any]]:
    """'field' or 'field:asc|desc' strings as sort clauses; @timestamp tolerates indices without it."""
    clauses = []
    for item in sort:
        field, _, order = item.partition(":")
        spec: dict[str, Any] = {"order": order or ("desc" if field == "_score" else "asc")}
        if field == TIME_FIELD:
            spec["unmapped_type"] = "date"
        clauses.append({field: spec})
    return clauses


def _flatten(properties: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for name, spec in sorted(properties.items()):
        path = prefix + name
        if "type" in spec or "properties" not in spec:
            out[path] = spec.get("type", "object")
        out.update(_flatten(spec.get("properties", {}), path + "."))
        for sub, sub_spec in sorted(spec.get("fields", {}).items()):
            out[f"{path}.{sub}"] = sub_spec.get("type", "object")
    return out


class ElasticsearchClient:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._es: Elasticsearch | None = None
        self._lock = threading.Lock()  # tools run in worker threads; build the client once

    @property
    def es(self) -> Elasticsearch:
        with self._lock:
            if self._es is None:
                self._es = self._connect()
            return self._es

    def _connect(self) -> Elasticsearch:
        s = self._settings
        options: dict[str, Any] = {"request_timeout": s.timeout, "max_retries": 0, "retry_on_timeout": False}
        if s.api_key:
            options["api_key"] = s.api_key.get_secret_value()
        elif s.username:
            options["basic_auth"] = (s.username, s.password.get_secret_value() if s.password else "")
        if s.url.startswith("https"):
            options.update(verify_certs=s.verify_certs, ca_certs=s.ca_certs)
        return Elasticsearch(s.url, **options)

    @contextmanager
    def _translated(self, what: str, hint: str) -> Iterator[None]:
        try:
            yield
        except UnsupportedProductError:
            raise BackendError(
                "The server at ELASTICSEARCH_URL answered without the X-Elastic-Product: Elasticsearch "
                "header, so it is not Elasticsearch (or a proxy strips it): check ELASTICSEARCH_URL"
            ) from None
        except ApiError as exc:
            retry_after = exc.meta.headers.get("retry-after")
            raise BackendError(status_message(exc.meta.status, exc.body, retry_after, what, hint)) from None
        except ConnectionTimeout:
            raise BackendError(
                f"Elasticsearch did not answer within {self._settings.timeout:g} s: "
                "narrow the query (a smaller index pattern or time range) or raise ELASTICSEARCH_TIMEOUT, "
                "then retry"
            ) from None
        except SerializationError:
            raise BackendError(
                f"Elasticsearch sent a body that is not valid JSON for {what}: "
                "a proxy or another service may answer at ELASTICSEARCH_URL; check it, or retry later"
            ) from None
        except TransportConnectionError:
            raise BackendError(
                "Cannot connect to Elasticsearch: check ELASTICSEARCH_URL and that the cluster is up"
            ) from None
        except TransportError as exc:
            raise BackendError(
                f"Talking to Elasticsearch failed ({type(exc).__name__}): check ELASTICSEARCH_URL, then retry"
            ) from None

    # --- searching ------------------------------------------------------------------

    def search(
        self,
        index: str,
        query: dict[str, Any],
        size: int,
        from_: int,
        sort: list[str],
        fields: list[str] | None,
    ) -> m.SearchResult:
        hint = (
            "fix the query (a Lucene string like 'level:ERROR AND service:orders-api', or a query DSL "
            "object) or the sort (keyword, number or date fields; see get_mapping())"
        )
        with self._translated(f"a search of '{index}'", hint):
            raw = self.es.search(
                index=index,
                query=query,
                size=size,
                from_=from_,
                sort=_sort_clauses(sort),
                source={"includes": fields} if fields else True,
            ).body
        total = raw["hits"]["total"]
        hits: list[m.Hit] = [
            {
                "_index": h["_index"],
                "_id": h["_id"],
                "_source": clip_strings(h.get("_source", {}), TEXT_LIMIT),
            }
            for h in raw["hits"]["hits"]
        ]
        end = from_ + len(hits)
        more = bool(hits) and end < total["value"] or total["relation"] == "gte" and end < 10_000
        return {
            "total": total["value"],
            "total_relation": total["relation"],
            "hits": hits,
            "next_from": end if more else None,
        }

    def count(self, index: str, query: dict[str, Any]) -> m.CountResult:
        with self._translated(f"a count of '{index}'", "fix the query"):
            raw = self.es.count(index=index, query=query).body
        return {"index": index, "count": raw["count"]}

    def top_values(self, index: str, field: str, size: int, query: dict[str, Any]) -> m.TopValues:
        hint = (
            "pick a keyword, number or date field from get_mapping() "
            "(for a text field, its .keyword sub-field)"
        )
        aggs = {"top": {"terms": {"field": field, "size": size}}}
        with self._translated(f"the top values of '{field}' in '{index}'", hint):
            raw = self.es.search(index=index, query=query, size=0, aggs=aggs, track_total_hits=True).body
        agg = raw["aggregations"]["top"]
        values: list[m.ValueCount] = [
            {"value": b.get("key_as_string", b["key"]), "count": b["doc_count"]} for b in agg["buckets"]
        ]
        matched = raw["hits"]["total"]["value"]
        return {
            "field": field,
            "matched": matched,
            "values": values,
            "other_count": agg["sum_other_doc_count"],
        }

    def count_over_time(self, index: str, interval: str, query: dict[str, Any]) -> m.Histogram:
        histogram = {"field": TIME_FIELD, "fixed_interval": interval, "min_doc_count": 1}
        with self._translated(f"a histogram of '{index}'", "fix the query"):
            raw = self.es.search(
                index=index,
                query=query,
                size=0,
                aggs={"t": {"date_histogram": histogram}},
                track_total_hits=True,
            ).body
        buckets = raw.get("aggregations", {}).get("t", {}).get("buckets", [])
        shown: list[m.TimeBucket] = [{"start": b["key_as_string"], "count": b["doc_count"]} for b in buckets]
        return {
            "interval": interval,
            "matched": raw["hits"]["total"]["value"],
            "buckets": shown[:MAX_BUCKETS],
        }

    def get_document(self, index: str, doc_id: str) -> m.Hit:
        hint = f"no document '{doc_id}' in '{index}'; take _index and _id from a search() hit"
        with self._translated(f"document '{doc_id}' in '{index}'", hint):
            raw = self.es.get(index=index, id=doc_id).body
        return {
            "_index": raw["_index"],
            "_id": raw["_id"],
            "_source": clip_strings(raw["_source"], DOCUMENT_TEXT_LIMIT),
        }

    # --- indices and the cluster ----------------------------------------------------

    def list_indices(self, pattern: str, limit: int, offset: int) -> m.IndexList:
        columns = "index,health,status,docs.count,store.size"
        with self._translated(f"the indices matching '{pattern}'", _INDEX_HINT):
            answer = self.es.cat.indices(index=pattern, format="json", bytes="b", h=columns, s="index")
        rows: list[dict[str, Any]] = answer.body if isinstance(answer.body, list) else []
        page: list[m.IndexInfo] = [
            {
                "name": r["index"],
                "health": r.get("health"),
                "status": r.get("status") or "open",
                "docs_count": int(r.get("docs.count") or 0),
                "size_bytes": int(r.get("store.size") or 0),
            }
            for r in rows[offset : offset + limit]
        ]
        more = offset + limit < len(rows)
        return {"total": len(rows), "indices": page, "next_offset": offset + limit if more else None}

    def get_mapping(self, index: str, prefix: str | None) -> list[m.MappingGroup]:
        with self._translated(f"the mapping of '{index}'", _INDEX_HINT):
            raw = self.es.indices.get_mapping(index=index).body
        groups: dict[str, m.MappingGroup] = {}
        for name in sorted(raw):
            fields = _flatten(raw[name].get("mappings", {}).get("properties", {}))
            fields = {k: v for k, v in fields.items() if not prefix or k.startswith(prefix)}
            if len(fields) > MAX_MAPPING_FIELDS:
                extra = len(fields) - MAX_MAPPING_FIELDS
                fields = dict(list(fields.items())[:MAX_MAPPING_FIELDS])
                fields["..."] = f"{extra} more fields: narrow with prefix="
            key = repr(sorted(fields.items()))
            groups.setdefault(key, {"indices": [], "fields": fields})["indices"].append(name)
        return list(groups.values())

    def cluster_health(self) -> m.ClusterHealth:
        with self._translated("the cluster health", "check ELASTICSEARCH_URL"):
            raw = self.es.cluster.health().body
        keys = (
            "cluster_name",
            "status",
            "timed_out",
            "number_of_nodes",
            "number_of_data_nodes",
            "active_primary_shards",
            "active_shards",
            "relocating_shards",
            "initializing_shards",
            "unassigned_shards",
        )
        return {**{k: raw[k] for k in keys}, "active_shards_percent": raw["active_shards_percent_as_number"]}  # type: ignore[typeddict-item]
