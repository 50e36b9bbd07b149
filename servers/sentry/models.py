"""Compact result shapes for the Sentry tools: the fields a model needs, not Sentry's full payload.

TypedDicts (from typing_extensions: pydantic requires it on Python < 3.12) so
each tool publishes an outputSchema. Times are ISO 8601 UTC strings; `count`
is a number of events (Sentry sends it as a string, we convert it), `user_count`
a number of distinct users. Issue `project` fields are project slugs.
"""

from __future__ import annotations

from typing_extensions import TypedDict

__all__ = [
    "Commit",
    "Deploy",
    "Event",
    "EventPage",
    "EventSummary",
    "ExceptionInfo",
    "Frame",
    "Issue",
    "IssuePage",
    "IssueSummary",
    "IssueTag",
    "ProjectPage",
    "ProjectSummary",
    "Release",
    "ReleasePage",
    "ResolvedIssue",
    "TagValue",
]


class ProjectSummary(TypedDict):
    id: str
    slug: str
    name: str
    platform: str | None
    teams: list[str]
    date_created: str
    first_event: str | None
    latest_release: str | None


class ProjectPage(TypedDict):
    projects: list[ProjectSummary]
    next_cursor: str | None


class IssueSummary(TypedDict):
    id: str
    short_id: str
    title: str
    culprit: str | None
    level: str
    status: str
    substatus: str | None
    count: int
    user_count: int
    first_seen: str | None
    last_seen: str | None
    project: str
    permalink: str
    first_release: str | None


class IssuePage(TypedDict):
    issues: list[IssueSummary]
    next_cursor: str | None


class Issue(IssueSummary):
    type: str | None
    value: str | None
    platform: str | None
    priority: str | None
    is_unhandled: bool
    assigned_to: str | None
    last_release: str | None


class TagValue(TypedDict):
    value: str
    count: int


class IssueTag(TypedDict):
    key: str
    total_values: int
    top_values: list[TagValue]


class ResolvedIssue(TypedDict):
    id: str
    short_id: str
    title: str
    status: str
    permalink: str


class Frame(TypedDict):
    filename: str | None
    function: str | None
    lineno: int | None
    context_line: str | None
    in_app: bool


class ExceptionInfo(TypedDict):
    type: str | None
    value: str | None
    module: str | None
    frames: list[Frame]
    frames_omitted: int


class EventSummary(TypedDict):
    event_id: str
    date_created: str
    title: str
    message: str | None
    release: str | None
    environment: str | None
    user: str | None


class EventPage(TypedDict):
    events: list[EventSummary]
    next_cursor: str | None


class Event(EventSummary):
    issue_id: str
    project_id: str
    platform: str | None
    culprit: str | None
    tags: dict[str, str]
    exceptions: list[ExceptionInfo]


class Commit(TypedDict):
    id: str
    message: str
    repository: str | None
    author: str | None
    date_created: str | None


class Deploy(TypedDict):
    environment: str
    date_finished: str | None


class Release(TypedDict):
    version: str
    short_version: str
    date_created: str
    date_released: str | None
    projects: list[str]
    new_groups: int
    commit_count: int
    last_commit: Commit | None
    last_deploy: Deploy | None


class ReleasePage(TypedDict):
    releases: list[Release]
    next_cursor: str | None
