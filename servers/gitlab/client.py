"""Talks to GitLab REST v4 with python-gitlab. Imports nothing from `mcp`.

Errors: python-gitlab raises `GitlabError` subclasses carrying `response_code`
for HTTP failures, and lets `requests` exceptions through for timeouts and
refused connections. `_translated()` is the ONE place where all of them become
`BackendError`, whose message names the cause and the fix and never the token.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import gitlab
import requests
from gitlab.exceptions import GitlabError

from . import models as m
from .settings import Settings

__all__ = ["BackendError", "GitLabClient"]

MAX_PER_PAGE = 100  # GitLab's own ceiling
# Colour codes and GitLab's collapsible-section markers: noise for a model reading a log.
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]|section_(?:start|end):\d+:[\w.-]+\r?")


class BackendError(Exception):
    """GitLab failed us; the message is safe to show a model (cause + fix, no secrets)."""


class _Gitlab(gitlab.Gitlab):
    """python-gitlab, but failing fast on 429 instead of sleeping through up to 10 Retry-After waits."""

    def http_request(self, *args: Any, obey_rate_limit: bool = False, **kwargs: Any) -> requests.Response:
        # mypy cannot see that the keyword was taken out of kwargs by our own signature.
        return super().http_request(*args, obey_rate_limit=obey_rate_limit, **kwargs)  # type: ignore[misc]


def status_message(code: int | None, server_message: str, what: str, hint: str, project: str = "") -> str:
    """The text of a BackendError for an HTTP failure (public for tests)."""
    if code == 401:
        return (
            "GitLab rejected the token (401 Unauthorized): "
            "set GITLAB_TOKEN to a valid token with read_api scope"
        )
    if code == 403:
        return f"GitLab answered 403 for {what}: the token lacks permission (writes need the api scope)"
    if code == 404 and "Project Not Found" in server_message:
        return f"GitLab has no project '{project}' (404): {_find_project(project)}"
    if code == 404:
        return f"GitLab found no {what} (404): {hint}"
    if code == 429:
        return "GitLab is rate-limiting this token (429 Too Many Requests): wait a minute, then retry"
    if code is not None and code >= 500:
        return f"GitLab failed with {code} on {what}: a server-side error, retry later"
    return f"GitLab refused the request for {what} ({code}: {server_message}): check the arguments"


def _find_project(project: str) -> str:
    """How to find the project a 404 could not: search by the last part of its path."""
    term = project.rstrip("/").rsplit("/", 1)[-1]
    if not term or term.isdigit():
        return "list the projects and their ids with list_projects()"
    return f"list candidates with list_projects(search='{term}')"


class GitLabClient:
    def __init__(self, settings: Settings) -> None:
        # Constructing python-gitlab does no network I/O: build_server stays offline.
        self._url = settings.url.rstrip("/")
        self._timeout = settings.timeout
        self._gl = _Gitlab(
            self._url, private_token=settings.token.get_secret_value(), timeout=settings.timeout
        )

    @contextmanager
    def _translated(self, what: str, hint: str = "check the identifier", project: str = "") -> Iterator[None]:
        try:
            yield
        except GitlabError as exc:
            message = str(exc.error_message or "")
            raise BackendError(status_message(exc.response_code, message, what, hint, project)) from None
        except requests.Timeout:
            raise BackendError(
                f"GitLab did not answer within {self._timeout:g} s: retry later or raise GITLAB_TIMEOUT"
            ) from None
        except requests.RequestException:
            # No URL in the message: the model cannot fix it and must not learn internal hosts.
            raise BackendError(
                "Cannot connect to GitLab: check GITLAB_URL and that the server is up"
            ) from None

    def _project(self, project: str) -> Any:
        return self._gl.projects.get(project, lazy=True)  # lazy: no request until a sub-resource is read

    # --- projects -------------------------------------------------------------

    def list_projects(self, search: str | None, page: int, per_page: int) -> list[m.ProjectSummary]:
        with self._translated("the project list"):
            found = self._gl.projects.list(
                search=search, order_by="last_activity_at", page=page, per_page=per_page, get_all=False
            )
        return [_project_summary(p.attributes) for p in found]

    def get_project(self, project: str) -> m.Project:
        with self._translated(f"project '{project}'", project=project):
            raw = self._gl.projects.get(project).attributes
        keys = ("name", "topics", "star_count", "forks_count", "open_issues_count", "archived", "created_at")
        return {**_project_summary(raw), **{k: raw.get(k) for k in keys}}  # type: ignore[typeddict-item]

    # --- merge requests -------------------------------------------------------

    def list_merge_requests(
        self, project: str, state: str, page: int, per_page: int
    ) -> list[m.MergeRequestSummary]:
        with self._translated(f"merge requests of '{project}'", project=project):
            found = self._project(project).mergerequests.list(
                state=state, page=page, per_page=per_page, get_all=False
            )
        return [_mr_summary(x.attributes) for x in found]

    def get_merge_request(self, project: str, iid: int) -> m.MergeRequest:
        with self._translated(f"merge request !{iid} in '{project}'", _mr_hint(project), project):
            raw = self._project(project).mergerequests.get(iid).attributes
        return _merge_request(raw)

    def get_merge_request_changes(self, project: str, iid: int) -> list[m.FileChange]:
        with self._translated(f"merge request !{iid} in '{project}'", _mr_hint(project), project):
            raw = self._project(project).mergerequests.get(iid, lazy=True).changes()
        keys = ("old_path", "new_path", "new_file", "deleted_file", "renamed_file", "diff")
        return [{k: c[k] for k in keys} for c in raw["changes"]]  # type: ignore[misc]

    def list_merge_request_notes(self, project: str, iid: int, page: int, per_page: int) -> list[m.Note]:
        with self._translated(f"merge request !{iid} in '{project}'", _mr_hint(project), project):
            mr = self._project(project).mergerequests.get(iid, lazy=True)
            found = mr.notes.list(
                sort="asc", order_by="created_at", page=page, per_page=per_page, get_all=False
            )
        return [_note(n.attributes) for n in found]

    def create_merge_request_note(self, project: str, iid: int, body: str) -> m.Note:
        with self._translated(f"merge request !{iid} in '{project}'", _mr_hint(project), project):
            note = self._project(project).mergerequests.get(iid, lazy=True).notes.create({"body": body})
        return _note(note.attributes)

    # --- pipelines and jobs ---------------------------------------------------

    def list_pipelines(
        self, project: str, status: str | None, ref: str | None, page: int, per_page: int
    ) -> list[m.PipelineSummary]:
        filters = {k: v for k, v in (("status", status), ("ref", ref)) if v}
        with self._translated(f"pipelines of '{project}'", project=project):
            found = self._project(project).pipelines.list(
                **filters, page=page, per_page=per_page, get_all=False
            )
        return [_pipeline_summary(p.attributes) for p in found]

    def get_pipeline(self, project: str, pipeline_id: int) -> m.Pipeline:
        with self._translated(f"pipeline {pipeline_id} in '{project}'", _pipeline_hint(project), project):
            raw = self._project(project).pipelines.get(pipeline_id).attributes
        user = raw.get("user") or {}
        extra = {k: raw.get(k) for k in ("started_at", "finished_at", "duration", "queued_duration")}
        return {**_pipeline_summary(raw), "user": user.get("username"), **extra}  # type: ignore[typeddict-item]

    def list_pipeline_jobs(
        self, project: str, pipeline_id: int, scope: str | None, page: int, per_page: int
    ) -> list[m.Job]:
        filters = {"scope": [scope]} if scope else {}
        with self._translated(f"pipeline {pipeline_id} in '{project}'", _pipeline_hint(project), project):
            pipeline = self._project(project).pipelines.get(pipeline_id, lazy=True)
            found = pipeline.jobs.list(**filters, page=page, per_page=per_page, get_all=False)
        return [_job(j.attributes) for j in found]

    def get_job_log(self, project: str, job_id: int, tail_lines: int) -> str:
        """The job's log without ANSI colours or section markers; only the last `tail_lines` (0: all)."""
        hint = f"list a pipeline's jobs with list_pipeline_jobs(project='{project}', pipeline_id=...)"
        with self._translated(f"job {job_id} in '{project}'", hint, project):
            raw = self._project(project).jobs.get(job_id, lazy=True).trace()
        text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)
        lines = _ANSI.sub("", text).splitlines()
        return "\n".join(lines[-tail_lines:] if tail_lines else lines)

    # --- repository -----------------------------------------------------------

    def default_branch(self, project: str) -> str:
        return self.get_project(project)["default_branch"] or "main"

    def get_file_content(self, project: str, file_path: str, ref: str) -> m.FileContent:
        hint = (
            "check the path (case-sensitive, no leading '/') and the ref with "
            f"list_branches(project='{project}')"
        )
        with self._translated(f"file '{file_path}' at '{ref}' in '{project}'", hint, project):
            f = self._project(project).files.get(file_path=file_path, ref=ref)
            content = f.decode()
        text = content.decode("utf-8") if isinstance(content, bytes) else str(content)
        return {
            "path": f.file_path,
            "ref": f.ref,
            "size": f.size,
            "last_commit_id": f.last_commit_id,
            "content": text,
        }

    def list_commits(self, project: str, ref: str | None, page: int, per_page: int) -> list[m.CommitSummary]:
        filters = {"ref_name": ref} if ref else {}
        with self._translated(
            f"commits of '{project}'", f"check the ref with list_branches(project='{project}')", project
        ):
            found = self._project(project).commits.list(
                **filters, page=page, per_page=per_page, get_all=False
            )
        return [_commit_summary(c.attributes) for c in found]

    def get_commit(self, project: str, sha: str) -> m.Commit:
        with self._translated(
            f"commit '{sha}' in '{project}'", f"list commits with list_commits(project='{project}')", project
        ):
            raw = self._project(project).commits.get(sha).attributes
        stats = raw.get("stats") or {}
        return {
            **_commit_summary(raw),
            "message": raw["message"],
            "parent_ids": raw["parent_ids"],
            "committed_date": raw["committed_date"],
            "additions": stats.get("additions"),
            "deletions": stats.get("deletions"),
        }

    def list_branches(self, project: str, search: str | None, page: int, per_page: int) -> list[m.Branch]:
        filters = {"search": search} if search else {}
        with self._translated(f"branches of '{project}'", project=project):
            found = self._project(project).branches.list(
                **filters, page=page, per_page=per_page, get_all=False
            )
        return [_branch(b.attributes) for b in found]

    def search_code(self, query: str, project: str | None, page: int, per_page: int) -> list[m.SearchHit]:
        opts = {"page": page, "per_page": per_page}
        with self._translated(f"code search in '{project or 'all projects'}'", project=project or ""):
            target = self._project(project) if project else self._gl
            hits = target.search(gitlab.const.SearchScope.BLOBS, query, **opts)
        keys = ("project_id", "path", "ref", "startline", "data")
        return [{k: h[k] for k in keys} for h in hits]  # type: ignore[misc]

    # --- issues ---------------------------------------------------------------

    def list_issues(
        self, project: str, state: str, labels: list[str] | None, search: str | None, page: int, per_page: int
    ) -> list[m.IssueSummary]:
        filters: dict[str, Any] = {k: v for k, v in (("labels", labels), ("search", search)) if v}
        with self._translated(f"issues of '{project}'", project=project):
            found = self._project(project).issues.list(
                state=state, **filters, page=page, per_page=per_page, get_all=False
            )
        return [_issue_summary(i.attributes) for i in found]

    def get_issue(self, project: str, iid: int) -> m.Issue:
        with self._translated(
            f"issue #{iid} in '{project}'",
            f"list issues with list_issues(project='{project}', state='all')",
            project,
        ):
            raw = self._project(project).issues.get(iid).attributes
        return {
            **_issue_summary(raw),
            "description": raw.get("description"),
            "user_notes_count": raw.get("user_notes_count", 0),
        }

    def create_issue(self, project: str, title: str, description: str | None, labels: list[str]) -> m.Issue:
        data: dict[str, Any] = {"title": title, "labels": labels}
        if description:
            data["description"] = description
        with self._translated(f"project '{project}'", project=project):
            raw = self._project(project).issues.create(data).attributes
        return {
            **_issue_summary(raw),
            "description": raw.get("description"),
            "user_notes_count": raw.get("user_notes_count", 0),
        }


def _mr_hint(project: str) -> str:
    return f"list its merge requests with list_merge_requests(project='{project}', state='all')"


def _pipeline_hint(project: str) -> str:
    return f"list its pipelines with list_pipelines(project='{project}')"


def _user(raw: dict[str, Any] | None) -> str | None:
    return raw["username"] if raw else None


def _project_summary(raw: dict[str, Any]) -> m.ProjectSummary:
    return {
        "id": raw["id"],
        "path": raw["path_with_namespace"],
        "description": raw.get("description"),
        "default_branch": raw.get("default_branch"),
        "visibility": raw.get("visibility", "private"),
        "web_url": raw["web_url"],
        "last_activity_at": raw["last_activity_at"],
    }


def _mr_summary(raw: dict[str, Any]) -> m.MergeRequestSummary:
    keys = ("iid", "title", "state", "source_branch", "target_branch", "created_at", "updated_at", "web_url")
    return {
        **{k: raw[k] for k in keys},  # type: ignore[typeddict-item]
        "draft": bool(raw.get("draft")),
        "author": _user(raw["author"]),
    }


def _merge_request(raw: dict[str, Any]) -> m.MergeRequest:
    pipeline = raw.get("head_pipeline") or {}
    return {
        **_mr_summary(raw),
        "description": raw.get("description"),
        "assignees": [u["username"] for u in raw.get("assignees") or []],
        "reviewers": [u["username"] for u in raw.get("reviewers") or []],
        "labels": raw.get("labels") or [],
        "merged_at": raw.get("merged_at"),
        "merged_by": _user(raw.get("merged_by")),
        "closed_at": raw.get("closed_at"),
        "sha": raw.get("sha"),
        "merge_status": raw.get("detailed_merge_status") or raw.get("merge_status"),
        "pipeline_id": pipeline.get("id"),
        "pipeline_status": pipeline.get("status"),
        "user_notes_count": raw.get("user_notes_count", 0),
    }


def _note(raw: dict[str, Any]) -> m.Note:
    return {
        "id": raw["id"],
        "author": raw["author"]["username"],
        "body": raw["body"],
        "created_at": raw["created_at"],
        "system": raw.get("system", False),
    }


def _pipeline_summary(raw: dict[str, Any]) -> m.PipelineSummary:
    keys = ("id", "status", "ref", "sha", "source", "created_at", "web_url")
    return {k: raw.get(k) for k in keys}  # type: ignore[return-value]


def _job(raw: dict[str, Any]) -> m.Job:
    keys = (
        "id",
        "name",
        "stage",
        "status",
        "failure_reason",
        "allow_failure",
        "duration",
        "started_at",
        "finished_at",
        "web_url",
    )
    return {k: raw.get(k) for k in keys}  # type: ignore[return-value]


def _commit_summary(raw: dict[str, Any]) -> m.CommitSummary:
    keys = ("id", "short_id", "title", "author_name", "authored_date", "web_url")
    return {k: raw[k] for k in keys}  # type: ignore[return-value]


def _branch(raw: dict[str, Any]) -> m.Branch:
    return {
        "name": raw["name"],
        "commit_id": raw["commit"]["id"],
        "commit_title": raw["commit"]["title"],
        "default": raw.get("default", False),
        "protected": raw.get("protected", False),
        "merged": raw.get("merged", False),
        "web_url": raw["web_url"],
    }


def _issue_summary(raw: dict[str, Any]) -> m.IssueSummary:
    keys = ("iid", "title", "state", "labels", "created_at", "updated_at", "closed_at", "web_url")
    return {
        **{k: raw.get(k) for k in keys},  # type: ignore[typeddict-item]
        "author": _user(raw["author"]),
        "assignees": [u["username"] for u in raw.get("assignees") or []],
    }
