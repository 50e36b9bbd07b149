"""Sentry's JSON payloads -> the compact shapes of models.py. Pure functions, no I/O.

Long texts are cut with a visible marker; stack frames keep Sentry's order
(oldest call first, innermost last) and only the innermost `max_frames`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from servers._toolkit import clip

from . import models as m

__all__ = ["event", "event_summary", "issue", "issue_summary", "issue_tags", "project", "release", "version"]

MAX_TEXT = 500  # characters kept of a message, exception value or commit message
MAX_LINE = 300  # characters kept of a source line or an error detail
MAX_EXCEPTIONS = 5  # of a chained exception, the last (outermost, the one raised) are kept
MAX_TAG_VALUES = 5  # most common values kept per tag


def version(release: dict[str, Any] | None) -> str | None:
    return release.get("version") if release else None


def project(raw: dict[str, Any]) -> m.ProjectSummary:
    teams = raw.get("teams") or ([raw["team"]] if raw.get("team") else [])
    return {
        "id": str(raw["id"]),
        "slug": raw["slug"],
        "name": raw.get("name") or raw["slug"],
        "platform": raw.get("platform"),
        "teams": [t["slug"] for t in teams],
        "date_created": raw.get("dateCreated") or "",
        "first_event": raw.get("firstEvent"),
        "latest_release": version(raw.get("latestRelease")),
    }


def issue_summary(raw: dict[str, Any], first_release: str | None) -> m.IssueSummary:
    return {
        "id": str(raw["id"]),
        "short_id": raw.get("shortId") or "",
        "title": clip(raw.get("title"), MAX_TEXT) or "",
        "culprit": raw.get("culprit"),
        "level": raw.get("level") or "error",
        "status": raw.get("status") or "unresolved",
        "substatus": raw.get("substatus"),
        "count": int(raw.get("count") or 0),
        "user_count": int(raw.get("userCount") or 0),
        "first_seen": raw.get("firstSeen"),
        "last_seen": raw.get("lastSeen"),
        "project": (raw.get("project") or {}).get("slug", ""),
        "permalink": raw.get("permalink") or "",
        "first_release": first_release,
    }


def issue(raw: dict[str, Any]) -> m.Issue:
    metadata = raw.get("metadata") or {}
    assignee = raw.get("assignedTo") or {}
    return {
        **issue_summary(raw, version(raw.get("firstRelease"))),
        "type": metadata.get("type"),
        "value": clip(metadata.get("value"), MAX_TEXT),
        "platform": raw.get("platform"),
        "priority": raw.get("priority"),
        "is_unhandled": bool(raw.get("isUnhandled")),
        "assigned_to": assignee.get("email") or assignee.get("name"),
        "last_release": version(raw.get("lastRelease")),
    }


def issue_tags(raw: list[dict[str, Any]]) -> list[m.IssueTag]:
    return [
        {
            "key": tag["key"],
            "total_values": int(tag.get("totalValues") or 0),
            "top_values": [
                {"value": str(v.get("value")), "count": int(v.get("count") or 0)}
                for v in (tag.get("topValues") or [])[:MAX_TAG_VALUES]
            ],
        }
        for tag in raw
    ]


def _tags(raw: dict[str, Any]) -> dict[str, str]:
    return {t["key"]: t["value"] for t in raw.get("tags") or []}


def _user(raw: dict[str, Any] | None) -> str | None:
    if not raw:
        return None
    return raw.get("email") or raw.get("username") or raw.get("id") or raw.get("ip_address")


def event_summary(raw: dict[str, Any]) -> m.EventSummary:
    tags = _tags(raw)
    release = raw.get("release")
    return {
        "event_id": raw.get("eventID") or raw["id"],
        "date_created": raw.get("dateCreated") or "",
        "title": clip(raw.get("title"), MAX_TEXT) or "",
        "message": clip(raw.get("message"), MAX_TEXT) or None,
        "release": version(release) if isinstance(release, dict) else tags.get("release"),
        "environment": tags.get("environment"),
        "user": _user(raw.get("user")),
    }


def event(raw: dict[str, Any], max_frames: int) -> m.Event:
    values = [
        value
        for entry in raw.get("entries") or []
        if entry.get("type") == "exception"
        for value in (entry.get("data") or {}).get("values") or []
    ]
    return {
        **event_summary(raw),
        "issue_id": str(raw.get("groupID") or ""),
        "project_id": str(raw.get("projectID") or ""),
        "platform": raw.get("platform"),
        "culprit": raw.get("culprit"),
        "tags": _tags(raw),
        "exceptions": [_exception(v, max_frames) for v in values[-MAX_EXCEPTIONS:]],
    }


def _exception(raw: dict[str, Any], max_frames: int) -> m.ExceptionInfo:
    frames = list(_frames(raw.get("stacktrace") or raw.get("rawStacktrace") or {}))
    kept = frames[-max_frames:] if max_frames else []
    return {
        "type": raw.get("type"),
        "value": clip(raw.get("value"), MAX_TEXT),
        "module": raw.get("module"),
        "frames": kept,
        "frames_omitted": len(frames) - len(kept),
    }


def _frames(stacktrace: dict[str, Any]) -> Iterator[m.Frame]:
    """Sentry lists frames oldest call first, so the innermost (where it raised) comes last."""
    for frame in stacktrace.get("frames") or []:
        lineno = frame.get("lineNo", frame.get("lineno"))
        # The API sends `context` as [[lineno, line], ...]; a raw event sends `context_line`.
        line = next(
            (text for n, text in frame.get("context") or [] if n == lineno), frame.get("context_line")
        )
        yield {
            "filename": frame.get("filename") or frame.get("absPath"),
            "function": frame.get("function"),
            "lineno": lineno,
            "context_line": clip(line, MAX_LINE),
            "in_app": bool(frame.get("inApp", frame.get("in_app"))),
        }


def release(raw: dict[str, Any]) -> m.Release:
    commit, deploy = raw.get("lastCommit"), raw.get("lastDeploy")
    author = (commit or {}).get("author") or {}
    return {
        "version": raw["version"],
        "short_version": raw.get("shortVersion") or raw["version"],
        "date_created": raw.get("dateCreated") or "",
        "date_released": raw.get("dateReleased"),
        "projects": [p["slug"] for p in raw.get("projects") or []],
        "new_groups": int(raw.get("newGroups") or 0),
        "commit_count": int(raw.get("commitCount") or 0),
        "last_commit": {
            "id": commit["id"],
            "message": clip(commit.get("message"), MAX_TEXT) or "",
            "repository": (commit.get("repository") or {}).get("name"),
            "author": author.get("email") or author.get("name"),
            "date_created": commit.get("dateCreated"),
        }
        if commit
        else None,
        "last_deploy": {"environment": deploy["environment"], "date_finished": deploy.get("dateFinished")}
        if deploy
        else None,
    }
