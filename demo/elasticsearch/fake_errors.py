"""Elasticsearch's error bodies, as the fake returns them.

Every error is `{"error": {"root_cause": [...], "type", "reason", ...}, "status": N}`.
Two families matter to a client: errors raised while PARSING the request
(`parsing_exception`, answered before any index is touched) and errors raised
on the shards while RUNNING it, wrapped in `search_phase_execution_exception`.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "NODE_ID",
    "EsError",
    "ShardProblem",
    "error_body",
    "index_not_found",
    "parsing_error",
    "shard_error",
]

NODE_ID = "fG4pX2ZwQ8mK1nR7sT3vYw"


class EsError(Exception):
    """Answer this request with `status` and Elasticsearch's error `body`."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(body["error"]["reason"] if isinstance(body.get("error"), dict) else str(body))
        self.status, self.body, self.headers = status, body, headers or {}


class ShardProblem(Exception):
    """A value that only fails when the query runs on a shard (a bad date, number, or query string)."""

    def __init__(self, kind: str, reason: str, caused_by: dict[str, Any] | None = None) -> None:
        super().__init__(reason)
        self.kind, self.reason, self.caused_by = kind, reason, caused_by


def error_body(status: int, kind: str, reason: str, **extra: Any) -> dict[str, Any]:
    cause = {"type": kind, "reason": reason, **{k: v for k, v in extra.items() if k != "caused_by"}}
    return {"error": {"root_cause": [cause], "type": kind, "reason": reason, **extra}, "status": status}


def parsing_error(reason: str, col: int = 1) -> EsError:
    return EsError(400, error_body(400, "parsing_exception", reason, line=1, col=col))


def index_not_found(name: str) -> EsError:
    extra = {"resource.type": "index_or_alias", "resource.id": name, "index_uuid": "_na_", "index": name}
    return EsError(404, error_body(404, "index_not_found_exception", f"no such index [{name}]", **extra))


def shard_error(problem: ShardProblem, index: str, status: int = 400) -> EsError:
    inner: dict[str, Any] = {
        "type": problem.kind,
        "reason": problem.reason,
        "index_uuid": "_na_",
        "index": index,
    }
    if problem.caused_by:
        inner["caused_by"] = problem.caused_by
    root = {k: v for k, v in inner.items() if k != "caused_by"}
    failed = {"shard": 0, "index": index, "node": NODE_ID, "reason": inner}
    error = {
        "root_cause": [root],
        "type": "search_phase_execution_exception",
        "reason": "all shards failed",
        "phase": "query",
        "grouped": True,
        "failed_shards": [failed],
    }
    if problem.caused_by:
        error["caused_by"] = problem.caused_by
    return EsError(status, {"error": error, "status": status})
