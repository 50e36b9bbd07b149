"""A faithful fake of the GitLab REST v4 endpoints that our tools use.

Faithful where python-gitlab looks: the `PRIVATE-TOKEN` header (401
`{"message": "401 Unauthorized"}`), URL-encoded project paths
(`/projects/infra%2Fapi`), GitLab's 404 bodies, `page`/`per_page` paging with
the `X-Page`, `X-Per-Page`, `X-Total`, `X-Total-Pages`, `X-Next-Page`,
`X-Prev-Page` and `Link` headers, a text/plain job trace, base64 file content.
Data comes from `fake_data.seed()`; notes and issues created here persist in
this fake's memory.

    python -m demo.gitlab.fake --port 8929
"""

from __future__ import annotations

import base64
import hashlib
import threading
from typing import Any
from urllib.parse import urlencode

from demo._fakes import Request, Response, Router, RunningFake, json_response, run_standalone, serve

from .fake_data import TOKEN_USER, seed

__all__ = ["TOKEN", "RunningFake", "start"]

TOKEN = "glpat-fake-Zx81mQ4vT9kL2pW7sY3n"
API = "/api/v4"
NOW = "2026-03-02T12:00:00.000Z"  # the fake's clock: every write happens "now"


def _public(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if not k.startswith("_")}


def _not_found(what: str = "Not found") -> Response:
    return json_response({"message": f"404 {what}"}, 404)


def _paged(req: Request, items: list[dict[str, Any]]) -> Response:
    """One page of `items`, with the headers GitLab sends (and python-gitlab reads)."""
    page = max(int(req.arg("page") or 1), 1)
    per_page = min(max(int(req.arg("per_page") or 20), 1), 100)
    total_pages = max((len(items) + per_page - 1) // per_page, 1)
    headers = {
        "X-Page": str(page),
        "X-Per-Page": str(per_page),
        "X-Total": str(len(items)),
        "X-Total-Pages": str(total_pages),
        "X-Next-Page": str(page + 1) if page < total_pages else "",
        "X-Prev-Page": str(page - 1) if page > 1 else "",
    }
    base = f"http://{req.headers.get('host', '127.0.0.1')}{req.path}?"
    query = {k: v[0] for k, v in req.query.items()}

    def link(n: int, rel: str) -> str:
        return f'<{base}{urlencode({**query, "page": n, "per_page": per_page})}>; rel="{rel}"'

    rels = [link(page + 1, "next")] if page < total_pages else []
    rels += [link(page - 1, "prev")] if page > 1 else []
    headers["Link"] = ", ".join([*rels, link(1, "first"), link(total_pages, "last")])
    body = [_public(i) for i in items[(page - 1) * per_page : page * per_page]]
    return json_response(body, headers=headers)


class _GitLab:
    """The fake's state and handlers. A lock guards writes: the HTTP server is threaded."""

    def __init__(self) -> None:
        self.db = seed()
        self.lock = threading.Lock()
        self.router = Router()
        for method, pattern, handler in self._routes():
            self.router.route(method, API + pattern)(handler)

    def dispatch(self, req: Request) -> Response:
        token = req.headers.get("private-token") or req.headers.get("authorization", "").removeprefix(
            "Bearer "
        )
        if token != TOKEN:
            return json_response({"message": "401 Unauthorized"}, 401)
        return self.router.dispatch(req)

    def _routes(self) -> list[tuple[str, str, Any]]:
        p, mr = "/projects/{project}", "/projects/{project}/merge_requests/{iid}"
        return [
            ("GET", "/version", lambda r: json_response({"version": "18.4.1-ee", "revision": "6c0f4e2a1b9"})),
            ("GET", "/user", lambda r: json_response({**self.db["users"][TOKEN_USER], "bot": True})),
            ("GET", "/projects", self.list_projects),
            ("GET", p, self.get_project),
            ("GET", p + "/merge_requests", self.list_mrs),
            ("GET", mr, self.get_mr),
            ("GET", mr + "/changes", self.mr_changes),
            ("GET", mr + "/diffs", self.mr_diffs),
            ("GET", mr + "/notes", self.list_notes),
            ("POST", mr + "/notes", self.create_note),
            ("GET", p + "/pipelines", self.list_pipelines),
            ("GET", p + "/pipelines/{pid}", self.get_pipeline),
            ("GET", p + "/pipelines/{pid}/jobs", self.pipeline_jobs),
            ("GET", p + "/jobs/{job}", self.get_job),
            ("GET", p + "/jobs/{job}/trace", self.job_trace),
            ("GET", p + "/repository/files/{path}", self.get_file),
            ("GET", p + "/repository/commits", self.list_commits),
            ("GET", p + "/repository/commits/{sha}", self.get_commit),
            ("GET", p + "/repository/branches", self.list_branches),
            ("GET", p + "/search", self.search),
            ("GET", "/search", self.search),
            ("GET", p + "/issues", self.list_issues),
            ("GET", p + "/issues/{iid}", self.get_issue),
            ("POST", p + "/issues", self.create_issue),
        ]

    # --- lookups -------------------------------------------------------------

    def project(self, req: Request) -> dict[str, Any] | None:
        ref = req.params["project"]
        for project in self.db["projects"].values():
            if ref in (str(project["id"]), project["path_with_namespace"]):
                return project
        return None

    def mr(self, req: Request, project: dict[str, Any]) -> dict[str, Any] | None:
        return next(
            (
                m
                for m in self.db["merge_requests"]
                if m["project_id"] == project["id"] and str(m["iid"]) == req.params["iid"]
            ),
            None,
        )

    def job(self, req: Request, project: dict[str, Any]) -> dict[str, Any] | None:
        job = self.db["jobs"].get(int(req.params["job"])) if req.params["job"].isdigit() else None
        return job if job and job["pipeline"]["project_id"] == project["id"] else None

    # --- handlers ------------------------------------------------------------

    def list_projects(self, req: Request) -> Response:
        needle = (req.arg("search") or "").lower()
        found = [
            p
            for p in self.db["projects"].values()
            if needle in p["path_with_namespace"].lower() or needle in p["description"].lower()
        ]
        return _paged(req, sorted(found, key=lambda p: p["id"], reverse=True))

    def get_project(self, req: Request) -> Response:
        project = self.project(req)
        return json_response(project) if project else _not_found("Project Not Found")

    def list_mrs(self, req: Request) -> Response:
        if not (project := self.project(req)):
            return _not_found("Project Not Found")
        state = req.arg("state") or "all"
        found = [
            _public(m)
            for m in self.db["merge_requests"]
            if m["project_id"] == project["id"] and state in ("all", m["state"])
        ]
        for m in found:
            m.pop("head_pipeline")  # the list endpoint does not embed it
        return _paged(req, sorted(found, key=lambda m: m["created_at"], reverse=True))

    def get_mr(self, req: Request) -> Response:
        project = self.project(req)
        mr = self.mr(req, project) if project else None
        return (
            json_response(_public(mr))
            if mr
            else _not_found("Project Not Found" if not project else "Not found")
        )

    def mr_changes(self, req: Request) -> Response:
        project = self.project(req)
        mr = self.mr(req, project) if project else None
        if not mr:
            return _not_found("Project Not Found" if not project else "Not found")
        return json_response({**_public(mr), "changes": mr["_changes"], "overflow": False})

    def mr_diffs(self, req: Request) -> Response:
        project = self.project(req)
        mr = self.mr(req, project) if project else None
        return _paged(req, mr["_changes"]) if mr else _not_found("Not found")

    def list_notes(self, req: Request) -> Response:
        project = self.project(req)
        mr = self.mr(req, project) if project else None
        if not mr:
            return _not_found("Project Not Found" if not project else "Not found")
        notes = sorted(
            (n for n in self.db["notes"] if n["noteable_id"] == mr["id"]),
            key=lambda n: n["id"],
            reverse=(req.arg("sort") or "desc") == "desc",
        )
        return _paged(req, notes)

    def create_note(self, req: Request) -> Response:
        project = self.project(req)
        mr = self.mr(req, project) if project else None
        if not mr:
            return _not_found("Project Not Found" if not project else "Not found")
        body = str(req.form().get("body") or "")
        if not body.strip():
            return json_response({"message": {"note": ["can't be blank"]}}, 400)
        with self.lock:
            nid = max([n["id"] for n in self.db["notes"]] + [mr["id"] * 100]) + 1
            note = {
                "id": nid,
                "type": None,
                "body": body,
                "author": self.db["users"][TOKEN_USER],
                "created_at": NOW,
                "updated_at": NOW,
                "system": False,
                "noteable_id": mr["id"],
                "noteable_type": "MergeRequest",
                "noteable_iid": mr["iid"],
                "resolvable": False,
                "confidential": False,
                "internal": False,
            }
            self.db["notes"].append(note)
            mr["user_notes_count"] += 1
        return json_response(note, 201)

    def list_pipelines(self, req: Request) -> Response:
        if not (project := self.project(req)):
            return _not_found("Project Not Found")
        found = [
            p
            for p in self.db["pipelines"].values()
            if p["project_id"] == project["id"]
            and req.arg("status") in (None, p["status"])
            and req.arg("ref") in (None, p["ref"])
        ]
        keys = (
            "id",
            "iid",
            "project_id",
            "sha",
            "ref",
            "status",
            "source",
            "created_at",
            "updated_at",
            "web_url",
        )
        return _paged(req, [{k: p[k] for k in keys} for p in sorted(found, key=lambda p: -p["id"])])

    def get_pipeline(self, req: Request) -> Response:
        project = self.project(req)
        pipeline = self.db["pipelines"].get(int(req.params["pid"])) if req.params["pid"].isdigit() else None
        if not project or not pipeline or pipeline["project_id"] != project["id"]:
            return _not_found("Project Not Found" if not project else "Not found")
        return json_response(pipeline)

    def pipeline_jobs(self, req: Request) -> Response:
        if not (project := self.project(req)):
            return _not_found("Project Not Found")
        pid, scopes = int(req.params["pid"]), req.args("scope")
        if pid not in self.db["pipelines"] or self.db["pipelines"][pid]["project_id"] != project["id"]:
            return _not_found("Not found")
        found = [
            j
            for j in self.db["jobs"].values()
            if j["pipeline"]["id"] == pid and (not scopes or j["status"] in scopes)
        ]
        return _paged(req, sorted(found, key=lambda j: j["id"]))

    def get_job(self, req: Request) -> Response:
        project = self.project(req)
        job = self.job(req, project) if project else None
        return (
            json_response(_public(job))
            if job
            else _not_found("Project Not Found" if not project else "Not found")
        )

    def job_trace(self, req: Request) -> Response:
        project = self.project(req)
        job = self.job(req, project) if project else None
        if not job:
            return _not_found("Project Not Found" if not project else "Not found")
        return Response(200, job["_trace"].encode(), "text/plain; charset=utf-8")

    def get_file(self, req: Request) -> Response:
        if not (project := self.project(req)):
            return _not_found("Project Not Found")
        ref = req.arg("ref")
        if not ref:
            return json_response({"error": "ref is missing"}, 400)
        branches = self.db["branches"][project["id"]]
        content = self.db["files"][project["path_with_namespace"]].get(req.params["path"])
        if ref not in branches and not any(c["id"] == ref for c in self.db["commits"][project["id"]]):
            return _not_found("Commit Not Found")
        if content is None:
            return _not_found("File Not Found")
        raw = content.encode()
        head = self.db["commits"][project["id"]][0]["id"]
        return json_response(
            {
                "file_name": req.params["path"].rsplit("/", 1)[-1],
                "file_path": req.params["path"],
                "size": len(raw),
                "encoding": "base64",
                "content_sha256": hashlib.sha256(raw).hexdigest(),
                "ref": ref,
                "blob_id": hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest(),
                "commit_id": head,
                "last_commit_id": head,
                "execute_filemode": False,
                "content": base64.b64encode(raw).decode(),
            }
        )

    def _commits_on(self, project: dict[str, Any], ref: str) -> list[dict[str, Any]]:
        """Commits reachable from a branch name or a commit sha (full or at least 7 characters)."""
        commits = self.db["commits"][project["id"]]
        if len(ref) >= 7 and all(ch in "0123456789abcdef" for ch in ref):
            tip = next((c for c in commits if c["id"].startswith(ref)), None)
            if tip is None:
                return []
            line = next((r for r in ("main", *tip["_refs"]) if r in tip["_refs"]), tip["_refs"][0])
            on_line = [c for c in commits if line in c["_refs"]]
            return [c for c in on_line if c["committed_date"] <= tip["committed_date"]]
        if ref in self.db["branches"][project["id"]] and not any(ref in c["_refs"] for c in commits):
            ref = "main"  # branches cut from main without commits of their own
        return [c for c in commits if ref in c["_refs"]]

    def list_commits(self, req: Request) -> Response:
        if not (project := self.project(req)):
            return _not_found("Project Not Found")
        commits = self._commits_on(project, req.arg("ref_name") or project["default_branch"])
        return _paged(req, [{k: v for k, v in c.items() if k != "stats"} for c in commits])

    def get_commit(self, req: Request) -> Response:
        if not (project := self.project(req)):
            return _not_found("Project Not Found")
        sha = req.params["sha"]
        commit = next(
            (
                c
                for c in self.db["commits"][project["id"]]
                if c["id"].startswith(sha)
                and len(sha) >= 7
                or sha in self.db["branches"][project["id"]]
                and c in self._commits_on(project, sha)
            ),
            None,
        )
        return json_response(_public(commit)) if commit else _not_found("Commit Not Found")

    def list_branches(self, req: Request) -> Response:
        if not (project := self.project(req)):
            return _not_found("Project Not Found")
        needle = req.arg("search") or ""
        out = []
        for name in self.db["branches"][project["id"]]:
            head = _public(self._commits_on(project, name)[0])
            head.pop("stats")
            head.pop("trailers")
            out.append(
                {
                    "name": name,
                    "commit": head,
                    "merged": False,
                    "protected": name == "main",
                    "developers_can_push": False,
                    "developers_can_merge": name != "main",
                    "can_push": True,
                    "default": name == "main",
                    "web_url": f"{project['web_url']}/-/tree/{name}",
                }
            )
        return _paged(req, [b for b in out if needle in b["name"]])

    def search(self, req: Request) -> Response:
        if req.arg("scope") != "blobs":
            return json_response({"error": "scope does not have a valid value"}, 400)
        needle = (req.arg("search") or "").lower()
        if not needle:
            return json_response({"error": "search is missing"}, 400)
        scope = [self.project(req)] if "project" in req.params else list(self.db["projects"].values())
        if scope == [None]:
            return _not_found("Project Not Found")
        return _paged(req, [hit for project in scope if project for hit in self._blob_hits(project, needle)])

    def _blob_hits(self, project: dict[str, Any], needle: str) -> list[dict[str, Any]]:
        hits = []
        for path, content in sorted(self.db["files"][project["path_with_namespace"]].items()):
            lines = content.splitlines(keepends=True)
            for n, line in enumerate(lines):
                if needle in line.lower():
                    start = max(n - 1, 0)
                    hits.append(
                        {
                            "basename": path.rsplit(".", 1)[0],
                            "data": "".join(lines[start : n + 2]),
                            "path": path,
                            "filename": path,
                            "id": None,
                            "ref": "main",
                            "startline": start + 1,
                            "project_id": project["id"],
                        }
                    )
                    break  # GitLab returns one snippet per matching file
        return hits

    def list_issues(self, req: Request) -> Response:
        if not (project := self.project(req)):
            return _not_found("Project Not Found")
        state, labels = req.arg("state") or "all", [x for x in (req.arg("labels") or "").split(",") if x]
        needle = (req.arg("search") or "").lower()
        found = [
            i
            for i in self.db["issues"]
            if i["project_id"] == project["id"]
            and state in ("all", i["state"])
            and set(labels) <= set(i["labels"])
            and (needle in (i["title"] + i["description"]).lower())
        ]
        return _paged(req, sorted(found, key=lambda i: i["created_at"], reverse=True))

    def get_issue(self, req: Request) -> Response:
        if not (project := self.project(req)):
            return _not_found("Project Not Found")
        issue = next(
            (
                i
                for i in self.db["issues"]
                if i["project_id"] == project["id"] and str(i["iid"]) == req.params["iid"]
            ),
            None,
        )
        return json_response(issue) if issue else _not_found("Not found")

    def create_issue(self, req: Request) -> Response:
        if not (project := self.project(req)):
            return _not_found("Project Not Found")
        form = req.form()
        if not str(form.get("title") or "").strip():
            return json_response({"error": "title is missing"}, 400)
        with self.lock:
            mine = [i for i in self.db["issues"] if i["project_id"] == project["id"]]
            iid = max([i["iid"] for i in mine] + [0]) + 1
            path = project["path_with_namespace"]
            labels = form.get("labels") or []
            issue = {
                **mine[0],
                "id": project["id"] * 1000 + iid,
                "iid": iid,
                "title": form["title"],
                "description": form.get("description") or "",
                "state": "opened",
                "created_at": NOW,
                "updated_at": NOW,
                "closed_at": None,
                "closed_by": None,
                "author": self.db["users"][TOKEN_USER],
                "labels": labels.split(",") if isinstance(labels, str) else list(labels),
                "user_notes_count": 0,
                "web_url": f"{project['web_url']}/-/issues/{iid}",
                "references": {"short": f"#{iid}", "full": f"{path}#{iid}"},
            }
            self.db["issues"].append(issue)
            project["open_issues_count"] += 1
        return json_response(issue, 201)


def start(host: str = "127.0.0.1", port: int = 0) -> RunningFake:
    """A fresh fake GitLab with the seeded data; returns once it accepts connections."""
    return serve(_GitLab().dispatch, host=host, port=port, settings=lambda url: {"url": url, "token": TOKEN})


if __name__ == "__main__":
    run_standalone(start, "fake GitLab REST v4")
