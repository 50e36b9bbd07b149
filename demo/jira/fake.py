"""A faithful fake of the Jira Server / Data Center REST API v2 endpoints our tools use.

Faithful where the `jira` library looks: `/rest/api/2/...` paths; Bearer
personal access tokens, or Basic `email:token` (every seeded user's API token
is TOKEN; the Bearer token belongs to portal-bot); 401 with
`X-Seraph-LoginReason: AUTHENTICATED_FAILED`; Jira's error body
`{"errorMessages": [...], "errors": {...}}` for 400/404; `startAt`/`maxResults`
/`total` paging; 201 on create and 204 on edit, assign and transition;
`serverInfo` with `deploymentType: Server` (so the library uses
`/rest/api/2/search`, GET or POST). JQL is the subset in `fake_jql.py`.

Misbehaving on demand, for error tests (each rule fires once):

    fake.fail_next(status=429, headers={"Retry-After": "7"})
    fake.fail_next(body="{not json")            # a 200 whose body is not JSON
    fake.fail_next(status=500, path="/rest/api/2/search")
    fake.delay_next(5)                          # answer after 5 s (or at stop())

    python -m demo.jira.fake --port 8080
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from dataclasses import dataclass, field, fields
from typing import Any

from demo._fakes import Request, Response, Router, RunningFake, json_response, run_standalone, serve

from . import fake_render as r
from .fake_data import ISSUE_TYPES, PROJECTS, TOKEN_USER, USERS, seed
from .fake_fields import label_op, named, project_key, user_matches, validated_changes, wanted_fields
from .fake_jql import JqlError, parse

__all__ = ["TOKEN", "RunningJira", "start"]

TOKEN = "jira-fake-pat-Qm7Xc2Lr9Tz4Wk8N"
NOW = "2026-03-02T12:00:00.000+0000"  # the fake's clock: every write happens "now"
API = "/rest/api/2"

_DEFAULT_FAULT_MESSAGES = {
    400: "Bad request.",
    403: "You do not have permission to perform this operation.",
    404: "Issue Does Not Exist",
    429: "Rate limit exceeded. Retry after the number of seconds in the Retry-After header.",
    503: "Service Unavailable",
}


def _error(status: int, *messages: str, **errors: str) -> Response:
    return json_response(r.error_body(*messages, **errors), status)


def _no_content() -> Response:
    return Response(204, b"", "application/json")


def _unauthorized() -> Response:
    body = r.error_body("You are not authenticated. Authentication required to perform this operation.")
    headers = {"X-Seraph-LoginReason": "AUTHENTICATED_FAILED", "WWW-Authenticate": 'OAuth realm="jira"'}
    return json_response(body, 401, headers)


@dataclass
class _Fault:
    path: str | None
    status: int
    body: bytes
    headers: dict[str, str]
    delay: float = 0.0


class _Jira:
    """State and handlers. A lock guards the data: the HTTP server is threaded."""

    def __init__(self) -> None:
        self.db = seed()
        self.lock = threading.Lock()
        self.faults: list[_Fault] = []
        self.log: list[tuple[str, str]] = []  # (method, path) of every request, for tests
        self.released = threading.Event()  # set at stop(): a delayed answer stops waiting
        self.user = ""  # who is calling; set under the lock for each request
        self.router = Router()
        for method, pattern, handler in self._routes():
            for prefix in (API, "/rest/api/latest"):  # the library uses "latest" for a few calls (assign)
                self.router.route(method, prefix + pattern)(handler)

    def _routes(self) -> list[tuple[str, str, Any]]:
        i = "/issue/{key}"
        return [
            ("GET", "/serverInfo", self.server_info),
            ("GET", "/myself", lambda q: json_response(r.user_json(_base(q), self.user))),
            ("GET", "/field", lambda q: json_response(r.field_list())),
            ("GET", "/search", self.search),
            ("POST", "/search", self.search),
            ("POST", "/issue", self.create_issue),
            ("GET", i, self.get_issue),
            ("PUT", i, self.edit_issue),
            ("GET", i + "/comment", self.list_comments),
            ("POST", i + "/comment", self.add_comment),
            ("GET", i + "/transitions", self.list_transitions),
            ("POST", i + "/transitions", self.do_transition),
            ("PUT", i + "/assignee", self.assign),
            ("GET", "/project", self.list_projects),
            ("GET", "/project/{pkey}", self.get_project),
            ("GET", "/user/search", self.search_users),
        ]

    # --- the front door: faults, then auth, then routes ---------------------

    def dispatch(self, req: Request) -> Response:
        fault = self._take_fault(req.method, req.path)
        if fault and fault.delay:
            self.released.wait(fault.delay)
        elif fault:
            return Response(fault.status, fault.body, "application/json;charset=UTF-8", fault.headers)
        user = _authenticate(req.headers.get("authorization", ""))
        if user is None and not (req.path.endswith("/serverInfo") and "authorization" not in req.headers):
            return _unauthorized()
        with self.lock:
            self.user = user or ""
            return self.router.dispatch(req)

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        with self.lock:
            self.log.append((method, path))
            for fault in self.faults:
                if fault.path is None or path.startswith(fault.path):
                    self.faults.remove(fault)
                    return fault
        return None

    # --- lookups --------------------------------------------------------------

    def issue(self, ref: str) -> dict[str, Any] | None:
        ref = ref.upper()
        return next((i for i in self.db["issues"] if ref in (i["key"], i["id"])), None)

    # --- handlers ---------------------------------------------------------------

    def server_info(self, req: Request) -> Response:
        return json_response(
            {
                "baseUrl": _base(req),
                "version": "9.12.15",
                "versionNumbers": [9, 12, 15],
                "deploymentType": "Server",
                "buildNumber": 9120015,
                "buildDate": "2025-10-14T00:00:00.000+0000",
                "serverTime": NOW,
                "scmInfo": "4b3a1e6c0d2f8a7b9c1e5d3f2a4b6c8d0e1f3a5b",
                "serverTitle": "Acme Shop Jira",
            }
        )

    def search(self, req: Request) -> Response:
        body = (
            req.form() if req.method == "POST" else {k: req.arg(k) for k in ("jql", "startAt", "maxResults")}
        )
        try:
            query = parse(str(body.get("jql") or ""))
        except JqlError as exc:
            return _error(400, str(exc))
        found = query.run(self.db["issues"], self.user)
        start = max(_int(body.get("startAt"), 0), 0)
        size = min(max(_int(body.get("maxResults"), 50), 0), 1000)  # Jira's default cap
        wanted = wanted_fields(
            body["fields"] if req.method == "POST" and "fields" in body else req.args("fields")
        )
        page = [r.issue_json(_base(req), i, wanted) for i in found[start : start + size]]
        return json_response(
            {
                "expand": "schema,names",
                "startAt": start,
                "maxResults": size,
                "total": len(found),
                "issues": page,
            }
        )

    def get_issue(self, req: Request) -> Response:
        issue = self.issue(req.params["key"])
        if issue is None:
            return _error(404, "Issue Does Not Exist")
        return json_response(r.issue_json(_base(req), issue, wanted_fields(req.args("fields"))))

    def create_issue(self, req: Request) -> Response:
        given = dict(req.form().get("fields") or {})
        errors: dict[str, str] = {}
        project = project_key(given.pop("project", None))
        kind = named(given.pop("issuetype", None), ISSUE_TYPES)
        if project is None:
            errors["project"] = "valid project is required"
        if kind is None:
            errors["issuetype"] = "valid issue type is required"
        if "summary" not in given:
            errors["summary"] = "You must specify a summary of the issue."
        changes = validated_changes(given, errors)
        if errors:
            return _error(400, **errors)
        self.db["counters"][project] += 1
        self.db["next_issue_id"] += 1
        issue = {
            "id": str(self.db["next_issue_id"]),
            "key": f"{project}-{self.db['counters'][project]}",
            "project": project,
            "issuetype": kind,
            "status": "To Do",
            "priority": "Medium",
            "assignee": None,
            "reporter": self.user,
            "labels": [],
            "created": NOW,
            "updated": NOW,
            "resolution": None,
            "resolutiondate": None,
            "description": None,
            "comments": [],
            **changes,
        }
        self.db["issues"].append(issue)
        self_url = f"{_base(req)}{API}/issue/{issue['id']}"
        return json_response({"id": issue["id"], "key": issue["key"], "self": self_url}, 201)

    def edit_issue(self, req: Request) -> Response:
        issue = self.issue(req.params["key"])
        if issue is None:
            return _error(404, "Issue Does Not Exist")
        body = req.form()
        errors: dict[str, str] = {}
        changes = validated_changes(dict(body.get("fields") or {}), errors)
        labels = list(changes.get("labels", issue["labels"]))
        for op in (body.get("update") or {}).get("labels", []):
            labels = label_op(labels, op)
        if errors:
            return _error(400, **errors)
        issue.update(changes, labels=labels, updated=NOW)
        for op in (body.get("update") or {}).get("comment", []):
            self._comment(issue, self.user, op["add"]["body"])
        return _no_content()

    def list_comments(self, req: Request) -> Response:
        issue = self.issue(req.params["key"])
        if issue is None:
            return _error(404, "Issue Does Not Exist")
        comments = sorted(
            issue["comments"], key=lambda c: c["created"], reverse=req.arg("orderBy") == "-created"
        )
        start = max(_int(req.arg("startAt"), 0), 0)
        size = max(_int(req.arg("maxResults"), 5000), 0)
        page = [r.comment_json(_base(req), issue, c) for c in comments[start : start + size]]
        return json_response({"startAt": start, "maxResults": size, "total": len(comments), "comments": page})

    def add_comment(self, req: Request) -> Response:
        issue = self.issue(req.params["key"])
        if issue is None:
            return _error(404, "Issue Does Not Exist")
        text = str(req.form().get("body") or "")
        if not text.strip():
            return _error(400, comment="Comment body can not be empty!")
        comment = self._comment(issue, self.user, text)
        return json_response(r.comment_json(_base(req), issue, comment), 201)

    def _comment(self, issue: dict[str, Any], author: str, text: str) -> dict[str, Any]:
        self.db["next_comment_id"] += 1
        comment = {"id": str(self.db["next_comment_id"]), "author": author, "body": text}
        comment |= {"created": NOW, "updated": NOW}
        issue["comments"].append(comment)
        issue["updated"] = NOW
        return comment

    def list_transitions(self, req: Request) -> Response:
        issue = self.issue(req.params["key"])
        if issue is None:
            return _error(404, "Issue Does Not Exist")
        only = req.arg("transitionId")
        found = [t for t in r.transitions_from(issue["status"]) if only in (None, t[0])]
        return json_response(
            {"expand": "transitions", "transitions": [r.transition_json(_base(req), t) for t in found]}
        )

    def do_transition(self, req: Request) -> Response:
        issue = self.issue(req.params["key"])
        if issue is None:
            return _error(404, "Issue Does Not Exist")
        body = req.form()
        wanted = str((body.get("transition") or {}).get("id"))
        transition = next((t for t in r.transitions_from(issue["status"]) if t[0] == wanted), None)
        if transition is None:
            return _error(
                400,
                f"It seems that you have tried to perform a workflow operation ({wanted}) that is not "
                f"valid for the current state of this issue ({issue['key']}). The likely cause is that "
                "somebody has changed the issue recently, please look at the issue history for details.",
            )
        done = transition[3] == "Done"
        issue.update(status=transition[3], updated=NOW, resolution="Done" if done else None)
        issue["resolutiondate"] = NOW if done else None
        for op in (body.get("update") or {}).get("comment", []):
            self._comment(issue, self.user, op["add"]["body"])
        return _no_content()

    def assign(self, req: Request) -> Response:
        issue = self.issue(req.params["key"])
        if issue is None:
            return _error(404, "Issue Does Not Exist")
        name = req.form().get("name")
        if name == "-1":
            name = PROJECTS[issue["project"]][2]  # "Automatic": the project's default assignee, its lead
        if name is not None and name not in USERS:
            return _error(400, assignee=f"User '{name}' does not exist.")
        issue.update(assignee=name, updated=NOW)
        return _no_content()

    def list_projects(self, req: Request) -> Response:
        expand = set((req.arg("expand") or "").split(","))
        return json_response([r.project_json(_base(req), key, expand) for key in PROJECTS])

    def get_project(self, req: Request) -> Response:
        key = project_key({"key": req.params["pkey"]})
        if key is None:
            return _error(404, f"No project could be found with key '{req.params['pkey']}'.")
        return json_response(r.project_json(_base(req), key, {"description", "lead", "issueTypes"}))

    def search_users(self, req: Request) -> Response:
        needle = (req.arg("username") or req.arg("query") or "").lower()
        if not needle:
            return _error(400, "The username query parameter was not provided")
        found = [u for u, (display, _, _) in USERS.items() if user_matches(needle, u, display)]
        start, size = max(_int(req.arg("startAt"), 0), 0), min(max(_int(req.arg("maxResults"), 50), 0), 1000)
        return json_response([r.user_json(_base(req), u) for u in found[start : start + size]])


# --- helpers ------------------------------------------------------------------


def _base(req: Request) -> str:
    return f"http://{req.headers.get('host', '127.0.0.1')}"


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _authenticate(header: str) -> str | None:
    """The username behind an Authorization header, or None."""
    if header == f"Bearer {TOKEN}":
        return TOKEN_USER
    if not header.startswith("Basic "):
        return None
    try:
        login, _, secret = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user = login.removesuffix("@acme.example")
    return user if secret == TOKEN and user in USERS else None


# --- the running fake -----------------------------------------------------------


@dataclass
class RunningJira(RunningFake):
    """A running fake Jira that can be told to misbehave for the next request."""

    _jira: _Jira = field(repr=False, default_factory=_Jira)

    def fail_next(
        self,
        status: int | None = None,
        *,
        body: str | dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        path: str | None = None,
    ) -> None:
        """Answer the next request (to a path starting with `path`, if given) with this failure.

        Without a body: Jira's error body for the status. A body without a status: a 200.
        """
        code = status if status is not None else (200 if body is not None else 500)
        if body is None:
            message = _DEFAULT_FAULT_MESSAGES.get(code, "Internal server error")
            body = r.error_body(message)
        raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        with self._jira.lock:
            self._jira.faults.append(_Fault(path, code, raw, dict(headers or {})))

    @property
    def requests(self) -> list[tuple[str, str]]:
        """(method, path) of every request so far, oldest first."""
        with self._jira.lock:
            return list(self._jira.log)

    def delay_next(self, seconds: float, *, path: str | None = None) -> None:
        """Hold the next request `seconds` before answering it (stop() releases it at once)."""
        with self._jira.lock:
            self._jira.faults.append(_Fault(path, 200, b"", {}, delay=seconds))

    def stop(self) -> None:
        self._jira.released.set()
        super().stop()


def start(host: str = "127.0.0.1", port: int = 0) -> RunningJira:
    """Serve a fresh copy of the seeded data; returns once it accepts connections."""
    jira = _Jira()
    running = serve(jira.dispatch, host=host, port=port, settings=lambda url: {"url": url, "token": TOKEN})
    return RunningJira(**{f.name: getattr(running, f.name) for f in fields(running)}, _jira=jira)


if __name__ == "__main__":
    run_standalone(start, "fake Jira REST API")
