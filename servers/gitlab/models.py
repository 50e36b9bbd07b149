"""Compact result shapes for the GitLab tools: the fields a model needs, not GitLab's full payload.

TypedDicts (from typing_extensions: pydantic requires it on Python < 3.12) so
each tool publishes an outputSchema. Times are ISO 8601 UTC strings, durations
seconds, sizes bytes; `author` and similar fields are GitLab usernames.
"""

from __future__ import annotations

from typing import Literal

from typing_extensions import TypedDict

MergeRequestState = Literal["opened", "closed", "merged", "locked"]
PipelineStatus = Literal[
    "created",
    "waiting_for_resource",
    "preparing",
    "pending",
    "running",
    "success",
    "failed",
    "canceled",
    "skipped",
    "manual",
    "scheduled",
]


class ProjectSummary(TypedDict):
    id: int
    path: str
    description: str | None
    default_branch: str | None
    visibility: str
    web_url: str
    last_activity_at: str


class Project(ProjectSummary):
    name: str
    topics: list[str]
    star_count: int
    forks_count: int
    open_issues_count: int | None
    archived: bool
    created_at: str


class MergeRequestSummary(TypedDict):
    iid: int
    title: str
    state: MergeRequestState
    draft: bool
    author: str
    source_branch: str
    target_branch: str
    created_at: str
    updated_at: str
    web_url: str


class MergeRequest(MergeRequestSummary):
    description: str | None
    assignees: list[str]
    reviewers: list[str]
    labels: list[str]
    merged_at: str | None
    merged_by: str | None
    closed_at: str | None
    sha: str | None
    merge_status: str | None
    pipeline_id: int | None
    pipeline_status: PipelineStatus | None
    user_notes_count: int


class FileChange(TypedDict):
    old_path: str
    new_path: str
    new_file: bool
    deleted_file: bool
    renamed_file: bool
    diff: str


class Note(TypedDict):
    id: int
    author: str
    body: str
    created_at: str
    system: bool


class PipelineSummary(TypedDict):
    id: int
    status: PipelineStatus
    ref: str
    sha: str
    source: str | None
    created_at: str
    web_url: str


class Pipeline(PipelineSummary):
    user: str | None
    started_at: str | None
    finished_at: str | None
    duration: int | None
    queued_duration: float | None


class Job(TypedDict):
    id: int
    name: str
    stage: str
    status: PipelineStatus
    failure_reason: str | None
    allow_failure: bool
    duration: float | None
    started_at: str | None
    finished_at: str | None
    web_url: str


class FileContent(TypedDict):
    path: str
    ref: str
    size: int
    last_commit_id: str
    content: str


class CommitSummary(TypedDict):
    id: str
    short_id: str
    title: str
    author_name: str
    authored_date: str
    web_url: str


class Commit(CommitSummary):
    message: str
    parent_ids: list[str]
    committed_date: str
    additions: int | None
    deletions: int | None


class Branch(TypedDict):
    name: str
    commit_id: str
    commit_title: str
    default: bool
    protected: bool
    merged: bool
    web_url: str


class SearchHit(TypedDict):
    project_id: int
    path: str
    ref: str
    startline: int
    data: str


class IssueSummary(TypedDict):
    iid: int
    title: str
    state: Literal["opened", "closed"]
    author: str
    labels: list[str]
    assignees: list[str]
    created_at: str
    updated_at: str
    closed_at: str | None
    web_url: str


class Issue(IssueSummary):
    description: str | None
    user_notes_count: int
