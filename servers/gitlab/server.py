"""The GitLab MCP server: tool definitions over `GitLabClient`. No I/O at construction.

Every tool takes `project` as a path ("infra/api") or a numeric id as a string
("4201"). List tools page with `page` (from 1) and `per_page` (default from
GITLAB_PER_PAGE, 20; max 100): a page shorter than per_page is the last one.
"""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field

from servers._toolkit import ADD, page_size, tool_registrar

from . import models as m
from .client import BackendError, GitLabClient
from .settings import Settings

__all__ = ["build_server"]

READ = ToolAnnotations(read_only_hint=True, open_world_hint=True)
# Notes and issues add data and delete nothing; repeating a call adds a second one.
WRITE = ADD

ProjectRef = Annotated[
    str, Field(min_length=1, description="Project path like 'infra/api', or its numeric id as a string")
]
Iid = Annotated[
    int, Field(ge=1, description="Project-scoped number: the 12 in !12 (merge request) or #12 (issue)")
]
Page = Annotated[int, Field(ge=1, description="Page number, starting at 1")]
PerPage = Annotated[int, Field(ge=1, le=100, description="Items per page, 1-100; default 20")] | None


def build_server(settings: Settings) -> MCPServer:
    gl = GitLabClient(settings)
    server = MCPServer(
        name="gitlab",
        instructions=(
            "GitLab: source code hosting, code review and CI/CD. Repositories (projects, repos), merge "
            "requests (pull requests, PRs: diffs, review comments), CI pipelines, builds and job logs, "
            "files of a repository (README, Dockerfile, configs), commits and history, branches, code "
            "search (grep the source), GitLab issues."
        ),
    )

    # Each tool is registered with our own errors turned into the SDK's ToolError (servers/_toolkit.py).
    tool = tool_registrar(server, BackendError)

    @tool(READ)
    def list_projects(
        search: str | None = None, page: Page = 1, per_page: PerPage = None
    ) -> list[m.ProjectSummary]:
        """List projects (repositories) the token can see, most recently active first; find one by name.

        search: case-insensitive substring of the path or description. Each item:
        id, path (e.g. 'infra/api', usable as `project` elsewhere), description,
        default_branch, visibility (private|internal|public), web_url, last_activity_at.
        """
        return gl.list_projects(search, page, page_size(per_page, settings.per_page))

    @tool(READ)
    def get_project(project: ProjectRef) -> m.Project:
        """Get one project: path, description, default_branch, topics, star/fork/open issue counts,
        archived."""
        return gl.get_project(project)

    @tool(READ)
    def list_merge_requests(
        project: ProjectRef,
        state: Literal["opened", "closed", "merged", "all"] = "opened",
        page: Page = 1,
        per_page: PerPage = None,
    ) -> list[m.MergeRequestSummary]:
        """List a project's merge requests, newest first, filtered by state (default opened).

        Each item: iid (use with get_merge_request), title, state (opened|closed|merged|locked),
        draft, author username, source_branch -> target_branch, created_at, updated_at, web_url.
        """
        return gl.list_merge_requests(project, state, page, page_size(per_page, settings.per_page))

    @tool(READ)
    def get_merge_request(project: ProjectRef, iid: Iid) -> m.MergeRequest:
        """Get one merge request by iid: description, assignees, reviewers, labels, merge status,
        merged_at/merged_by, and its head pipeline (pipeline_id, pipeline_status, e.g. failed;
        null when it has none). Use get_merge_request_changes for the diff."""
        return gl.get_merge_request(project, iid)

    @tool(READ)
    def get_merge_request_changes(project: ProjectRef, iid: Iid) -> list[m.FileChange]:
        """The files a merge request changes, each with old_path, new_path, new/deleted/renamed
        flags and `diff`: a unified diff hunk (lines starting '-' removed, '+' added)."""
        return gl.get_merge_request_changes(project, iid)

    @tool(READ)
    def list_merge_request_notes(
        project: ProjectRef, iid: Iid, page: Page = 1, per_page: PerPage = None
    ) -> list[m.Note]:
        """The discussion on a merge request, oldest first: id, author username, body (Markdown),
        created_at, system (true for GitLab's automatic notes such as 'added 1 commit')."""
        return gl.list_merge_request_notes(project, iid, page, page_size(per_page, settings.per_page))

    @tool(WRITE)
    def create_merge_request_note(
        project: ProjectRef,
        iid: Iid,
        body: Annotated[str, Field(min_length=1, max_length=100_000, description="Comment text, Markdown")],
    ) -> m.Note:
        """Post a comment on a merge request as the token's user; returns the created note.
        Visible to everyone with access to the project. Each call posts a new comment."""
        return gl.create_merge_request_note(project, iid, body)

    @tool(READ)
    def list_pipelines(
        project: ProjectRef,
        status: m.PipelineStatus | None = None,
        ref: Annotated[str | None, Field(description="Branch or tag name")] = None,
        page: Page = 1,
        per_page: PerPage = None,
    ) -> list[m.PipelineSummary]:
        """List a project's CI pipelines, newest first, optionally by status (e.g. failed) or ref.

        Each item: id (use with get_pipeline / list_pipeline_jobs), status, ref, sha, source
        (push|merge_request_event|schedule|...), created_at, web_url.
        """
        return gl.list_pipelines(project, status, ref, page, page_size(per_page, settings.per_page))

    @tool(READ)
    def get_pipeline(project: ProjectRef, pipeline_id: int) -> m.Pipeline:
        """Get one pipeline: status, ref, sha, user, started_at, finished_at, duration and
        queued_duration in seconds (null while running)."""
        return gl.get_pipeline(project, pipeline_id)

    @tool(READ)
    def list_pipeline_jobs(
        project: ProjectRef,
        pipeline_id: int,
        scope: Annotated[
            m.PipelineStatus | None, Field(description="Only jobs in this status, e.g. failed")
        ] = None,
        page: Page = 1,
        per_page: PerPage = None,
    ) -> list[m.Job]:
        """The jobs of a pipeline in stage order: id (use with get_job_log), name, stage, status,
        failure_reason (e.g. script_failure; null unless failed), allow_failure, duration in
        seconds, started_at, finished_at, web_url."""
        return gl.list_pipeline_jobs(
            project, pipeline_id, scope, page, page_size(per_page, settings.per_page)
        )

    @tool(READ)
    def get_job_log(
        project: ProjectRef,
        job_id: int,
        tail_lines: Annotated[int, Field(ge=0, le=10_000, description="Last N lines; 0 = whole log")] = 200,
    ) -> str:
        """A CI job's log as plain text (colour codes removed), by default its last 200 lines,
        which is where a failure (test assertion, dependency error, exit code) usually shows."""
        return gl.get_job_log(project, job_id, tail_lines)

    @tool(READ)
    def get_file_content(
        project: ProjectRef,
        file_path: Annotated[
            str, Field(min_length=1, description="Path in the repository, e.g. 'src/app.py'")
        ],
        ref: Annotated[
            str | None, Field(description="Branch, tag or commit; default: the default branch")
        ] = None,
    ) -> m.FileContent:
        """A file's text content at a ref, with its path, ref, size in bytes and last_commit_id."""
        return gl.get_file_content(project, file_path, ref or gl.default_branch(project))

    @tool(READ)
    def list_commits(
        project: ProjectRef,
        ref: Annotated[
            str | None, Field(description="Branch, tag or sha; default: the default branch")
        ] = None,
        page: Page = 1,
        per_page: PerPage = None,
    ) -> list[m.CommitSummary]:
        """Recent changes: commits reachable from a ref (who changed what, when), newest first:
        id, short_id, title (first line),
        author_name, authored_date, web_url."""
        return gl.list_commits(project, ref, page, page_size(per_page, settings.per_page))

    @tool(READ)
    def get_commit(
        project: ProjectRef, sha: Annotated[str, Field(description="Commit sha (7+ chars) or branch")]
    ) -> m.Commit:
        """One commit: full message, parent_ids, dates, and lines added/deleted."""
        return gl.get_commit(project, sha)

    @tool(READ)
    def list_branches(
        project: ProjectRef, search: str | None = None, page: Page = 1, per_page: PerPage = None
    ) -> list[m.Branch]:
        """A project's branches (optionally whose name contains `search`): name, head commit_id and
        commit_title, default, protected, merged, web_url."""
        return gl.list_branches(project, search, page, page_size(per_page, settings.per_page))

    @tool(READ)
    def search_code(
        query: Annotated[str, Field(min_length=2, description="Text to find in file contents")],
        project: Annotated[
            str | None, Field(description="Limit to one project (path or id); default all")
        ] = None,
        page: Page = 1,
        per_page: PerPage = None,
    ) -> list[m.SearchHit]:
        """Search code: find where a name is defined or used, in file contents on the default
        branch. Each hit: project_id, path, ref, startline
        (1-based line where `data` starts) and data, a few lines around the match."""
        return gl.search_code(query, project, page, page_size(per_page, settings.per_page))

    @tool(READ)
    def list_issues(
        project: ProjectRef,
        state: Literal["opened", "closed", "all"] = "opened",
        labels: Annotated[list[str] | None, Field(description="Only issues having all these labels")] = None,
        search: Annotated[str | None, Field(description="Text in the title or description")] = None,
        page: Page = 1,
        per_page: PerPage = None,
    ) -> list[m.IssueSummary]:
        """List a project's issues, newest first: iid, title, state (opened|closed), author,
        labels, assignees, created_at, updated_at, closed_at, web_url."""
        return gl.list_issues(project, state, labels, search, page, page_size(per_page, settings.per_page))

    @tool(READ)
    def get_issue(project: ProjectRef, iid: Iid) -> m.Issue:
        """One issue by iid, with its description and number of comments."""
        return gl.get_issue(project, iid)

    @tool(WRITE)
    def create_issue(
        project: ProjectRef,
        title: Annotated[str, Field(min_length=1, max_length=255)],
        description: Annotated[str | None, Field(description="Markdown body")] = None,
        labels: list[str] | None = None,
    ) -> m.Issue:
        """File a new issue (ticket, bug report) as the token's user and return it
        (state 'opened', with its iid and
        web_url). Each call creates a new issue: check list_issues(search=...) for duplicates first."""
        return gl.create_issue(project, title, description, labels or [])

    return server
