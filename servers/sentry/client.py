"""Talks to Sentry's REST API (`/api/0/`) with httpx. Imports nothing from `mcp`.

Sentry has no official Python client for its REST API (sentry-sdk only sends
events), so this module is the client: a sync `httpx.Client` with the token as
`Authorization: Bearer ...`, and Sentry's cursor paging read from the `Link` header
(`rel="next"; results="true"; cursor="..."`). Payloads become compact shapes in shapes.py.

Errors, all translated in ONE place, `_call()`:

    httpx.HTTPStatusError  401/403/404/429/5xx/other -> BackendError (cause + fix)
    httpx.TimeoutException                           -> BackendError (raise SENTRY_TIMEOUT)
    httpx.UnsupportedProtocol, InvalidURL            -> BackendError (fix SENTRY_URL)
    httpx.ConnectError     refused, DNS              -> BackendError (check SENTRY_URL)
    httpx.TransportError   broken mid-answer         -> BackendError (retry later)
    ValueError             body is not JSON           -> BackendError (not Sentry? retry)

The message never contains the token: it names the URL, the object asked for and
the tool that lists valid ids.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx

from servers._toolkit import clip

from . import models as m
from . import shapes
from .settings import Settings

__all__ = ["BackendError", "SentryClient", "status_message"]

API = "/api/0"
RELEASE_WORKERS = 4  # parallel issue-detail requests when list_issues fills in first releases

_ISSUES_HINT = "find valid ids (numeric, or short ids like ORDERS-API-3B) with list_issues()"
_RELEASES_HINT = "list valid versions with list_releases()"


class BackendError(Exception):
    """Sentry failed us; the message is safe to show a model (cause + fix, no secrets)."""


@dataclass(frozen=True)
class _Answer:
    data: Any
    next_cursor: str | None


def status_message(code: int, detail: str, what: str, hint: str, retry_after: float | None = None) -> str:
    """The text of a BackendError for an HTTP failure (public for tests)."""
    if code == 401:
        return (
            f"Sentry rejected the token (401: {detail or 'Unauthorized'}): set SENTRY_TOKEN to a valid "
            "auth token with the org:read, project:read and event:read scopes"
        )
    if code == 403:
        return (
            f"Sentry answered 403 for {what}: the token lacks permission "
            "(reads need org:read, project:read, event:read; resolve_issue needs event:write)"
        )
    if code == 404:
        return f"Sentry answered 404 for {what}: {hint}"
    if code == 429:
        wait = f"wait {retry_after:g} seconds" if retry_after is not None else "wait a minute"
        return f"Sentry is rate-limiting this token (429 Too Many Requests): {wait}, then retry"
    if code >= 500:
        return f"Sentry failed with {code} on {what}: a server-side error, retry later"
    return f"Sentry refused the request for {what} ({code}: {detail or 'no detail'}): check the arguments"


class SentryClient:
    def __init__(self, settings: Settings) -> None:
        # No connection and no httpx.Client yet: build_server stays offline and cheap.
        self._url = settings.url.rstrip("/")
        self._org = settings.org
        self._timeout = settings.timeout
        self._token = settings.token
        self._client: httpx.Client | None = None
        self._client_lock = threading.Lock()

    @property
    def _http(self) -> httpx.Client:
        """Made at first use: building the TLS context takes ~0.1 s that build_server need not pay."""
        with self._client_lock:
            if self._client is None:
                self._client = httpx.Client(
                    base_url=self._url + API,
                    headers={
                        "Authorization": f"Bearer {self._token.get_secret_value()}",
                        "Accept": "application/json",
                    },
                    timeout=self._timeout,
                    follow_redirects=True,
                )
            return self._client

    # --- the one place where errors are translated ----------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        what: str,
        hint: str,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        expect: type = dict,
    ) -> _Answer:
        try:
            response = self._http.request(method, path, params=_clean(params), json=body)
            response.raise_for_status()
            data = response.json()
        except httpx.HTTPStatusError as exc:
            raw = exc.response
            message = status_message(raw.status_code, _detail(raw), what, hint, _retry_after(raw))
            raise BackendError(message) from None
        except httpx.TimeoutException:
            raise BackendError(
                f"Sentry did not answer within {self._timeout:g} s: retry later, or raise SENTRY_TIMEOUT"
            ) from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL):
            raise BackendError("SENTRY_URL is not an http(s) URL: fix SENTRY_URL") from None
        except httpx.ConnectError:
            # Messages name the setting, never the URL: a model cannot fix it and must not learn hosts.
            raise BackendError(
                "Cannot connect to Sentry: check SENTRY_URL and that the server is up"
            ) from None
        except httpx.TransportError as exc:  # the connection broke mid-answer, or a protocol error
            raise BackendError(
                f"The connection to Sentry broke on {what} ({type(exc).__name__}): retry later"
            ) from None
        except ValueError:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise BackendError(
                f"Sentry answered {what} with malformed JSON: "
                "check that SENTRY_URL points at Sentry, then retry later"
            ) from None
        if not isinstance(data, expect):
            raise BackendError(
                f"Sentry answered {what} with an unexpected {type(data).__name__}: "
                "check that SENTRY_URL points at Sentry's API"
            )
        return _Answer(data, _next_cursor(response))

    # --- paths ----------------------------------------------------------------

    def _org_path(self, tail: str = "") -> str:
        return f"/organizations/{quote(self._org, safe='')}/{tail}"

    def _issue_path(self, issue_id: str, tail: str = "") -> str:
        return self._org_path(f"issues/{quote(issue_id, safe='')}/{tail}")

    def _org_what(self) -> tuple[str, str]:
        return f"organisation '{self._org}'", "no such organisation for this token: check SENTRY_ORG"

    # --- projects -------------------------------------------------------------

    def list_projects(self, cursor: str | None) -> m.ProjectPage:
        what, hint = self._org_what()
        answer = self._call(
            "GET",
            self._org_path("projects/"),
            what=f"the projects of {what}",
            hint=hint,
            params={"cursor": cursor},
            expect=list,
        )
        return {"projects": [shapes.project(p) for p in answer.data], "next_cursor": answer.next_cursor}

    def _project_id(self, slug: str) -> str:
        """Sentry filters issues and releases by numeric project id; the model knows slugs."""
        if slug.isdigit():
            return slug
        cursor: str | None = None
        for _ in range(10):  # 1,000 projects: far beyond any organisation we serve
            page = self.list_projects(cursor)
            found = next((p["id"] for p in page["projects"] if p["slug"] == slug), None)
            if found:
                return found
            if not (cursor := page["next_cursor"]):
                break
        raise BackendError(
            f"No Sentry project '{slug}' in organisation '{self._org}': list valid slugs with list_projects()"
        )

    # --- issues ---------------------------------------------------------------

    def list_issues(
        self,
        query: str,
        project: str | None,
        sort: str,
        limit: int,
        cursor: str | None,
        with_first_release: bool,
    ) -> m.IssuePage:
        what, hint = self._org_what()
        params = {"query": query, "sort": sort, "limit": limit, "cursor": cursor}
        if project:
            params["project"] = self._project_id(project)
        answer = self._call(
            "GET",
            self._org_path("issues/"),
            what=f"the issues of {what}",
            hint=hint,
            params=params,
            expect=list,
        )
        releases = self._first_releases([i["id"] for i in answer.data]) if with_first_release else {}
        issues = [shapes.issue_summary(i, releases.get(i["id"])) for i in answer.data]
        return {"issues": issues, "next_cursor": answer.next_cursor}

    def _first_releases(self, issue_ids: list[str]) -> dict[str, str | None]:
        """The issue list carries no firstRelease: read each issue's details, a few at a time."""
        if not issue_ids:
            return {}
        with ThreadPoolExecutor(max_workers=RELEASE_WORKERS) as pool:
            raws = list(pool.map(self._issue_raw, issue_ids))
        return {raw["id"]: shapes.version(raw.get("firstRelease")) for raw in raws}

    def _issue_raw(self, issue_id: str) -> dict[str, Any]:
        answer = self._call("GET", self._issue_path(issue_id), what=f"issue '{issue_id}'", hint=_ISSUES_HINT)
        return answer.data

    def get_issue(self, issue_id: str) -> m.Issue:
        return shapes.issue(self._issue_raw(issue_id))

    def list_issue_tags(self, issue_id: str, keys: list[str] | None) -> list[m.IssueTag]:
        answer = self._call(
            "GET",
            self._issue_path(issue_id, "tags/"),
            what=f"the tags of issue '{issue_id}'",
            hint=_ISSUES_HINT,
            params={"key": keys, "limit": shapes.MAX_TAG_VALUES},
            expect=list,
        )
        return shapes.issue_tags(answer.data)

    def resolve_issue(self, issue_id: str) -> m.ResolvedIssue:
        raw = self._call(
            "PUT",
            self._issue_path(issue_id),
            what=f"issue '{issue_id}'",
            hint=_ISSUES_HINT,
            body={"status": "resolved"},
        ).data
        return {
            "id": str(raw.get("id", issue_id)),
            "short_id": raw.get("shortId") or "",
            "title": raw.get("title") or "",
            "status": raw.get("status") or "resolved",
            "permalink": raw.get("permalink") or "",
        }

    # --- events ---------------------------------------------------------------

    def get_event(self, issue_id: str, event_id: str, max_frames: int) -> m.Event:
        hint = f"list the issue's events with list_issue_events('{issue_id}'), or {_ISSUES_HINT}"
        raw = self._call(
            "GET",
            self._issue_path(issue_id, f"events/{quote(event_id, safe='')}/"),
            what=f"event '{event_id}' of issue '{issue_id}'",
            hint=hint,
        ).data
        return shapes.event(raw, max_frames)

    def list_issue_events(self, issue_id: str, limit: int, cursor: str | None) -> m.EventPage:
        answer = self._call(
            "GET",
            self._issue_path(issue_id, "events/"),
            what=f"the events of issue '{issue_id}'",
            hint=_ISSUES_HINT,
            params={"per_page": limit, "cursor": cursor},
            expect=list,
        )
        return {"events": [shapes.event_summary(e) for e in answer.data], "next_cursor": answer.next_cursor}

    # --- releases -------------------------------------------------------------

    def list_releases(
        self, project: str | None, query: str | None, limit: int, cursor: str | None
    ) -> m.ReleasePage:
        what, hint = self._org_what()
        params = {"query": query, "per_page": limit, "cursor": cursor}
        if project:
            params["project"] = self._project_id(project)
        answer = self._call(
            "GET",
            self._org_path("releases/"),
            what=f"the releases of {what}",
            hint=hint,
            params=params,
            expect=list,
        )
        return {"releases": [shapes.release(r) for r in answer.data], "next_cursor": answer.next_cursor}

    def get_release(self, version: str) -> m.Release:
        raw = self._call(
            "GET",
            self._org_path(f"releases/{quote(version, safe='')}/"),
            what=f"release '{version}'",
            hint=_RELEASES_HINT,
        ).data
        return shapes.release(raw)


# --- HTTP details -------------------------------------------------------------


def _clean(params: dict[str, Any] | None) -> dict[str, Any] | None:
    return {k: v for k, v in params.items() if v is not None} if params else None


def _next_cursor(response: httpx.Response) -> str | None:
    """Sentry always sends a `next` link; `results="true"` says whether it leads anywhere."""
    nxt = response.links.get("next") or {}
    return nxt.get("cursor") if nxt.get("results") == "true" else None


def _detail(response: httpx.Response) -> str:
    """Sentry's error text: `{"detail": "..."}`, or DRF's `{"field": ["..."]}`."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict) and "detail" in body:
        detail = body["detail"]
        text = detail.get("message", "") if isinstance(detail, dict) else str(detail)
    elif isinstance(body, dict):
        text = "; ".join(
            f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in body.items()
        )
    else:
        text = ""
    return clip(text, shapes.MAX_LINE) or ""


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait: Retry-After (seconds or an HTTP date), else Sentry's rate-limit reset time."""
    value = response.headers.get("retry-after")
    if value:
        try:
            return max(float(value), 0)
        except ValueError:
            try:
                return max(round(parsedate_to_datetime(value).timestamp() - time.time()), 0)
            except (TypeError, ValueError):
                pass
    reset = response.headers.get("x-sentry-rate-limit-reset")
    try:
        return max(round(float(reset) - time.time()), 0) if reset else None
    except ValueError:
        return None
