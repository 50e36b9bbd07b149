"""A faithful fake of the Elasticsearch 9 REST API that our tools use, for tests and local runs.

Faithful where the official client looks: the `X-Elastic-Product: Elasticsearch`
header on every answer; the compatibility media type
(`application/vnd.elasticsearch+json;compatible-with=9` answered to a client that
asks for it, 400 `media_type_header_exception` for a version other than 8 or 9);
`Authorization: ApiKey <encoded>` or Basic auth with 401 `security_exception`;
and Elasticsearch's own bodies for errors (`index_not_found_exception`,
`parsing_exception`, `search_phase_execution_exception`).

Endpoints: GET /, /_cluster/health, /_cat/indices[/{index}], [/{index}]/_mapping,
/{index}/_doc/{id}; GET or POST [/{index}]/_search and [/{index}]/_count. Index
expressions take wildcards and comma lists (`logs-*`, `a,b`, `-excluded`). The
query subset is in fake_query.py, aggregations in fake_aggs.py, data in fake_data.py.

Misbehaving on purpose, for error tests: `fake.fail_next(status=429, headers={"Retry-After": "7"})`
answers the next request with that status and Elasticsearch's error body for it (or
`body=` verbatim: `fake.fail_next(body="{not json")` sends malformed JSON with a 200);
`fake.delay_next(seconds)` holds the next answer back.

    python -m demo.elasticsearch.fake --port 9200
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from demo._fakes import Request, Response, RunningFake, run_standalone, serve

from .fake_errors import EsError, error_body
from .fake_search import CLUSTER_NAME, Store

__all__ = ["API_KEY", "PASSWORD", "USERNAME", "ElasticsearchFake", "start"]

API_KEY_ID = "pK3nYZQBv7cW0aX9s2Lm"
API_KEY = base64.b64encode(f"{API_KEY_ID}:es-fake-Qm7tR2vX9wLz4hKp8nDs".encode()).decode()
USERNAME, PASSWORD = "elastic", "fake-changeme-5Tq9"
VERSION = "9.1.4"
_COMPAT = re.compile(r"application/vnd\.elasticsearch\+(json|x-ndjson)\s*;\s*compatible-with\s*=\s*(\d+)")

_INFO = {
    "name": "es-node-1",
    "cluster_name": CLUSTER_NAME,
    "cluster_uuid": "Zq3vX0bNT4y8mW2kL9pR1A",
    "version": {
        "number": VERSION,
        "build_flavor": "default",
        "build_type": "docker",
        "build_hash": "0b7fe4b9e8e7c6f5d4c3b2a1908f7e6d5c4b3a21",
        "build_date": "2025-09-16T22:05:19.073893347Z",
        "build_snapshot": False,
        "lucene_version": "10.2.2",
        "minimum_wire_compatibility_version": "8.19.0",
        "minimum_index_compatibility_version": "8.0.0",
    },
    "tagline": "You Know, for Search",
}
# What Elasticsearch (or the proxy in front of it) says for a status forced by fail_next().
_CANNED: dict[int, tuple[str, str]] = {
    401: (
        "security_exception",
        "unable to authenticate with provided credentials and anonymous access is not "
        "allowed for this request",
    ),
    403: (
        "security_exception",
        f"action [indices:data/read/search] is unauthorized for API key id [{API_KEY_ID}] of user "
        "[portal-bot] on indices [logs-2026.02.26], this action is granted by the index privileges "
        "[read,all]",
    ),
    404: ("resource_not_found_exception", "the requested resource was not found"),
    429: (
        "es_rejected_execution_exception",
        "rejected execution of search task on EsThreadPoolExecutor"
        "[name = es-node-1/search, queue capacity = 1000, active threads = 13, queued tasks = 1000]",
    ),
    500: ("exception", "Internal server error"),
    503: ("no_shard_available_action_exception", "No shard available for [logs-2026.02.26][0]"),
}
_WWW_AUTHENTICATE = 'Basic realm="security", charset="UTF-8", ApiKey'


def _canned_error(status: int) -> dict[str, Any]:
    kind, reason = _CANNED.get(status, ("exception", f"request failed with status {status}"))
    return error_body(status, kind, reason)


@dataclass
class _Control:
    """Misbehaviour queued for the next requests, released at once when the fake stops."""

    actions: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopped: threading.Event = field(default_factory=threading.Event)

    def push(self, action: dict[str, Any]) -> None:
        with self.lock:
            self.actions.append(action)

    def pop(self) -> dict[str, Any] | None:
        with self.lock:
            return self.actions.pop(0) if self.actions else None


@dataclass
class ElasticsearchFake(RunningFake):
    """A running fake Elasticsearch that can be told to misbehave."""

    _control: _Control = field(default_factory=_Control, repr=False)

    def fail_next(
        self,
        status: int = 200,
        *,
        body: str | dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next request with `status` (and Elasticsearch's error body for it, unless `body`)."""
        self._control.push({"status": status, "body": body, "headers": dict(headers or {})})

    def delay_next(self, seconds: float) -> None:
        """Hold the next answer back for `seconds` (cut short when the fake stops)."""
        self._control.push({"delay": seconds})

    def stop(self) -> None:
        self._control.stopped.set()
        super().stop()


Handler = Callable[[Request, dict[str, str], dict[str, Any]], Any]


class _Elasticsearch:
    def __init__(self, control: _Control) -> None:
        self.store, self.control = Store(), control
        s = self.store
        self.routes: list[tuple[frozenset[str], re.Pattern[str], Handler]] = []
        both = {"GET", "POST"}
        self.add({"GET"}, "/", lambda r, p, b: _INFO)
        self.add({"GET"}, "/_cluster/health", lambda r, p, b: s.health())
        self.add({"GET"}, "/_cluster/health/{index}", lambda r, p, b: (s.resolve(p["index"]), s.health())[1])
        self.add({"GET"}, "/_cat/indices", lambda r, p, b: s.cat_indices("_all", _params(r)))
        self.add({"GET"}, "/_cat/indices/{index}", lambda r, p, b: s.cat_indices(p["index"], _params(r)))
        self.add({"GET"}, "/_mapping", lambda r, p, b: s.mapping("_all"))
        self.add({"GET"}, "/{index}/_mapping", lambda r, p, b: s.mapping(p["index"]))
        self.add(both, "/_search", lambda r, p, b: s.search("_all", b, _params(r)))
        self.add(both, "/{index}/_search", lambda r, p, b: s.search(p["index"], b, _params(r)))
        self.add(both, "/_count", lambda r, p, b: s.count("_all", b, _params(r)))
        self.add(both, "/{index}/_count", lambda r, p, b: s.count(p["index"], b, _params(r)))
        self.add({"GET"}, "/{index}/_doc/{id}", lambda r, p, b: s.get(p["index"], p["id"], _params(r)))

    def add(self, methods: set[str], pattern: str, handler: Handler) -> None:
        regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$")
        self.routes.append((frozenset(methods), regex, handler))

    def dispatch(self, req: Request) -> Response:
        action = self.control.pop()
        if action and "delay" in action and self.control.stopped.wait(action["delay"]):
            # Stopped mid-delay: the client gave up long ago. http.server drops a connection whose
            # handler raises TimeoutError quietly, where a write would print a BrokenPipe traceback.
            raise TimeoutError("the fake stopped while delaying this answer")
        if action and "delay" not in action:
            return self.forced(req, action)
        try:
            _check_media_types(req)
            _check_auth(req)
            status, body = self.route(req)
        except EsError as exc:
            return _answer(req, exc.status, exc.body, exc.headers)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:  # a malformed parameter or body
            return _answer(
                req, 400, error_body(400, "illegal_argument_exception", f"{type(exc).__name__}: {exc}")
            )
        return _answer(req, status, body)

    def route(self, req: Request) -> tuple[int, Any]:
        for methods, regex, handler in self.routes:
            match = regex.match(req.path)
            if match and req.method in methods:
                params = {k: unquote(v) for k, v in match.groupdict().items()}
                result = handler(req, params, _body(req))
                return result if isinstance(result, tuple) else (200, result)
        reason = f"no handler found for uri [{req.path}] and method [{req.method}]"
        raise EsError(400, error_body(400, "illegal_argument_exception", reason))

    def forced(self, req: Request, action: dict[str, Any]) -> Response:
        status, body = action["status"], action["body"]
        if isinstance(body, str):  # verbatim, e.g. malformed JSON under a JSON content type
            response = _answer(req, status, None, action["headers"])
            response.body = body.encode()
            return response
        return _answer(req, status, body if body is not None else _canned_error(status), action["headers"])


def _params(req: Request) -> dict[str, str]:
    return {k: v[0] for k, v in req.query.items() if v}


def _body(req: Request) -> dict[str, Any]:
    if not req.body:
        return {}
    try:
        data = json.loads(req.body)
    except ValueError as exc:
        raise EsError(
            400,
            error_body(
                400,
                "x_content_parse_exception",
                f"[1:{exc.pos if hasattr(exc, 'pos') else 1}] "
                "Unexpected character: the request body is not valid JSON",
            ),
        ) from None
    if not isinstance(data, dict):
        raise EsError(400, error_body(400, "parsing_exception", "request body is required to be an object"))
    return data


def _compat_version(value: str) -> int | None:
    match = _COMPAT.search(value)
    return int(match.group(2)) if match else None


def _check_media_types(req: Request) -> None:
    accept, content_type = req.headers.get("accept", ""), req.headers.get("content-type", "")
    for name, value in (("Accept", accept), ("Content-Type", content_type)):
        version = _compat_version(value)
        if version is not None and version not in (8, 9):
            cause = {
                "type": "status_exception",
                "reason": f"Accept version must be either version 8 or 9, but found "
                f"{version}. Accept={accept}",
            }
            raise EsError(
                400,
                error_body(
                    400,
                    "media_type_header_exception",
                    f"Invalid media-type value on headers [{name}]",
                    caused_by=cause,
                ),
            )
    if req.body and "json" not in content_type:
        raise EsError(406, {"error": f"Content-Type header [{content_type}] is not supported", "status": 406})


def _check_auth(req: Request) -> None:
    header = req.headers.get("authorization", "")
    basic = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    if header in (f"ApiKey {API_KEY}", f"Basic {basic}"):
        return
    target = req.path + (f"?{'&'.join(f'{k}={v[0]}' for k, v in req.query.items())}" if req.query else "")
    reason = (
        f"missing authentication credentials for REST request [{target}]" if not header else _CANNED[401][1]
    )
    headers = {"WWW-Authenticate": _WWW_AUTHENTICATE}
    www = {"WWW-Authenticate": [_WWW_AUTHENTICATE]}
    raise EsError(401, error_body(401, "security_exception", reason, header=www), headers)


def _answer(req: Request, status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    """Every answer carries the product header; JSON goes out in the media type the client asked for."""
    version = _compat_version(req.headers.get("accept", ""))
    content_type = (
        f"application/vnd.elasticsearch+json;compatible-with={version}" if version else "application/json"
    )
    out = {"X-Elastic-Product": "Elasticsearch", **(headers or {})}
    if isinstance(body, list) and _params(req).get("format") != "json" and req.path.startswith("/_cat/"):
        return Response(
            status, _cat_text(body, _params(req).get("v") == "true"), "text/plain; charset=UTF-8", out
        )
    return Response(status, json.dumps(body).encode() if body is not None else b"", content_type, out)


def _cat_text(rows: list[dict[str, Any]], header: bool) -> bytes:
    if not rows:
        return b""
    columns = list(rows[0])
    table = ([columns] if header else []) + [[str(r[c]) for c in columns] for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
    return "".join(
        " ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() + "\n" for line in table
    ).encode()


def start(host: str = "127.0.0.1", port: int = 0) -> ElasticsearchFake:
    """Serve a fresh copy of the seeded indices; returns once it accepts connections."""
    control = _Control()
    app = _Elasticsearch(control)
    running = serve(app.dispatch, host=host, port=port, settings=lambda url: {"url": url, "api_key": API_KEY})
    return ElasticsearchFake(running.url, running.settings, running._server, running._thread, control)


if __name__ == "__main__":
    run_standalone(start, "fake Elasticsearch API")
