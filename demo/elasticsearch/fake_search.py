"""The fake Elasticsearch's indices and the read APIs over them: _search, _count, _doc,
_mapping, _cat/indices and _cluster/health. HTTP, auth and misbehaviour live in fake.py."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from .fake_aggs import aggregate, fielddata_problem
from .fake_data import INDICES, MAPPING, NOW, seed
from .fake_errors import EsError, ShardProblem, error_body, index_not_found, parsing_error, shard_error
from .fake_fields import NUMERIC, Fields, parse_date, source_filter, wildcard_regex
from .fake_query import Compiler, Matcher

__all__ = ["CLUSTER_NAME", "Store"]

CLUSTER_NAME = "acme-logs"
MAX_RESULT_WINDOW = 10_000
_SEARCH_KEYS = frozenset(
    {
        "query",
        "size",
        "from",
        "sort",
        "_source",
        "aggs",
        "aggregations",
        "track_total_hits",
        "timeout",
        "track_scores",
    }
)
_CAT_ALIASES = {
    "i": "index",
    "idx": "index",
    "h": "health",
    "s": "status",
    "dc": "docs.count",
    "docsCount": "docs.count",
    "ss": "store.size",
    "storeSize": "store.size",
    "p": "pri",
    "r": "rep",
    "id": "uuid",
}
_CAT_DEFAULT = (
    "health",
    "status",
    "index",
    "uuid",
    "pri",
    "rep",
    "docs.count",
    "docs.deleted",
    "store.size",
    "pri.store.size",
    "dataset.size",
)


def _token(value: Any) -> str:
    return (
        "START_OBJECT"
        if isinstance(value, dict)
        else "START_ARRAY"
        if isinstance(value, list)
        else "VALUE_STRING"
    )


def human_bytes(n: int) -> str:
    for unit, size in (("gb", 1 << 30), ("mb", 1 << 20), ("kb", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f}".rstrip("0").rstrip(".") + unit
    return f"{n}b"


class Store:
    """Per-fake state: a fresh copy of the seeded indices."""

    def __init__(self) -> None:
        self.indices: dict[str, list[dict[str, Any]]] = seed()
        self.mappings = {name: copy.deepcopy(MAPPING) for name in INDICES}
        self.fields = Fields(MAPPING)
        self.now = NOW

    # --- index expressions ---------------------------------------------------------

    def resolve(
        self, expression: str, *, allow_no_indices: bool = True, ignore_unavailable: bool = False
    ) -> list[str]:
        """`logs-*`, `a,b`, `_all`, `*,-logs-2026.02.24`: concrete names, in name order."""
        chosen: list[str] = []
        for part in [p for p in expression.split(",") if p] or ["_all"]:
            if part.startswith("-") and chosen:
                chosen = [n for n in chosen if not wildcard_regex(part[1:]).match(n)]
            elif part in ("_all", "*") or "*" in part:
                pattern = wildcard_regex("*" if part == "_all" else part)
                chosen += [n for n in sorted(self.indices) if pattern.match(n) and n not in chosen]
            elif part in self.indices:
                chosen += [part] if part not in chosen else []
            elif not ignore_unavailable:
                raise index_not_found(part)
        if not chosen and not allow_no_indices:
            raise index_not_found(expression)
        return chosen

    def docs(self, names: list[str]) -> list[dict[str, Any]]:
        return [{"_index": n, **doc} for n in names for doc in self.indices[n]]

    # --- _search and _count -------------------------------------------------------

    def compile(self, query: Any) -> Matcher | ShardProblem:
        """Parse errors raise at once; value errors wait until the indices are known (as on a shard)."""
        try:
            return Compiler(self.fields, self.now).compile(query)
        except ShardProblem as problem:
            return problem

    def query_of(self, body: dict[str, Any], params: dict[str, str]) -> Any:
        if "q" in params:
            qs = {"query": params["q"], "default_operator": params.get("default_operator", "OR")}
            if "df" in params:
                qs["default_field"] = params["df"]
            return {"query_string": qs}
        return body.get("query", {"match_all": {}})

    def search(self, expression: str, body: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        for key, value in body.items():
            if key not in _SEARCH_KEYS:
                raise parsing_error(f"Unknown key for a {_token(value)} in [{key}].")
        matcher = self.compile(self.query_of(body, params))
        size, start = (
            int(params.get("size", body.get("size", 10))),
            int(params.get("from", body.get("from", 0))),
        )
        if size < 0 or start < 0:
            which = "size" if size < 0 else "from"
            raise EsError(
                400,
                error_body(
                    400,
                    "illegal_argument_exception",
                    f"[{which}] parameter cannot be negative, found [{min(size, start)}]",
                ),
            )
        names = self.resolve(
            expression,
            allow_no_indices=params.get("allow_no_indices") != "false",
            ignore_unavailable=params.get("ignore_unavailable") == "true",
        )
        first = names[0] if names else "_na_"
        try:
            if isinstance(matcher, ShardProblem):
                raise matcher
            if start + size > MAX_RESULT_WINDOW:
                raise ShardProblem("illegal_argument_exception", _window_reason(start + size))
            return self._run(names, matcher, body, params, size, start)
        except ShardProblem as problem:
            raise shard_error(problem, first) from None

    def _run(
        self,
        names: list[str],
        matcher: Matcher,
        body: dict[str, Any],
        params: dict[str, str],
        size: int,
        start: int,
    ) -> dict[str, Any]:
        scored = [(s, d) for d in self.docs(names) if (s := matcher(d)) is not None]
        sort = _sort_spec(params["sort"].split(",") if "sort" in params else body.get("sort"))
        by_score = all(f == "_score" for f, _, _ in sort) if sort else True
        ordered = self._sorted(scored, sort, names) if sort else sorted(scored, key=lambda sd: -sd[0])
        hits = []
        for score, doc in ordered[start : start + size]:
            hit: dict[str, Any] = {
                "_index": doc["_index"],
                "_id": doc["_id"],
                "_score": score if by_score else None,
            }
            source = source_filter(doc["_source"], body.get("_source", True), params)
            if source is not None:
                hit["_source"] = source
            if sort:
                hit["sort"] = [score if f == "_score" else self._sort_value(doc, f, o, u) for f, o, u in sort]
            hits.append(hit)
        result: dict[str, Any] = {
            "took": 2 + len(scored) // 100,
            "timed_out": False,
            "_shards": {"total": len(names), "successful": len(names), "skipped": 0, "failed": 0},
            "hits": {
                "max_score": (max((s for s, _ in scored), default=None) if by_score else None),
                "hits": hits,
            },
        }
        total = _total(len(scored), body.get("track_total_hits", params.get("track_total_hits")))
        if total is not None:
            rest_int = params.get("rest_total_hits_as_int") == "true"
            result["hits"] = {"total": total["value"] if rest_int else total, **result["hits"]}
        aggs = body.get("aggs", body.get("aggregations"))
        if aggs is not None:
            result["aggregations"] = aggregate(aggs, [d for _, d in scored], self.fields, self.now)
        return result

    def _sorted(
        self,
        scored: list[tuple[float, dict[str, Any]]],
        sort: list[tuple[str, str, str | None]],
        names: list[str],
    ) -> list[tuple[float, dict[str, Any]]]:
        for field, _, unmapped in sort:
            kind = self.fields.type_of(field)
            if field in ("_score", "_doc"):
                continue
            if kind is None and not unmapped:
                raise ShardProblem(
                    "query_shard_exception", f"No mapping found for [{field}] in order to sort on"
                )
            if kind == "text":
                raise fielddata_problem(field, names[0])
        ordered = list(scored)
        for field, order, unmapped in reversed(sort):  # stable sorts, last key first
            if field == "_doc":
                continue
            if field == "_score":
                ordered.sort(key=lambda sd: sd[0], reverse=order == "desc")
                continue
            present = [sd for sd in ordered if self._sort_value(sd[1], field, order, unmapped) is not None]
            missing = [sd for sd in ordered if self._sort_value(sd[1], field, order, unmapped) is None]
            present.sort(
                key=lambda sd: self._sort_value(sd[1], field, order, unmapped), reverse=order == "desc"
            )
            ordered = present + missing  # missing values sort last either way
        return ordered

    def _sort_value(self, doc: dict[str, Any], field: str, order: str, unmapped: str | None) -> Any:
        kind = self.fields.type_of(field) or unmapped
        values = self.fields.values(doc["_source"], field) if self.fields.type_of(field) else []
        if not values:
            return None
        keys = [
            parse_date(v, self.now) if kind == "date" else float(v) if kind in NUMERIC else str(v)
            for v in values
        ]
        key = max(keys) if order == "desc" else min(keys)
        return int(key) if kind in ("date", "long", "integer", "short", "byte") else key

    def count(self, expression: str, body: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        for key in body:
            if key != "query":
                raise parsing_error(f"request does not support [{key}]")
        matcher = self.compile(self.query_of(body, params))
        names = self.resolve(expression, ignore_unavailable=params.get("ignore_unavailable") == "true")
        if isinstance(matcher, ShardProblem):
            raise shard_error(matcher, names[0] if names else "_na_")
        count = sum(1 for d in self.docs(names) if matcher(d) is not None)
        shards = {"total": len(names), "successful": len(names), "skipped": 0, "failed": 0}
        return {"count": count, "_shards": shards}

    # --- documents, mappings, cat, health ---------------------------------------------

    def get(self, index: str, doc_id: str, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if index not in self.indices:  # GET _doc does not expand wildcards: 'logs-*' is a (missing) name
            raise index_not_found(index)
        for seq_no, doc in enumerate(self.indices[index]):
            if doc["_id"] == doc_id:
                body = {
                    "_index": index,
                    "_id": doc_id,
                    "_version": 1,
                    "_seq_no": seq_no,
                    "_primary_term": 1,
                    "found": True,
                }
                source = source_filter(doc["_source"], params.get("_source", True), params)
                return 200, {**body, **({"_source": source} if source is not None else {})}
        return 404, {"_index": index, "_id": doc_id, "found": False}

    def mapping(self, expression: str) -> dict[str, Any]:
        return {n: {"mappings": self.mappings[n]} for n in self.resolve(expression)}

    def cat_rows(self, expression: str) -> list[dict[str, str]]:
        rows = []
        for name in self.resolve(expression):
            size = len(json.dumps(self.indices[name]).encode()) * 3 // 2 + 11_264  # JSON plus Lucene overhead
            uuid = hashlib.sha256(name.encode()).hexdigest()[:22]
            rows.append(
                {
                    "health": "green",
                    "status": "open",
                    "index": name,
                    "uuid": uuid,
                    "pri": "1",
                    "rep": "0",
                    "docs.count": str(len(self.indices[name])),
                    "docs.deleted": "0",
                    "store.size": str(size),
                    "pri.store.size": str(size),
                    "dataset.size": str(size),
                }
            )
        return rows

    def cat_indices(self, expression: str, params: dict[str, str]) -> list[dict[str, str]]:
        rows = self.cat_rows(expression)
        columns = (
            [_CAT_ALIASES.get(c, c) for c in params["h"].split(",")] if params.get("h") else _CAT_DEFAULT
        )
        sizes = {"store.size", "pri.store.size", "dataset.size"}
        for spec in reversed(params.get("s", "").split(",") if params.get("s") else []):
            column, _, order = spec.partition(":")
            column = _CAT_ALIASES.get(column, column)
            numeric = column in sizes or column in ("docs.count", "docs.deleted", "pri", "rep")
            rows.sort(key=lambda r: int(r[column]) if numeric else r.get(column, ""), reverse=order == "desc")
        if params.get("bytes") != "b":
            rows = [{k: human_bytes(int(v)) if k in sizes else v for k, v in r.items()} for r in rows]
        return [{c: r.get(c) for c in columns} for r in rows]  # type: ignore[misc]

    def health(self) -> dict[str, Any]:
        shards = len(self.indices)
        return {
            "cluster_name": CLUSTER_NAME,
            "status": "green",
            "timed_out": False,
            "number_of_nodes": 1,
            "number_of_data_nodes": 1,
            "active_primary_shards": shards,
            "active_shards": shards,
            "relocating_shards": 0,
            "initializing_shards": 0,
            "unassigned_shards": 0,
            "unassigned_primary_shards": 0,
            "delayed_unassigned_shards": 0,
            "number_of_pending_tasks": 0,
            "number_of_in_flight_fetch": 0,
            "task_max_waiting_in_queue_millis": 0,
            "active_shards_percent_as_number": 100.0,
        }


def _window_reason(window: int) -> str:
    return (
        "Result window is too large, from + size must be less than or equal to: "
        f"[{MAX_RESULT_WINDOW}] but was [{window}]. See the scroll api for a more efficient way to request "
        "large data sets. This limit can be set by changing the [index.max_result_window] index level "
        "setting."
    )


def _total(count: int, track: Any) -> dict[str, Any] | None:
    if track in (False, "false"):
        return None
    limit = None if track in (True, "true") else int(track) if track is not None else MAX_RESULT_WINDOW
    if limit is not None and count > limit:
        return {"value": limit, "relation": "gte"}
    return {"value": count, "relation": "eq"}


def _sort_spec(raw: Any) -> list[tuple[str, str, str | None]]:
    """`"f"`, `"f:desc"`, `{"f": "desc"}`, `{"f": {"order": ..., "unmapped_type": ...}}`, or a list."""
    out: list[tuple[str, str, str | None]] = []
    for item in raw if isinstance(raw, list) else [raw] if raw else []:
        if isinstance(item, str):
            field, _, order = item.partition(":")
            out.append((field, order or ("desc" if field == "_score" else "asc"), None))
        elif isinstance(item, dict) and len(item) == 1:
            field, spec = next(iter(item.items()))
            options = spec if isinstance(spec, dict) else {"order": spec}
            order = str(options.get("order") or ("desc" if field == "_score" else "asc"))
            if order not in ("asc", "desc"):
                raise parsing_error(f"[sort] unknown order [{order}], expected [asc] or [desc]")
            out.append((field, order, options.get("unmapped_type")))
        else:
            raise parsing_error(f"[sort] malformed sort element [{item}]")
    return out
