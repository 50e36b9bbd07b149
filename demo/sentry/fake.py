"""A faithful fake of the Sentry REST API endpoints that our tools use.

Faithful where a client looks: paths under `/api/0/` (organisation-scoped, plus
the older `/api/0/issues/{id}/...` and `/api/0/projects/{org}/{project}/issues/`
forms), `Authorization: Bearer <token>` (401 `{"detail": "Invalid token"}`),
Sentry's `{"detail": ...}` error bodies, a read-only token that gets 403 on
writes, cursor paging through the `Link` header
(`<...&cursor=25:1:0>; rel="next"; results="true"; cursor="25:1:0"`), `limit` on
the issue search and `per_page` elsewhere, `count` as a string, events whose
stack frames carry `lineNo` and `context` pairs, issue details with
`firstRelease`/`lastRelease`, short ids (`ORDERS-API-3B`) accepted where an
issue id is. A resolved issue stays resolved for the life of this fake.

Misbehaviour on demand, for error tests (applies to the next request, whatever it is):

    fake.fail_next(429, headers={"Retry-After": "7"})   # or 403, 500, 502, ...
    fake.fail_next(200, body="{not json")               # malformed JSON
    fake.delay_next(5)                                   # answer late (released at stop())

    python -m demo.sentry.fake --port 9000
"""

from __future__ import annotations

import json
import threading
from collections import Counter, deque
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from demo._fakes import Request, Response, Router, RunningFake, json_response, run_standalone, serve

from .fake_data import seed
from .fake_query import matches, page

__all__ = ["READ_ONLY_TOKEN", "TOKEN", "RunningSentry", "start"]

TOKEN = "sntryu_fake_4d1c9e0b7a2f4b6e8c3d5a7f9e1b2c4d"
READ_ONLY_TOKEN = "sntryu_fake_readonly_6b8e2a4c0d9f1e3a5c7b"  # org:read, project:read, event:read only
API = "/api/0"
NOW = "2026-03-02T12:00:00Z"  # the fake's clock
_NOW_EPOCH = int(datetime.fromisoformat(NOW.replace("Z", "+00:00")).timestamp())

_NOT_FOUND = {"detail": "The requested resource does not exist"}
_DEFAULT_BODIES = {
    401: {"detail": "Invalid token"},
    403: {"detail": "You do not have permission to perform this action."},
    404: _NOT_FOUND,
    429: {
        "detail": "You are attempting to use this endpoint too frequently. Limit is 40 requests in 1 seconds"
    },
}
_STATUSES = {"resolved", "unresolved", "ignored", "resolvedInNextRelease"}
_SORTS = {"date": "lastSeen", "new": "firstSeen", "freq": "count", "user": "userCount"}
_EXCEPTION_MODULES = {"InvalidOperation": "decimal", "ReadTimeout": "requests.exceptions"}
_EXCEPTION_MODULES |= {"ExpiredSignatureError": "jwt.exceptions", "OperationalError": "psycopg"}


def _detail(message: str, status: int) -> Response:
    return json_response({"detail": message}, status)


@dataclass
class _Fault:
    status: int | None = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def _fault_response(fault: _Fault) -> Response:
    default = _DEFAULT_BODIES.get(
        fault.status or 500, {"detail": "Internal Error", "errorId": "5f1c2d3e4a6b"}
    )
    body = fault.body if fault.body is not None else json.dumps(default).encode()
    return Response(fault.status or 500, body, "application/json", dict(fault.headers))


def _cause(cause: dict[str, Any]) -> dict[str, Any]:
    """An earlier exception of a chain ("During handling of the above exception, ...")."""
    stacktrace = {
        "frames": cause["frames"],
        "framesOmitted": None,
        "registers": None,
        "hasSystemFrames": True,
    }
    mechanism = {"type": "chained", "handled": True, "exception_id": 0, "source": "__context__"}
    return {
        **{k: cause[k] for k in ("type", "value", "module")},
        "mechanism": mechanism,
        "threadId": None,
        "stacktrace": stacktrace,
        "rawStacktrace": None,
    }


def _public(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if not k.startswith("_")}


class _Sentry:
    """The fake's state and handlers. A lock guards writes: the HTTP server is threaded."""

    def __init__(self) -> None:
        self.db = seed()
        self.lock = threading.Lock()
        self.faults: deque[_Fault] = deque()
        self.released = threading.Event()  # set at stop(): a delayed answer stops waiting
        self.router = Router()
        for method, pattern, handler in self._routes():
            self.router.route(method, API + pattern)(handler)

    def _routes(self) -> list[tuple[str, str, Any]]:
        org, issue = "/organizations/{org}", "/organizations/{org}/issues/{issue}"
        return [
            ("GET", org + "/projects/", self.list_projects),
            ("GET", org + "/issues/", self.list_issues),
            ("GET", "/projects/{org}/{project}/issues/", self.list_project_issues),
            ("GET", org + "/releases/", self.list_releases),
            ("GET", org + "/releases/{version}/", self.get_release),
            *[
                route
                for prefix in (issue, "/issues/{issue}")
                for route in (
                    ("GET", prefix + "/", self.get_issue),
                    ("PUT", prefix + "/", self.update_issue),
                    ("GET", prefix + "/events/", self.list_events),
                    ("GET", prefix + "/tags/", self.list_tags),
                    ("GET", prefix + "/events/{event}/", self.get_event),
                )
            ],
        ]

    # --- entry point ----------------------------------------------------------

    def dispatch(self, req: Request) -> Response:
        with self.lock:
            fault = self.faults.popleft() if self.faults else None
        if fault and fault.delay:
            self.released.wait(fault.delay)
        if fault and fault.status is not None:
            return _fault_response(fault)
        auth = req.headers.get("authorization", "")
        if not auth:
            return _detail("Authentication credentials were not provided.", 401)
        if auth not in (f"Bearer {TOKEN}", f"Bearer {READ_ONLY_TOKEN}"):
            return _detail("Invalid token", 401)
        if req.method != "GET" and auth != f"Bearer {TOKEN}":
            return json_response(_DEFAULT_BODIES[403], 403)
        response = self.router.dispatch(req)
        return json_response(_NOT_FOUND, 404) if response.body == b'{"error": "404 Not Found"}' else response

    # --- lookups --------------------------------------------------------------

    def org_ok(self, req: Request) -> bool:
        return req.params.get("org", self.db["org"]["slug"]) in (self.db["org"]["slug"], self.db["org"]["id"])

    def issue(self, req: Request) -> dict[str, Any] | None:
        if not self.org_ok(req):
            return None
        # A short id (ORDERS-API-3B) resolves only under an organisation, as in Sentry.
        ref, scoped = req.params["issue"], "org" in req.params
        return next(
            (i for i in self.db["issues"] if ref == i["id"] or scoped and ref.upper() == i["shortId"]), None
        )

    def release(self, version: str | None) -> dict[str, Any] | None:
        return next((r for r in self.db["releases"] if r["version"] == version), None)

    # --- serializers ----------------------------------------------------------

    def stream_issue(self, issue: dict[str, Any]) -> dict[str, Any]:
        hours = [_NOW_EPOCH - 3600 * n for n in range(23, -1, -1)]  # the 24 hours up to NOW
        return {
            **_public(issue),
            "stats": {"24h": [[h, 0] for h in hours]},
            "lifetime": None,
            "filtered": None,
        }

    def issue_details(self, issue: dict[str, Any]) -> dict[str, Any]:
        tags = [{k: t[k] for k in ("key", "name", "totalValues")} for t in self.tag_values(issue)]
        return {
            **_public(issue),
            "firstRelease": self.release(issue["_first_release"]),
            "lastRelease": self.release(issue["_last_release"]),
            "activity": issue.get("_activity", []),
            "tags": tags,
            "participants": [],
            "pluginActions": [],
            "pluginIssues": [],
            "pluginContexts": [],
            "userReportCount": 0,
            "seenBy": [],
        }

    def tag_values(self, issue: dict[str, Any], limit: int = 10) -> list[dict[str, Any]]:
        """Tag keys of an issue's events with their most common values, as /issues/{id}/tags/ sends them."""
        events = self.db["events"][issue["id"]]
        out = []
        for key in sorted({t["key"] for e in events for t in e["tags"]}):
            counts = Counter(t["value"] for e in events for t in e["tags"] if t["key"] == key)
            top = [
                {
                    "key": key,
                    "name": v,
                    "value": v,
                    "count": n,
                    "lastSeen": issue["lastSeen"],
                    "firstSeen": issue["firstSeen"],
                }
                for v, n in counts.most_common(limit)
            ]
            name = key.replace("_", " ").title()
            out.append({"key": key, "name": name, "totalValues": sum(counts.values()), "topValues": top})
        return sorted(out, key=lambda t: t["name"])

    def event_summary(self, issue: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": event["eventID"],
            "event.type": "error",
            "groupID": issue["id"],
            "eventID": event["eventID"],
            "projectID": issue["project"]["id"],
            "message": issue["title"],
            "title": issue["title"],
            "location": issue["_frames"][-1]["filename"],
            "culprit": issue["culprit"],
            "user": event["user"],
            "tags": event["tags"],
            "platform": issue["platform"],
            "dateCreated": event["dateCreated"],
            "crashFile": None,
            "metadata": issue["metadata"],
        }

    def event_details(self, issue: dict[str, Any], n: int) -> dict[str, Any]:
        events = self.db["events"][issue["id"]]
        event = events[n]
        meta = issue["metadata"]
        value = {
            "type": meta["type"],
            "value": meta["value"],
            "module": _EXCEPTION_MODULES.get(meta["type"]),
            "mechanism": {
                "type": "starlette" if issue["platform"] == "python" else "onerror",
                "handled": False,
            },
            "threadId": None,
            "stacktrace": {
                "frames": issue["_frames"],
                "framesOmitted": None,
                "registers": None,
                "hasSystemFrames": True,
            },
            "rawStacktrace": None,
        }
        values = [*(_cause(c) for c in issue["_causes"]), value]  # the raised exception comes last
        return {
            **self.event_summary(issue, event),
            "size": 9120 + 37 * n,
            "entries": [
                {
                    "type": "exception",
                    "data": {"values": values, "excOmitted": None, "hasSystemFrames": True},
                }
            ],
            "dist": None,
            "contexts": {"runtime": {"name": "CPython", "version": "3.12.8", "type": "runtime"}}
            if issue["platform"] == "python"
            else {"browser": {"name": "Chrome", "version": "133.0.0", "type": "browser"}},
            "sdk": {"name": "sentry.python.fastapi", "version": "2.22.0"}
            if issue["platform"] == "python"
            else {"name": "sentry.javascript.react", "version": "9.1.0"},
            "context": {},
            "packages": {},
            "type": "error",
            "dateReceived": event["dateCreated"],
            "errors": [],
            "occurrence": None,
            "_meta": {},
            "fingerprints": ["{{ default }}"],
            "groupingConfig": {
                "id": "newstyle:2023-01-11",
                "enhancements": "KLUv_SAYwQAAkwKRs25ld3N0eWxlOjIwMjMtMDEtMTGQ",
            },
            "release": self.release(event["release"]),
            "userReport": None,
            "sdkUpdates": [],
            "resolvedWith": [],
            "nextEventID": events[n - 1]["eventID"] if n > 0 else None,
            "previousEventID": events[n + 1]["eventID"] if n + 1 < len(events) else None,
        }

    # --- handlers -------------------------------------------------------------

    def list_projects(self, req: Request) -> Response:
        if not self.org_ok(req):
            return json_response(_NOT_FOUND, 404)
        projects = sorted(self.db["projects"].values(), key=lambda p: p["slug"])
        return page(req, [_public(p) for p in projects], size_param="per_page")

    def list_issues(self, req: Request) -> Response:
        if not self.org_ok(req):
            return json_response(_NOT_FOUND, 404)
        wanted = [p for p in req.args("project") if p != "-1"]
        known = {p["id"] for p in self.db["projects"].values()}
        if any(p not in known for p in wanted):
            return json_response(_DEFAULT_BODIES[403], 403)  # Sentry's answer for a project you cannot see
        return self._search(req, [i for i in self.db["issues"] if not wanted or i["project"]["id"] in wanted])

    def list_project_issues(self, req: Request) -> Response:
        project = self.db["projects"].get(req.params["project"])
        if not self.org_ok(req) or not project:
            return json_response(_NOT_FOUND, 404)
        return self._search(req, [i for i in self.db["issues"] if i["project"]["slug"] == project["slug"]])

    def _search(self, req: Request, issues: list[dict[str, Any]]) -> Response:
        sort = req.arg("sort") or "date"
        if sort not in _SORTS:
            return _detail(f"Invalid sort: {sort}", 400)
        try:
            found = [i for i in issues if matches(i, req.arg("query", "is:unresolved") or "", self.db)]
        except ValueError as exc:
            return _detail(f"Error parsing search query: {exc}", 400)
        key = _SORTS[sort]
        found.sort(key=lambda i: int(i[key]) if key in ("count", "userCount") else i[key], reverse=True)
        try:
            limit = min(int(req.arg("limit") or 100), 100)
        except ValueError:
            return _detail("invalid limit", 400)
        paged = Request(**{**req.__dict__, "query": {**req.query, "limit": [str(limit)]}})
        return page(paged, [self.stream_issue(i) for i in found], size_param="limit")

    def get_issue(self, req: Request) -> Response:
        issue = self.issue(req)
        return json_response(self.issue_details(issue)) if issue else json_response(_NOT_FOUND, 404)

    def update_issue(self, req: Request) -> Response:
        if not (issue := self.issue(req)):
            return json_response(_NOT_FOUND, 404)
        try:
            status = req.form().get("status")
        except ValueError:
            return _detail("JSON parse error", 400)
        if status is not None and status not in _STATUSES:
            return json_response({"status": [f'"{status}" is not a valid choice.']}, 400)
        with self.lock:
            if status:
                resolved = status.startswith("resolved")
                issue["status"] = "resolved" if resolved else status
                issue["substatus"] = {"unresolved": "ongoing", "ignored": "archived_until_escalating"}.get(
                    status
                )
                issue["statusDetails"] = {"inNextRelease": True} if status == "resolvedInNextRelease" else {}
                activity = {"type": "set_resolved" if resolved else f"set_{status}", "dateCreated": NOW}
                issue.setdefault("_activity", []).insert(0, activity)
        return json_response(_public(issue))

    def list_events(self, req: Request) -> Response:
        if not (issue := self.issue(req)):
            return json_response(_NOT_FOUND, 404)
        events = [self.event_summary(issue, e) for e in self.db["events"][issue["id"]]]
        return page(req, events, size_param="per_page")

    def get_event(self, req: Request) -> Response:
        if not (issue := self.issue(req)):
            return json_response(_NOT_FOUND, 404)
        events, ref = self.db["events"][issue["id"]], req.params["event"]
        aliases = {"latest": 0, "recommended": 0, "oldest": len(events) - 1}
        n = aliases.get(ref, next((k for k, e in enumerate(events) if e["eventID"] == ref), None))
        return (
            json_response(self.event_details(issue, n)) if n is not None else json_response(_NOT_FOUND, 404)
        )

    def list_tags(self, req: Request) -> Response:
        if not (issue := self.issue(req)):
            return json_response(_NOT_FOUND, 404)
        try:
            limit = int(req.arg("limit") or 10)
        except ValueError:
            return _detail("Invalid limit parameter.", 400)
        keys = req.args("key")
        return json_response([t for t in self.tag_values(issue, limit) if not keys or t["key"] in keys])

    def list_releases(self, req: Request) -> Response:
        if not self.org_ok(req):
            return json_response(_NOT_FOUND, 404)
        wanted, needle = req.args("project"), (req.arg("query") or "").lower()
        found = [
            r
            for r in self.db["releases"]
            if needle in r["version"].lower() and (not wanted or str(r["projects"][0]["id"]) in wanted)
        ]
        found.sort(key=lambda r: r["dateCreated"], reverse=True)
        return page(req, found, size_param="per_page")

    def get_release(self, req: Request) -> Response:
        release = self.release(req.params["version"]) if self.org_ok(req) else None
        return json_response(release) if release else json_response(_NOT_FOUND, 404)


@dataclass
class RunningSentry(RunningFake):
    """A running fake Sentry, plus switches that make the next request(s) misbehave."""

    _app: _Sentry | None = field(default=None, repr=False)

    def fail_next(
        self,
        status: int = 500,
        *,
        body: str | bytes | None = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` requests with `status` (Sentry's error body unless `body` is given)."""
        raw = body.encode() if isinstance(body, str) else body
        for _ in range(times):
            self._sentry.faults.append(_Fault(status=status, body=raw, headers=dict(headers or {})))

    def delay_next(self, seconds: float, *, times: int = 1) -> None:
        """Hold the next `times` answers for `seconds` (or until stop()), then answer normally."""
        for _ in range(times):
            self._sentry.faults.append(_Fault(delay=seconds))

    @property
    def _sentry(self) -> _Sentry:
        if self._app is None:
            raise RuntimeError("a RunningSentry comes from demo.sentry.fake.start()")
        return self._app

    def stop(self) -> None:
        self._sentry.released.set()
        super().stop()


def start(host: str = "127.0.0.1", port: int = 0) -> RunningSentry:
    """A fresh fake Sentry with the seeded data; returns once it accepts connections."""
    app = _Sentry()
    running = serve(
        app.dispatch,
        host=host,
        port=port,
        settings=lambda url: {"url": url, "token": TOKEN, "org": app.db["org"]["slug"]},
    )
    return RunningSentry(**{f.name: getattr(running, f.name) for f in fields(RunningFake)}, _app=app)


if __name__ == "__main__":
    run_standalone(start, "fake Sentry REST API")
