"""A faithful fake of the Backstage catalog REST API (`/api/catalog`), for tests and local runs.

Faithful where a client looks: `Authorization: Bearer` (401 AuthenticationError
"Missing credentials" / "Illegal token"), Backstage's error body
`{"error": {"name", "message"}, "request": {"method", "url"}, "response": {"statusCode"}}`,
`GET /entities` (a JSON array, `limit`/`offset`/`after`, a `Link: <...>; rel="next"`
header), `GET /entities/by-query` (`{items, totalItems, pageInfo: {nextCursor, prevCursor}}`
with base64-JSON keyset cursors, `filter`, `fullTextFilterTerm`/`fullTextFilterFields`,
`orderField`, `offset`), `by-name`, `by-uid`, `POST /entities/by-refs`, `GET /entity-facets`,
and `GET|POST /locations` (409 on a duplicate; 403 for the read-only token).

Entities come from the seeded Acme Shop (`fake_data.py`) plus, by default, every
catalog-info.yaml at the repository root and in servers/*/ (see `fake_catalog.py`).

Misbehaviour, for error tests: `fake.fail_next(status=429, headers={"Retry-After": "7"})`,
`fake.fail_next(body="{not json")`, `fake.delay_next(seconds)`; each applies to one request.

    python -m demo.backstage.fake --port 7007 [--catalog path/to/catalog-info.yaml ...]
"""

from __future__ import annotations

import argparse
import base64
import binascii
import collections
import functools
import json
import re
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode

from demo._fakes import Request, Response, RunningFake, run_standalone, serve

from . import fake_catalog as fc

__all__ = ["READONLY_TOKEN", "TOKEN", "RunningBackstage", "default_catalog_files", "start"]

TOKEN = "bsk-fake-static-7Qm2xLpV9tKd4wRz"
READONLY_TOKEN = "bsk-fake-readonly-H3nB8sYcT5"  # may read; refused (403) on writes
API = "/api/catalog"
JSON = "application/json; charset=utf-8"
DEFAULT_LIMIT = 200
REPO_ROOT = Path(__file__).resolve().parents[2]
_BEARER = re.compile(r"^Bearer[ ]+(\S+)$", re.IGNORECASE)
_ERROR_NAMES = {
    400: "InputError",
    401: "AuthenticationError",
    403: "NotAllowedError",
    404: "NotFoundError",
    409: "ConflictError",
    501: "NotImplementedError",
    503: "ServiceUnavailableError",
}


_FAULT_MESSAGES = {
    400: "Bad request",
    401: "Illegal token",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    503: "Service unavailable",
}


def default_catalog_files(root: Path = REPO_ROOT) -> list[Path]:
    """The repository's catalog files: ./catalog-info.yaml (if present) and servers/*/catalog-info.yaml."""
    top = [root / "catalog-info.yaml"] if (root / "catalog-info.yaml").is_file() else []
    return [p.resolve() for p in top + sorted((root / "servers").glob("*/catalog-info.yaml"))]


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass
class Fault:
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    delay: float = 0.0


def _json(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status, json.dumps(obj).encode(), JSON, dict(headers or {}))


def _url(req: Request) -> str:
    query = urlencode([(k, v) for k, vs in req.query.items() for v in vs])
    return req.path + (f"?{query}" if query else "")


def _error(req: Request, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {
        "error": {"name": _ERROR_NAMES.get(status, "Error"), "message": message},
        "request": {"method": req.method, "url": _url(req)},
        "response": {"statusCode": status},
    }
    return _json(body, status, headers)


def _strings(req: Request, name: str) -> list[str]:
    """A multi-valued parameter, given repeated and/or comma-separated."""
    return [s.strip() for value in req.args(name) for s in value.split(",") if s.strip()]


def _int(req: Request, name: str) -> int | None:
    raw = req.arg(name)
    if raw is None:
        return None
    if not re.fullmatch(r"\d+", raw):
        raise HttpError(400, f"Invalid {name} query parameter, must be a non-negative integer")
    return int(raw)


def _encode(obj: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode()


def _decode_cursor(raw: str) -> dict[str, Any]:
    try:
        cursor = json.loads(base64.b64decode(raw, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise HttpError(400, f"Malformed cursor: {exc}") from None
    if not (
        isinstance(cursor, dict)
        and isinstance(cursor.get("orderFields"), list)
        and isinstance(cursor.get("orderFieldValues"), list)
        and isinstance(cursor.get("isPrevious"), bool)
    ):
        raise HttpError(400, "Malformed cursor: expected orderFields, orderFieldValues and isPrevious")
    return cursor


class _Backstage:
    """The fake's state and handlers. The HTTP server is threaded: faults are taken under a lock."""

    def __init__(self, catalog_files: Sequence[str | Path] | None) -> None:
        files = None if catalog_files is None else [Path(p).resolve() for p in catalog_files]
        self.catalog = fc.Catalog(default_catalog_files if files is None else lambda: list(files))
        self.faults: collections.deque[Fault] = collections.deque()
        self.lock = threading.Lock()
        self.released = threading.Event()  # set on stop(): cuts any injected delay short
        e = f"{API}/entities"
        self.routes = [
            ("GET", e, self.list_entities),
            ("GET", f"{e}/by-query", self.query_entities),
            ("GET", f"{e}/by-uid/{{uid}}", self.by_uid),
            ("GET", f"{e}/by-name/{{kind}}/{{namespace}}/{{name}}", self.by_name),
            ("POST", f"{e}/by-refs", self.by_refs),
            ("GET", f"{API}/entity-facets", self.facets),
            ("GET", f"{API}/locations", self.list_locations),
            ("POST", f"{API}/locations", self.create_location),
        ]
        self.compiled = [
            (m, re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", p) + "$"), h)
            for m, p, h in self.routes
        ]

    # --- plumbing -------------------------------------------------------------

    def dispatch(self, req: Request) -> Response:
        with self.lock:
            fault = self.faults.popleft() if self.faults else None
        if fault and fault.delay:
            self.released.wait(fault.delay)
        if fault and (fault.status is not None or fault.body is not None):
            return self._fault_response(req, fault)
        match = _BEARER.match(req.headers.get("authorization", ""))
        if not match:
            return _error(req, 401, "Missing credentials")
        if match.group(1) not in (TOKEN, READONLY_TOKEN):
            return _error(req, 401, "Illegal token")
        for method, regex, handler in self.compiled:
            found = regex.match(req.path)
            if found and method == req.method:
                params = {k: unquote(v) for k, v in found.groupdict().items()}
                try:
                    return handler(Request(**{**req.__dict__, "params": params}))
                except HttpError as exc:
                    return _error(req, exc.status, exc.message)
        return Response(404, b"", "text/plain")  # Backstage's notFound middleware: no body

    def _fault_response(self, req: Request, fault: Fault) -> Response:
        status = fault.status or 200
        if fault.body is not None:
            return Response(status, fault.body.encode(), JSON, fault.headers)
        if status == 429:  # the rate limiter (express-rate-limit) answers in plain text
            body = b"Too many requests, please try again later."
            return Response(429, body, "text/plain; charset=utf-8", fault.headers)
        return _error(req, status, _FAULT_MESSAGES.get(status, "Internal error"), fault.headers)

    def _entities(
        self, req: Request
    ) -> list[tuple[dict[str, Any], list[tuple[str, str | None, str | None]]]]:
        try:
            entity_filter = fc.parse_filter(req.args("filter"))
        except ValueError as exc:
            raise HttpError(400, str(exc)) from None
        out = []
        for entity in self.catalog.snapshot().values():
            rows = fc.search_rows(entity)
            if fc.matches(rows, entity_filter):
                out.append((entity, rows))
        return out

    # --- entities -------------------------------------------------------------

    def list_entities(self, req: Request) -> Response:
        limit, offset = _int(req, "limit"), _int(req, "offset")
        if after := req.arg("after"):
            try:
                page = json.loads(base64.b64decode(after, validate=True))
                limit, offset = int(page.get("limit", limit)), int(page.get("offset", offset or 0))
            except (binascii.Error, ValueError, TypeError, AttributeError):
                raise HttpError(400, "Malformed after cursor, could not be parsed") from None
        found = self._entities(req)
        orders = [o.split(":", 1) for o in _strings(req, "order")]
        found.sort(key=lambda e: fc.ref_of(e[0]))
        for direction, field_name in reversed([o for o in orders if len(o) == 2]):
            present = [e for e in found if fc.sort_value(e[1], field_name) is not None]
            present.sort(key=lambda e: fc.sort_value(e[1], field_name) or "", reverse=direction == "desc")
            found = present + [e for e in found if fc.sort_value(e[1], field_name) is None]
        start = offset or 0
        rows = found[start : start + limit] if limit is not None else found[start:]
        headers = {}
        if limit is not None and len(found) > start + limit:
            query = [(k, v) for k, vs in req.query.items() for v in vs if k not in ("offset", "after")]
            query.append(("after", _encode({"limit": limit, "offset": start + limit})))
            headers["Link"] = f'</entities?{urlencode(query)}>; rel="next"'  # router-relative, as Backstage
        fields = _strings(req, "fields")
        return _json([fc.select_fields(e, fields) for e, _ in rows], headers=headers)

    def query_entities(self, req: Request) -> Response:
        limit = _int(req, "limit")
        limit = DEFAULT_LIMIT if limit is None else limit
        raw_cursor = req.arg("cursor")
        cursor = _decode_cursor(raw_cursor) if raw_cursor else self._initial_cursor(req)
        ordered, values = self._ordered(cursor)
        total = cursor.get("totalItems", len(ordered))
        uids = [e["metadata"]["uid"] for e in ordered]
        position = cursor.get("orderFieldValues") or []
        here = uids.index(position[-1]) if raw_cursor and position and position[-1] in uids else -1
        if raw_cursor and cursor["isPrevious"]:
            page, has_more = ordered[max(here - limit, 0) : max(here, 0)], limit > 0
        else:
            start = here + 1 if raw_cursor else (_int(req, "offset") or 0)
            page, has_more = ordered[start : start + limit], len(ordered) > start + limit and limit > 0
        first = cursor.get("firstSortFieldValues") or (values(page[0]) if page else None)
        base = {k: v for k, v in cursor.items() if v is not None}
        info: dict[str, str] = {}
        if has_more and page:
            info["nextCursor"] = _encode(
                {**base, "orderFieldValues": values(page[-1]), "firstSortFieldValues": first}
                | {"isPrevious": False, "totalItems": total}
            )
        if "firstSortFieldValues" in cursor and page and values(page[0]) != cursor["firstSortFieldValues"]:
            info["prevCursor"] = _encode(
                {**base, "orderFieldValues": values(page[0]), "firstSortFieldValues": first}
                | {"isPrevious": True, "totalItems": total}
            )
        fields = _strings(req, "fields")
        items = [fc.select_fields(e, fields) for e in page]
        return _json({"items": items, "totalItems": total, "pageInfo": info})

    def _initial_cursor(self, req: Request) -> dict[str, Any]:
        order_fields = []
        for spec in req.args("orderField"):
            name, _, order = spec.partition(",")
            if order not in ("", "asc", "desc"):
                raise HttpError(400, f"Invalid order field order, must be asc or desc, got '{order}'")
            order_fields.append({"field": name.strip(), "order": order or "asc"})
        try:
            entity_filter = fc.parse_filter(req.args("filter"))
        except ValueError as exc:
            raise HttpError(400, str(exc)) from None
        text: dict[str, Any] = {"term": req.arg("fullTextFilterTerm") or ""}
        if fields := _strings(req, "fullTextFilterFields"):
            text["fields"] = fields
        return {
            "orderFields": order_fields,
            "fullTextFilter": text,
            "filter": entity_filter,
            "isPrevious": False,
        }

    def _ordered(self, cursor: dict[str, Any]) -> tuple[list[dict[str, Any]], Callable[..., list[Any]]]:
        """The filtered entities in cursor order, and the function giving an entity's orderFieldValues."""
        sort_field = (cursor["orderFields"] or [{}])[0].get("field")
        descending = (cursor["orderFields"] or [{}])[0].get("order") == "desc"
        text = cursor.get("fullTextFilter") or {}
        term, text_fields = text.get("term", "").strip(), text.get("fields") or [sort_field or "metadata.uid"]
        found = []
        for entity in self.catalog.snapshot().values():
            rows = fc.search_rows(entity)
            if fc.matches(rows, cursor.get("filter")) and (
                not term or fc.text_matches(rows, term, text_fields)
            ):
                value = fc.sort_value(rows, sort_field) if sort_field else None
                found.append((value, entity["metadata"]["uid"], entity))
        present = sorted((f for f in found if f[0] is not None), key=lambda f: f[:2], reverse=descending)
        missing = sorted((f for f in found if f[0] is None), key=lambda f: f[1], reverse=descending)
        ordered = present + missing
        by_uid = {uid: value for value, uid, _ in ordered}

        def values(entity: dict[str, Any]) -> list[Any]:
            uid = entity["metadata"]["uid"]
            return [by_uid[uid], uid] if sort_field else [uid]

        return [e for _, _, e in ordered], values

    def by_uid(self, req: Request) -> Response:
        uid = req.params["uid"]
        for entity in self.catalog.snapshot().values():
            if entity["metadata"]["uid"] == uid:
                return _json(entity)
        raise HttpError(404, f"No entity with uid {uid}")

    def by_name(self, req: Request) -> Response:
        kind, namespace, name = (req.params[k] for k in ("kind", "namespace", "name"))
        entity = self.catalog.snapshot().get(fc.entity_ref(kind, namespace, name))
        if entity is None:
            raise HttpError(
                404, f"No entity named '{name}' found, with kind '{kind}' in namespace '{namespace}'"
            )
        return _json(entity)

    def by_refs(self, req: Request) -> Response:
        body = self._body(req)
        refs, fields = body.get("entityRefs"), body.get("fields")
        if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
            raise HttpError(400, "Malformed request: entityRefs must be an array of strings")
        allowed = {fc.ref_of(e) for e, _ in self._entities(req)}
        snapshot = self.catalog.snapshot()
        items = [
            fc.select_fields(snapshot[r.lower()], fields) if r.lower() in allowed else None for r in refs
        ]
        return _json({"items": items})

    def facets(self, req: Request) -> Response:
        names = req.args("facet")
        if not names:
            raise HttpError(400, "Missing facet query parameter")
        found = self._entities(req)
        out: dict[str, list[dict[str, Any]]] = {}
        for name in names:
            counts = collections.Counter(
                original for _, rows in found for original in {o for k, _, o in rows if k == name.lower()}
            )
            ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            out[name] = [{"value": value, "count": count} for value, count in ranked]
        return _json({"facets": out})

    # --- locations ------------------------------------------------------------

    def list_locations(self, req: Request) -> Response:
        return _json([{"data": _location(loc)} for loc in self.catalog.locations()])

    def create_location(self, req: Request) -> Response:
        if _BEARER.match(req.headers["authorization"]).group(1) == READONLY_TOKEN:  # type: ignore[union-attr]
            raise HttpError(403, "Not allowed to create a location: the token lacks catalog.location.create")
        body = self._body(req)
        kind, target = body.get("type"), body.get("target")
        if (
            set(body) - {"type", "target", "presence"}
            or not isinstance(kind, str)
            or not isinstance(target, str)
        ):
            raise HttpError(400, "Malformed request: expected {type: string, target: string}")
        location = fc.Location(kind, str(Path(target).resolve()) if kind == "file" else target)
        exists = location in self.catalog.locations()
        if (req.arg("dryRun") or "").lower() in ("true", "1", "yes"):
            entities = self.catalog.read_only(location)
            return _json({"location": _location(location), "entities": entities, "exists": exists}, 201)
        if exists:
            raise HttpError(409, f"Location {location.ref} already exists")
        with self.lock:
            self.catalog.added.append(location)
        return _json({"location": _location(location), "entities": []}, 201)

    @staticmethod
    def _body(req: Request) -> dict[str, Any]:
        if not re.match(r"^application/json($|;)", req.headers.get("content-type", "")):
            raise HttpError(400, "Illegal Content-Type")
        try:
            body = json.loads(req.body or b"null")
        except ValueError:
            raise HttpError(400, "Malformed request body: not JSON") from None
        if not isinstance(body, dict) or not body:
            raise HttpError(400, "Expected body to be a JSON object")
        return body


def _location(location: fc.Location) -> dict[str, str]:
    return {"id": location.id, "type": location.type, "target": location.target}


@dataclass
class RunningBackstage(RunningFake):
    """A running fake Backstage; `fail_next` and `delay_next` make its next request misbehave."""

    _app: _Backstage = field(repr=False)

    def fail_next(
        self, status: int | None = None, *, headers: dict[str, str] | None = None, body: str | None = None
    ) -> None:
        """Answer the next request with `status` (Backstage's error body; plain text for 429) or `body`."""
        with self._app.lock:
            self._app.faults.append(Fault(status=status, headers=dict(headers or {}), body=body))

    def delay_next(self, seconds: float) -> None:
        """Hold the next request for `seconds` before answering it normally (cut short by stop())."""
        with self._app.lock:
            self._app.faults.append(Fault(delay=seconds))

    @property
    def catalog_errors(self) -> list[str]:
        """Processing errors of the last read (bad YAML, conflicts, unreadable targets), as messages."""
        self._app.catalog.snapshot()
        return list(self._app.catalog.errors)

    def stop(self) -> None:
        self._app.released.set()
        super().stop()

    def __enter__(self) -> RunningBackstage:
        return self


def start(
    host: str = "127.0.0.1", port: int = 0, catalog_files: Sequence[str | Path] | None = None
) -> RunningBackstage:
    """A fresh fake Backstage; returns once it accepts connections.

    catalog_files: None reads the repository's catalog-info.yaml files (see `default_catalog_files`);
    a list reads exactly those (missing ones are skipped); [] serves the seeded catalog alone.
    """
    app = _Backstage(catalog_files)
    base = serve(app.dispatch, host=host, port=port, settings=lambda url: {"url": url, "token": TOKEN})
    return RunningBackstage(
        url=base.url, settings=base.settings, _server=base._server, _thread=base._thread, _app=app
    )


def _main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--catalog", action="append", help="a catalog-info.yaml to serve (repeatable)")
    known, rest = parser.parse_known_args(argv)
    run_standalone(functools.partial(start, catalog_files=known.catalog), "fake Backstage catalog API", rest)


if __name__ == "__main__":
    _main(sys.argv[1:])
