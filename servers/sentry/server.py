"""The Sentry MCP server: tool definitions over `SentryClient`. No I/O at construction.

Every tool works inside one organisation (SENTRY_ORG). Issues are named by
their numeric id ("6230500201") or short id ("ORDERS-API-3B"); projects by slug
("orders-api"); releases by version ("orders-api@1.8.0"). List tools page with
an opaque `cursor`: pass a result's `next_cursor` back to get the next page;
`next_cursor` is null on the last page.
"""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from servers._toolkit import IDEMPOTENT_WRITE, READ, page_size, tool_registrar

from . import models as m
from .client import BackendError, SentryClient
from .settings import Settings

__all__ = ["build_server"]

# Resolving changes an issue's status but deletes nothing (it can be unresolved in Sentry's UI),
# and resolving a resolved issue changes nothing more.
RESOLVE = IDEMPOTENT_WRITE

IssueId = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$",
        max_length=64,
        description="Issue id: numeric ('6230500201') or short id ('ORDERS-API-3B'), from list_issues",
    ),
]
ProjectSlug = Annotated[
    str | None,
    Field(
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="Only this project: its slug from list_projects, e.g. 'orders-api'; default all",
    ),
]
Limit = Annotated[int, Field(ge=1, le=100, description="Items per page, 1-100; default 25")] | None
Cursor = Annotated[
    str | None, Field(max_length=200, description="next_cursor from the previous page; omit for the first")
]
MaxFrames = Annotated[
    int, Field(ge=0, le=200, description="Keep at most this many innermost frames per exception")
]


def build_server(settings: Settings) -> MCPServer:
    sentry = SentryClient(settings)
    server = MCPServer(
        name="sentry",
        instructions=(
            f"Sentry organisation '{settings.org}': error tracking and crash reporting for applications. "
            "Issues (errors, exceptions and crashes grouped by cause), their events with stack traces "
            "(tracebacks), tags (release, environment, browser), releases (deployed versions) with their "
            "last commit; resolve issues."
        ),
    )

    # Each tool is registered with our own errors turned into the SDK's ToolError (servers/_toolkit.py).
    tool = tool_registrar(server, BackendError)

    @tool(READ)
    def list_projects(cursor: Cursor = None) -> m.ProjectPage:
        """List the organisation's Sentry projects (one per service), by slug.

        Each item: id, slug (use as `project` in list_issues / list_releases, e.g.
        'orders-api'), name, platform (python, javascript-react, ...), teams (team
        slugs), date_created, first_event, latest_release (a version, or null).
        """
        return sentry.list_projects(cursor)

    @tool(READ)
    def list_issues(
        query: Annotated[
            str,
            Field(
                max_length=500,
                description="Sentry search syntax, e.g. 'is:unresolved level:error', "
                "'is:resolved', 'release:orders-api@1.8.0', 'TypeError'; '' for every issue",
            ),
        ] = "is:unresolved",
        project: ProjectSlug = None,
        sort: Annotated[
            Literal["date", "freq", "new"],
            Field(description="date: last seen, newest first; freq: most events; new: first seen, newest"),
        ] = "date",
        limit: Limit = None,
        cursor: Cursor = None,
        include_first_release: Annotated[
            bool, Field(description="Fill first_release (one extra request per issue); False for long lists")
        ] = True,
    ) -> m.IssuePage:
        """Search issues (errors grouped by cause) across the organisation or one project.

        Default: unresolved issues, most recently seen first. Each issue: id, short_id,
        title ('TypeError: ...'), culprit (where it raised), level (fatal|error|warning|info|debug),
        status (unresolved|resolved|ignored), substatus, count (events), user_count, first_seen,
        last_seen, project (slug), permalink, first_release (version the issue first appeared in,
        e.g. 'orders-api@1.8.0'; see get_release for its commit). Page on with next_cursor.
        Example: list_issues(project='orders-api', limit=1) -> the newest unresolved issue.
        """
        return sentry.list_issues(
            query, project, sort, page_size(limit, settings.per_page), cursor, include_first_release
        )

    @tool(READ)
    def get_issue(issue_id: IssueId) -> m.Issue:
        """One issue in full: the fields of list_issues plus the exception type and value,
        platform, priority (high|medium|low), is_unhandled, assigned_to, and first_release /
        last_release (versions; get_release gives a release's commit). Use get_latest_event for
        its stack trace and list_issue_tags for where it happens."""
        return sentry.get_issue(issue_id)

    @tool(READ)
    def list_issue_tags(
        issue_id: IssueId,
        keys: Annotated[
            list[str] | None,
            Field(max_length=20, description="Only these tag keys, e.g. ['release', 'environment']"),
        ] = None,
    ) -> list[m.IssueTag]:
        """How an issue's events spread over tag values: for each tag key (release, environment,
        browser, server_name, transaction, user, ...) total_values (events with the tag) and
        top_values, its 5 most common values with their event counts, most common first.
        Example: list_issue_tags('ORDERS-API-3B', keys=['release']) -> which releases it hits."""
        return sentry.list_issue_tags(issue_id, keys)

    @tool(READ)
    def get_latest_event(issue_id: IssueId, max_frames: MaxFrames = 30) -> m.Event:
        """The issue's most recent event, with its stack trace.

        exceptions: the exception chain, the raised one last; each with type, value, module and
        frames ordered oldest call first, so the innermost frame (where it raised) is LAST. A
        frame: filename, function, lineno, context_line (the source line), in_app (your code vs a
        library). Only the innermost max_frames are kept; frames_omitted counts the rest. Also:
        event_id, date_created, release, environment, user, tags, culprit.
        """
        return sentry.get_event(issue_id, "latest", max_frames)

    @tool(READ)
    def get_event(
        issue_id: IssueId,
        event_id: Annotated[
            str,
            Field(
                pattern=r"^([0-9a-f]{32}|latest|oldest|recommended)$",
                description="A 32-hex event_id from list_issue_events, or latest | oldest | recommended",
            ),
        ],
        max_frames: MaxFrames = 30,
    ) -> m.Event:
        """One event of an issue with its stack trace, in the same shape as get_latest_event.
        'oldest' gives the first occurrence, e.g. to compare with the latest."""
        return sentry.get_event(issue_id, event_id, max_frames)

    @tool(READ)
    def list_issue_events(issue_id: IssueId, limit: Limit = None, cursor: Cursor = None) -> m.EventPage:
        """The events (occurrences) of an issue, newest first: event_id (for get_event),
        date_created, title, message, release, environment, user. Page on with next_cursor."""
        return sentry.list_issue_events(issue_id, page_size(limit, settings.per_page), cursor)

    @tool(RESOLVE)
    def resolve_issue(issue_id: IssueId) -> m.ResolvedIssue:
        """Mark an issue resolved (Sentry reopens it as a regression if it happens again).

        Returns id, short_id, title, status ('resolved') and permalink. Idempotent: resolving a
        resolved issue changes nothing. Needs a token with the event:write scope.
        """
        return sentry.resolve_issue(issue_id)

    @tool(READ)
    def list_releases(
        project: ProjectSlug = None,
        query: Annotated[
            str | None, Field(max_length=200, description="Part of the version, e.g. '1.8' or 'orders-api@'")
        ] = None,
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> m.ReleasePage:
        """List releases (deployed versions), newest first, optionally for one project.

        Each: version (e.g. 'orders-api@1.8.0'), date_created, date_released, projects (slugs),
        new_groups (issues first seen in it), commit_count, last_commit {id (the git sha, e.g.
        for gitlab.get_commit), message, repository (e.g. 'infra/api'), author, date_created},
        last_deploy {environment, date_finished}.
        """
        return sentry.list_releases(project, query, page_size(limit, settings.per_page), cursor)

    @tool(READ)
    def get_release(
        version: Annotated[
            str, Field(min_length=1, max_length=200, description="Release version, e.g. 'orders-api@1.8.0'")
        ],
    ) -> m.Release:
        """One release by version, in the shape of list_releases: its last_commit (sha, message,
        repository) links an issue's first_release to the code change behind it."""
        return sentry.get_release(version)

    return server
