"""Compact result shapes for the Jira tools: the fields a model needs, not Jira's full payload.

TypedDicts (from typing_extensions: pydantic requires it on Python < 3.12) so
each tool publishes an outputSchema. Times are ISO 8601 strings as Jira sends
them (`2026-02-11T09:14:00.000+0000`); people are email addresses (or the
display name when Jira hides the email).
"""

from __future__ import annotations

from typing import Literal

from typing_extensions import TypedDict

Priority = Literal["Highest", "High", "Medium", "Low", "Lowest"]


class IssueSummary(TypedDict):
    key: str
    summary: str
    status: str
    issue_type: str
    priority: str | None
    assignee: str | None
    labels: list[str]
    created: str
    updated: str


class Issue(IssueSummary):
    project: str
    description: str | None
    reporter: str | None
    assignee_name: str | None
    resolution: str | None
    resolved: str | None
    comment_count: int
    url: str


class SearchResult(TypedDict):
    total: int | None
    start_at: int
    max_results: int
    next_start_at: int | None
    issues: list[IssueSummary]


class Comment(TypedDict):
    id: str
    author: str | None
    author_name: str | None
    body: str
    created: str


class CommentPage(TypedDict):
    issue: str
    start_at: int
    next_start_at: int | None
    comments: list[Comment]


class Transition(TypedDict):
    id: str
    name: str
    to_status: str


class Project(TypedDict):
    key: str
    name: str
    description: str | None
    lead: str | None
    project_type: str | None


class User(TypedDict):
    username: str | None
    email: str | None
    display_name: str | None
    active: bool
