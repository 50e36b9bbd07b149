"""The Jira MCP server: tool definitions over `JiraClient`. No I/O at construction.

Issues are named by key ("API-12"). People are email addresses. Lists page
with `start_at` (from 0) and `max_results` (default JIRA_MAX_RESULTS, 20; max
100); `next_start_at` is the start_at of the next page, or null on the last.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from servers._toolkit import ADD, READ, page_size, tool_registrar

from . import models as m
from .client import BackendError, JiraClient
from .settings import Settings

__all__ = ["build_server"]

# Creating an issue or a comment adds data and overwrites nothing; a repeated call adds another one.
# Editing fields or the assignee overwrites the old value (destructive); repeating it changes nothing more.
OVERWRITE = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=True
)
# A transition replaces the status, and repeating it fails or moves the issue further: not idempotent.
TRANSITION = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True
)

IssueKey = Annotated[
    str,
    Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*-[1-9][0-9]*$", description="Issue key, e.g. 'API-12'"),
]
StartAt = Annotated[
    int, Field(ge=0, description="Index of the first result, from 0 (next_start_at of a page)")
]
MaxResults = Annotated[int, Field(ge=1, le=100, description="Results per page, 1-100; default 20")] | None
Label = Annotated[str, Field(pattern=r"^\S+$", max_length=255, description="A label (no spaces)")]
Email = Annotated[str, Field(min_length=1, description="The person's email, e.g. 'alice@acme.example'")]


def build_server(settings: Settings) -> MCPServer:
    jira = JiraClient(settings)
    server = MCPServer(
        name="jira",
        instructions=(
            "Jira: issue and project tracking (tickets, bugs, stories, tasks, epics, sprints, boards, "
            "backlog). Find issues with JQL, read them with their comments, file and edit issues, "
            "comment, move them through the workflow (status: to do, in progress, done, fixed, closed), "
            "assign them to people. Issue keys look like PROJ-12; project keys: list_projects()."
        ),
    )

    # Each tool is registered with our own errors turned into the SDK's ToolError (servers/_toolkit.py).
    tool = tool_registrar(server, BackendError)

    @tool(READ)
    def search_issues(
        jql: Annotated[str, Field(max_length=8000, description="A JQL query; see the tool description")],
        start_at: StartAt = 0,
        max_results: MaxResults = None,
    ) -> m.SearchResult:
        """Find issues with a JQL query; one page of compact results plus the total count.

        Example: jql='project = API AND status != Done AND assignee = currentUser() ORDER BY created DESC'.
        Clauses, joined by AND: project = KEY; status = "In Progress" (To Do | In Progress | Done),
        status != Done, status in ("To Do", "In Progress"); assignee = currentUser() (the token's
        account), assignee = "alice@acme.example", assignee is EMPTY; labels = billing; priority = High;
        type = Bug; text ~ "word" (summary, description, comments) or summary ~ "word"; created >= -7d.
        Then optionally ORDER BY created|updated|priority DESC|ASC.
        Each issue: key, summary, status, issue_type, priority, assignee (email), labels, created,
        updated. More pages: call again with start_at=next_start_at (null on the last page).
        Use get_issue(key) for the description and comment count.
        """
        return jira.search_issues(jql, start_at, page_size(max_results, settings.max_results))

    @tool(READ)
    def get_issue(key: IssueKey) -> m.Issue:
        """One issue by key: summary, status, type, priority, assignee (email) and assignee_name,
        reporter, labels, description (cut at 4000 characters with a marker), resolution and
        resolved time, comment_count, created/updated, and url (the browser link).
        Read its comments with list_comments(key)."""
        return jira.get_issue(key)

    @tool(ADD)
    def create_issue(
        project: Annotated[
            str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", description="Project key, e.g. 'API'")
        ],
        summary: Annotated[str, Field(min_length=1, max_length=254, description="One-line title")],
        description: Annotated[
            str | None, Field(max_length=32_000, description="Body, Jira wiki markup")
        ] = None,
        issue_type: Annotated[
            str, Field(min_length=1, description="Issue type name: Task, Bug, Story, Epic, Incident")
        ] = "Task",
        priority: m.Priority | None = None,
        labels: list[Label] | None = None,
        assignee: Annotated[str | None, Field(description="Assignee's email; default: unassigned")] = None,
    ) -> m.Issue:
        """File a new issue (ticket) and return it, with its new key, in status To Do.

        Example: create_issue(project='OPS', summary='Renew TLS certificate', issue_type='Task',
        priority='High', labels=['certificates'], assignee='frank@acme.example').
        Each call creates a new issue: search first (search_issues with summary ~ "...") to avoid
        duplicates. Project keys come from list_projects().
        """
        return jira.create_issue(project, summary, issue_type, description, priority, labels or [], assignee)

    @tool(OVERWRITE)
    def update_issue(
        key: IssueKey,
        summary: Annotated[str | None, Field(min_length=1, max_length=254, description="New title")] = None,
        description: Annotated[
            str | None, Field(max_length=32_000, description="New body (replaces)")
        ] = None,
        priority: m.Priority | None = None,
        labels: Annotated[list[Label] | None, Field(description="Replace all labels with these")] = None,
        add_labels: Annotated[list[Label] | None, Field(description="Labels to add, keeping others")] = None,
        remove_labels: Annotated[list[Label] | None, Field(description="Labels to remove")] = None,
    ) -> m.Issue:
        """Change an issue's summary, description, priority or labels; fields left out stay as they are.
        Returns the updated issue. The old values are overwritten. To change the status use
        transition_issue; the assignee, assign_issue; to add a note, add_comment.
        Example: update_issue(key='API-12', priority='Highest', add_labels=['customer-facing'])."""
        fields: dict[str, Any] = {
            k: v
            for k, v in (("summary", summary), ("description", description), ("labels", labels))
            if v is not None
        }
        if priority:
            fields["priority"] = {"name": priority}
        ops = [{"add": x} for x in add_labels or []] + [{"remove": x} for x in remove_labels or []]
        if not fields and not ops:
            raise ToolError(
                "Nothing to update: give summary, description, priority, labels, add_labels or remove_labels"
            )
        return jira.update_issue(key, fields, ops)

    @tool(ADD)
    def add_comment(
        key: IssueKey,
        body: Annotated[
            str, Field(min_length=1, max_length=32_767, description="Comment text, Jira wiki markup")
        ],
    ) -> m.Comment:
        """Post a comment on an issue as the token's account; returns it (id, author, body, created).
        Visible to everyone who can see the issue. Each call posts a new comment."""
        return jira.add_comment(key, body)

    @tool(READ)
    def list_comments(key: IssueKey, start_at: StartAt = 0, max_results: MaxResults = None) -> m.CommentPage:
        """An issue's comments, oldest first: id, author (email), author_name, body (cut at 2000
        characters with a marker), created. More: call again with start_at=next_start_at (null
        when this page was not full)."""
        return jira.list_comments(key, start_at, page_size(max_results, settings.max_results))

    @tool(READ)
    def list_transitions(key: IssueKey) -> list[m.Transition]:
        """The workflow transitions available for an issue from its current status: id, name (e.g.
        'Start Progress'), to_status (e.g. 'In Progress'). Pass a name or id to transition_issue."""
        return jira.list_transitions(key)

    @tool(TRANSITION)
    def transition_issue(
        key: IssueKey,
        transition: Annotated[
            str,
            Field(
                min_length=1,
                description="Transition name or id from list_transitions (e.g. 'Start Progress', '11'), "
                "or the target status (e.g. 'Done')",
            ),
        ],
        comment: Annotated[str | None, Field(description="Optional comment to add with the change")] = None,
    ) -> m.IssueSummary:
        """Move an issue through its workflow (e.g. To Do -> In Progress -> Done); returns the issue
        with its new status. Only the transitions list_transitions(key) shows are possible now;
        an unknown one is an error listing those available.
        Example: transition_issue(key='API-12', transition='Done', comment='Fixed in 9937cbae').
        """
        return jira.transition_issue(key, transition, comment)

    @tool(OVERWRITE)
    def assign_issue(
        key: IssueKey,
        assignee: Annotated[
            str | None, Field(description="The person's email, e.g. 'bob@acme.example'; null to unassign")
        ],
    ) -> m.IssueSummary:
        """Set (replace) an issue's assignee, or clear it with assignee=null; returns the issue.
        Example: assign_issue(key='OPS-31', assignee='alice@acme.example'). Find people with
        find_users(query)."""
        return jira.assign_issue(key, assignee)

    @tool(READ)
    def list_projects() -> list[m.Project]:
        """Every project the account can see: key (used in JQL 'project = KEY' and issue keys),
        name, description, lead (email), project_type."""
        return jira.list_projects()

    @tool(READ)
    def find_users(
        query: Annotated[str, Field(min_length=1, description="Start of a username, email or name")],
        max_results: MaxResults = None,
    ) -> list[m.User]:
        """Find Jira accounts whose username, email or display name starts with `query`:
        username, email, display_name, active. Use the email with assign_issue or in JQL."""
        return jira.find_users(query, page_size(max_results, settings.max_results))

    return server
