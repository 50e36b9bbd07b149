"""Talks to Jira REST API v2 with the `jira` library. Imports nothing from `mcp`.

Errors: the library raises `JIRAError` (with `status_code`, parsed `text` and
the `response`) for HTTP failures and for its own refusals (no matching user,
unknown transition name; then `status_code` is None), and lets `requests`
exceptions through for timeouts, refused connections and malformed JSON.
`_translated()` is the ONE place where all of them become `BackendError`,
whose message names the cause and the fix. Never `str(JIRAError)`: it dumps
the request headers, Authorization included.

The library is built lazily, at the first tool call: its constructor fetches
/rest/api/2/serverInfo, and `build_server()` must stay offline. Its retries are
off (`max_retries=0`): on 429/503 it would sleep up to a minute per attempt,
and the model should get the error (with Retry-After) at once instead.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from jira import JIRA, JIRAError

from servers._toolkit import clip

from . import models as m
from .settings import Settings

__all__ = ["JQL_HINT", "BackendError", "JiraClient", "status_message"]

SUMMARY_FIELDS = ("summary", "status", "issuetype", "priority", "assignee", "labels", "created", "updated")
ISSUE_FIELDS = (
    *SUMMARY_FIELDS,
    "project",
    "description",
    "reporter",
    "resolution",
    "resolutiondate",
    "comment",
)
MAX_DESCRIPTION = 4000  # characters; longer texts are cut with a marker
MAX_COMMENT = 2000
POST_SEARCH_ABOVE = 1500  # characters of JQL: longer queries go in a POST body, not the URL

JQL_HINT = (
    "write JQL as clauses joined by AND, optionally followed by ORDER BY, e.g. "
    "'project = API AND status = \"In Progress\" AND assignee = currentUser() ORDER BY created DESC'. "
    'Clauses that work: project = KEY; status = "To Do" / status != Done / '
    'status in ("To Do", "In Progress"); '
    'assignee = currentUser() / assignee = "alice@acme.example" / assignee is EMPTY; labels = name; '
    'priority = High; type = Bug; text ~ "word" / summary ~ "word"; created >= -7d; '
    "ORDER BY created|updated|priority DESC|ASC. Project keys: list_projects()"
)
_WRAPPED = re.compile(r"JiraError HTTP (?P<code>\w+)[^\n]*(?:\n\ttext: (?P<text>[^\n]*))?")
_ISSUE_HINT = "no such issue, or the account cannot see it; find keys with search_issues(jql='project = KEY')"
_USER_HINT = "give the person's email, e.g. alice@acme.example; find_users(query=...) lists matching accounts"


class BackendError(Exception):
    """Jira failed us; the message is safe to show a model (cause + fix, no secrets)."""


def status_message(
    code: int | None, server_message: str, what: str, hint: str, retry_after: str | None = None
) -> str:
    """The text of a BackendError for a failed Jira call (public for tests)."""
    said = server_message[:300] or "no details"
    if code is None:
        return f"Jira could not complete {what}: {said}; {hint}"
    if code == 400:
        return f"Jira refused {what} (400: {said}): {hint}"
    if code == 401:
        return (
            "Jira rejected the credentials (401 Unauthorized): set JIRA_TOKEN to a valid personal access "
            "token (Jira Server/Data Center) or API token, with JIRA_EMAIL set to its account (Jira Cloud)"
        )
    if code == 403:
        return (
            f"Jira answered 403 Forbidden for {what}: the account behind JIRA_TOKEN lacks the permission "
            "for this; ask a Jira admin or the project lead to grant it"
        )
    if code == 404:
        return f"Jira answered 404 for {what}: {hint}"
    if code == 429:
        wait = f"wait {retry_after} s (Retry-After)" if retry_after else "wait a minute"
        return f"Jira is rate-limiting this account (429 Too Many Requests): {wait}, then retry"
    if code >= 500:
        return f"Jira failed with {code} on {what}: a server-side error, retry later"
    return f"Jira refused {what} ({code}: {said}): check the arguments"


class JiraClient:
    def __init__(self, settings: Settings) -> None:
        # No network I/O here: the JIRA object (which fetches serverInfo) is built at the first call.
        self._settings = settings
        self._url = settings.url.rstrip("/")
        self._lock = threading.Lock()
        self._jira: JIRA | None = None

    @property
    def _api(self) -> JIRA:
        with self._lock:
            if self._jira is None:
                self._jira = self._connect()
            return self._jira

    def _connect(self) -> JIRA:
        s, token = self._settings, self._settings.token.get_secret_value()
        try:
            return JIRA(
                server=self._url,
                basic_auth=(s.email, token) if s.email else None,
                token_auth=None if s.email else token,
                timeout=s.timeout,
                max_retries=0,
                logging=False,
            )
        except KeyError:  # serverInfo answered, but without versionNumbers
            raise BackendError(
                "The server at JIRA_URL does not answer like Jira (serverInfo has no version): check JIRA_URL"
            ) from None

    @property
    def _cloud(self) -> bool:
        return self._api.deploymentType == "Cloud"

    @contextmanager
    def _translated(self, what: str, hint: str = "check the arguments") -> Iterator[None]:
        try:
            yield
        except JIRAError as exc:
            code, message = _unwrapped(exc)
            headers = exc.response.headers if exc.response is not None else {}
            raise BackendError(
                status_message(code, message, what, hint, headers.get("Retry-After"))
            ) from None
        except (requests.exceptions.JSONDecodeError, json.JSONDecodeError):
            raise BackendError(
                f"Jira answered {what} with malformed JSON: check that JIRA_URL is the "
                "Jira base URL (not a login page or proxy); if it is, retry later"
            ) from None
        except requests.Timeout:
            raise BackendError(
                f"Jira did not answer within {self._settings.timeout:g} s ({what}): "
                "retry later, narrow the query, or raise JIRA_TIMEOUT"
            ) from None
        except requests.ConnectionError:
            # Messages name the setting, never the URL: a model cannot fix it and must not learn hosts.
            raise BackendError("Cannot connect to Jira: check JIRA_URL and that the server is up") from None
        except requests.RequestException as exc:
            raise BackendError(
                f"The request to Jira failed ({type(exc).__name__}): check JIRA_URL, then retry"
            ) from None

    # --- search and issues ------------------------------------------------------

    def search_issues(self, jql: str, start_at: int, max_results: int) -> m.SearchResult:
        with self._translated(f"the JQL query '{jql}'", JQL_HINT):
            if start_at and self._cloud:
                raise BackendError(
                    "Jira Cloud does not page searches by start_at: narrow the JQL or raise max_results"
                )
            raw = self._api.search_issues(
                jql,
                startAt=start_at,
                maxResults=max_results,
                fields=list(SUMMARY_FIELDS),
                json_result=True,
                use_post=len(jql) > POST_SEARCH_ABOVE,
            )
        issues = [_summary(i) for i in raw.get("issues", [])]
        total, start = raw.get("total"), int(raw.get("startAt", start_at))
        more = total is not None and start + len(issues) < total
        return {
            "total": total,
            "start_at": start,
            "max_results": max_results,
            "next_start_at": start + len(issues) if more and issues else None,
            "issues": issues,
        }

    def get_issue(self, key: str) -> m.Issue:
        with self._translated(f"issue '{key}'", _ISSUE_HINT):
            raw = self._api.issue(key, fields=",".join(ISSUE_FIELDS)).raw
        return self._issue(raw)

    def create_issue(
        self,
        project: str,
        summary: str,
        issue_type: str,
        description: str | None,
        priority: str | None,
        labels: list[str],
        assignee: str | None,
    ) -> m.Issue:
        fields: dict[str, Any] = {
            "project": {"key": project.upper()},
            "issuetype": {"name": issue_type},
            "summary": summary,
            **({"description": description} if description else {}),
            **({"priority": {"name": priority}} if priority else {}),
            **({"labels": labels} if labels else {}),
        }
        if assignee:  # resolved first, so a wrong email creates nothing
            fields["assignee"] = self._user_ref(assignee)
        hint = "check the project key with list_projects() and the issue type (Task, Bug, Story, ...)"
        with self._translated(f"creating an issue in project '{project}'", hint):
            raw = self._api.create_issue(fields=fields).raw
        return self._issue(raw)

    def update_issue(self, key: str, fields: dict[str, Any], label_ops: list[dict[str, str]]) -> m.Issue:
        with self._translated(f"issue '{key}'", _ISSUE_HINT):
            issue = self._api.issue(key, fields="summary")
            issue.update(fields=fields, update={"labels": label_ops} if label_ops else None)
            raw = issue.raw  # update() reloads the issue with all its fields
        return self._issue(raw)

    # --- comments ----------------------------------------------------------------

    def add_comment(self, key: str, body: str) -> m.Comment:
        with self._translated(f"issue '{key}'", _ISSUE_HINT):
            raw = self._api.add_comment(key, body).raw
        return _comment(raw)

    def list_comments(self, key: str, start_at: int, max_results: int) -> m.CommentPage:
        with self._translated(f"issue '{key}'", _ISSUE_HINT):
            found = self._api.comments(key, start_at=start_at, max_results=max_results, order_by="created")
        comments = [_comment(c.raw) for c in found]
        full = len(comments) == max_results
        return {
            "issue": key.upper(),
            "start_at": start_at,
            "next_start_at": start_at + len(comments) if full else None,
            "comments": comments,
        }

    # --- workflow and assignment ---------------------------------------------------

    def list_transitions(self, key: str) -> list[m.Transition]:
        with self._translated(f"issue '{key}'", _ISSUE_HINT):
            raw = self._api.transitions(key)
        return [{"id": str(t["id"]), "name": t["name"], "to_status": t["to"]["name"]} for t in raw]

    def transition_issue(self, key: str, transition: str, comment: str | None) -> m.IssueSummary:
        available = self.list_transitions(key)
        wanted = transition.strip().lower()
        chosen = next((t for t in available if wanted in (t["id"], t["name"].lower())), None)
        chosen = chosen or next((t for t in available if t["to_status"].lower() == wanted), None)
        if chosen is None:
            names = ", ".join(f"'{t['name']}' (to {t['to_status']})" for t in available) or "none"
            raise BackendError(
                f"Issue {key.upper()} has no transition '{transition}' from its current status; "
                f"available now: {names}"
            )
        with self._translated(f"issue '{key}'", _ISSUE_HINT):
            self._api.transition_issue(key, chosen["id"], comment=comment)
        return self.get_summary(key)

    def assign_issue(self, key: str, assignee: str | None) -> m.IssueSummary:
        with self._translated(f"assigning issue '{key}' to '{assignee}'", _USER_HINT):
            self._api.assign_issue(key, assignee)
        return self.get_summary(key)

    def get_summary(self, key: str) -> m.IssueSummary:
        with self._translated(f"issue '{key}'", _ISSUE_HINT):
            return _summary(self._api.issue(key, fields=",".join(SUMMARY_FIELDS)).raw)

    # --- projects and users ----------------------------------------------------------

    def list_projects(self) -> list[m.Project]:
        with self._translated("the project list"):
            found = self._api.projects(expand="description,lead")
        return [_project(p.raw) for p in found]

    def find_users(self, query: str, max_results: int) -> list[m.User]:
        with self._translated(f"the user search '{query}'"):
            found = self._search_users(query, max_results)
        return [_user(u.raw) for u in found]

    def _search_users(self, query: str, max_results: int) -> Any:
        if self._cloud:
            return self._api.search_users(query=query, maxResults=max_results)
        return self._api.search_users(user=query, maxResults=max_results)

    def _user_ref(self, who: str) -> dict[str, str]:
        """`{"name": ...}` (Server) or `{"accountId": ...}` (Cloud) for an email or username."""
        with self._translated(f"the user search '{who}'"):
            found = [u.raw for u in self._search_users(who, 20)]
        exact = [u for u in found if who.lower() in (str(u.get("emailAddress", "")).lower(), u.get("name"))]
        if len(exact) != 1 and len(found) != 1:
            raise BackendError(f"No single Jira user matches '{who}': {_USER_HINT}")
        user = (exact or found)[0]
        return {"accountId": user["accountId"]} if self._cloud else {"name": user["name"]}

    def _issue(self, raw: dict[str, Any]) -> m.Issue:
        f = raw["fields"]
        comments = (f.get("comment") or {}).get("comments") or []
        return {
            **_summary(raw),
            "project": (f.get("project") or {}).get("key", raw["key"].split("-")[0]),
            "description": clip(f.get("description"), MAX_DESCRIPTION),
            "reporter": _person(f.get("reporter")),
            "assignee_name": (f.get("assignee") or {}).get("displayName"),
            "resolution": (f.get("resolution") or {}).get("name"),
            "resolved": f.get("resolutiondate"),
            "comment_count": int((f.get("comment") or {}).get("total", len(comments))),
            "url": f"{self._url}/browse/{raw['key']}",
        }


def _unwrapped(exc: JIRAError) -> tuple[int | None, str]:
    """The status code and Jira's own message.

    The library's user lookup (assign_issue) re-raises any error as
    `JIRAError(str(inner))`: no status code, and a text holding the inner
    error's dump. Recover the code and the message line from that dump.
    """
    text = str(exc.text or "")
    wrapped = _WRAPPED.match(text)
    if exc.status_code is None and wrapped:
        code = int(wrapped["code"]) if wrapped["code"].isdigit() else None
        return code, " ".join((wrapped["text"] or "").split())
    return exc.status_code, " ".join(text.split())


def _person(raw: dict[str, Any] | None) -> str | None:
    if not raw:
        return None
    return raw.get("emailAddress") or raw.get("displayName") or raw.get("name")


def _summary(raw: dict[str, Any]) -> m.IssueSummary:
    f = raw["fields"]
    return {
        "key": raw["key"],
        "summary": f.get("summary") or "",
        "status": (f.get("status") or {}).get("name", ""),
        "issue_type": (f.get("issuetype") or {}).get("name", ""),
        "priority": (f.get("priority") or {}).get("name"),
        "assignee": _person(f.get("assignee")),
        "labels": f.get("labels") or [],
        "created": f.get("created", ""),
        "updated": f.get("updated", ""),
    }


def _comment(raw: dict[str, Any]) -> m.Comment:
    body = raw.get("body")
    return {
        "id": str(raw["id"]),
        "author": _person(raw.get("author")),
        "author_name": (raw.get("author") or {}).get("displayName"),
        "body": clip(body if isinstance(body, str) else json.dumps(body), MAX_COMMENT) or "",
        "created": raw.get("created", ""),
    }


def _project(raw: dict[str, Any]) -> m.Project:
    return {
        "key": raw["key"],
        "name": raw["name"],
        "description": raw.get("description") or None,
        "lead": _person(raw.get("lead")),
        "project_type": raw.get("projectTypeKey"),
    }


def _user(raw: dict[str, Any]) -> m.User:
    return {
        "username": raw.get("name"),
        "email": raw.get("emailAddress"),
        "display_name": raw.get("displayName"),
        "active": bool(raw.get("active", True)),
    }
