"""Renders the fake's compact records into Jira Server REST v2 JSON (the shapes the `jira` library reads).

Every `self` link points back at the fake (the base URL comes from the request's
Host header), because the library follows them: `Issue.update()` PUTs to the
issue's `self` URL.
"""

from __future__ import annotations

from typing import Any

from .fake_data import ISSUE_TYPES, PRIORITIES, PROJECTS, STATUSES, TRANSITIONS, USERS

__all__ = [
    "FIELDS",
    "comment_json",
    "error_body",
    "field_list",
    "issue_json",
    "project_json",
    "transition_json",
    "transitions_from",
    "user_json",
]

API = "/rest/api/2"
ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"

# GET /rest/api/2/field: (id, name, JQL clause names, schema type). The library builds
# its field-name cache from clauseNames before every search.
FIELDS: list[tuple[str, str, list[str], str]] = [
    ("summary", "Summary", ["summary"], "string"),
    ("description", "Description", ["description"], "string"),
    ("issuetype", "Issue Type", ["issuetype", "type"], "issuetype"),
    ("project", "Project", ["project"], "project"),
    ("status", "Status", ["status"], "status"),
    ("priority", "Priority", ["priority"], "priority"),
    ("labels", "Labels", ["labels"], "array"),
    ("assignee", "Assignee", ["assignee"], "user"),
    ("reporter", "Reporter", ["reporter"], "user"),
    ("creator", "Creator", ["creator"], "user"),
    ("created", "Created", ["created", "createdDate"], "datetime"),
    ("updated", "Updated", ["updated", "updatedDate"], "datetime"),
    ("resolution", "Resolution", ["resolution"], "resolution"),
    ("resolutiondate", "Resolved", ["resolved", "resolutiondate"], "datetime"),
    ("comment", "Comment", ["comment"], "comments-page"),
    ("issuekey", "Key", ["id", "issue", "issuekey", "key"], "string"),
]


def error_body(*messages: str, **errors: str) -> dict[str, Any]:
    """Jira's error shape: errorMessages for the request, errors per field."""
    return {"errorMessages": list(messages), "errors": errors}


def field_list() -> list[dict[str, Any]]:
    return [
        {
            "id": fid,
            "name": name,
            "custom": False,
            "orderable": fid not in ("issuekey", "created", "updated", "status", "creator"),
            "navigable": fid != "comment",
            "searchable": True,
            "clauseNames": clauses,
            "schema": {"type": kind, "system": fid},
        }
        for fid, name, clauses, kind in FIELDS
    ]


def user_json(base: str, username: str | None) -> dict[str, Any] | None:
    if username is None:
        return None
    display, tz, _ = USERS[username]
    number = list(USERS).index(username) + 10100
    return {
        "self": f"{base}{API}/user?username={username}",
        "key": f"JIRAUSER{number}",
        "name": username,
        "emailAddress": f"{username}@acme.example",
        "avatarUrls": {"48x48": f"{base}/secure/useravatar?ownerId=JIRAUSER{number}"},
        "displayName": display,
        "active": True,
        "timeZone": tz,
    }


def status_json(base: str, name: str) -> dict[str, Any]:
    sid, description, cat_id, cat_key, colour, cat_name = STATUSES[name]
    return {
        "self": f"{base}{API}/status/{sid}",
        "description": description,
        "iconUrl": f"{base}/images/icons/statuses/generic.png",
        "name": name,
        "id": sid,
        "statusCategory": {
            "self": f"{base}{API}/statuscategory/{cat_id}",
            "id": cat_id,
            "key": cat_key,
            "colorName": colour,
            "name": cat_name,
        },
    }


def project_ref(base: str, key: str) -> dict[str, Any]:
    pid, name, _, _ = PROJECTS[key]
    return {
        "self": f"{base}{API}/project/{pid}",
        "id": pid,
        "key": key,
        "name": name,
        "projectTypeKey": "software",
        "avatarUrls": {"48x48": f"{base}/secure/projectavatar?pid={pid}"},
    }


def project_json(base: str, key: str, expand: set[str]) -> dict[str, Any]:
    _, _, lead, description = PROJECTS[key]
    out = {
        "expand": "description,lead,issueTypes,url,projectKeys",
        **project_ref(base, key),
        "archived": False,
    }
    if "description" in expand:
        out["description"] = description
    if "lead" in expand:
        out["lead"] = user_json(base, lead)
    if "issueTypes" in expand:
        out["issueTypes"] = [issuetype_json(base, name) for name in ISSUE_TYPES]
    return out


def issuetype_json(base: str, name: str) -> dict[str, Any]:
    tid, description = ISSUE_TYPES[name]
    return {
        "self": f"{base}{API}/issuetype/{tid}",
        "id": tid,
        "description": description,
        "iconUrl": f"{base}/images/icons/issuetypes/{name.lower()}.svg",
        "name": name,
        "subtask": False,
    }


def priority_json(base: str, name: str) -> dict[str, Any]:
    pid = PRIORITIES[name]
    icon = f"{base}/images/icons/priorities/{pid}.svg"
    return {"self": f"{base}{API}/priority/{pid}", "iconUrl": icon, "name": name, "id": pid}


def comment_json(base: str, issue: dict[str, Any], comment: dict[str, Any]) -> dict[str, Any]:
    return {
        "self": f"{base}{API}/issue/{issue['id']}/comment/{comment['id']}",
        "id": comment["id"],
        "author": user_json(base, comment["author"]),
        "body": comment["body"],
        "updateAuthor": user_json(base, comment["author"]),
        "created": comment["created"],
        "updated": comment["updated"],
    }


def issue_json(base: str, issue: dict[str, Any], wanted: set[str] | None = None) -> dict[str, Any]:
    """The issue with all its fields, or only those in `wanted` (None: all)."""
    comments = [comment_json(base, issue, c) for c in issue["comments"]]
    fields: dict[str, Any] = {
        "summary": issue["summary"],
        "description": issue["description"],
        "issuetype": issuetype_json(base, issue["issuetype"]),
        "project": project_ref(base, issue["project"]),
        "status": status_json(base, issue["status"]),
        "priority": priority_json(base, issue["priority"]),
        "labels": issue["labels"],
        "assignee": user_json(base, issue["assignee"]),
        "reporter": user_json(base, issue["reporter"]),
        "creator": user_json(base, issue["reporter"]),
        "created": issue["created"],
        "updated": issue["updated"],
        "resolution": _resolution(base, issue["resolution"]),
        "resolutiondate": issue["resolutiondate"],
        "components": [],
        "fixVersions": [],
        "duedate": None,
        "comment": {"comments": comments, "maxResults": len(comments), "total": len(comments), "startAt": 0},
    }
    if wanted is not None:
        fields = {k: v for k, v in fields.items() if k in wanted}
    return {
        "expand": ISSUE_EXPAND,
        "id": issue["id"],
        "self": f"{base}{API}/issue/{issue['id']}",
        "key": issue["key"],
        "fields": fields,
    }


def transition_json(base: str, transition: tuple[str, str, str, str]) -> dict[str, Any]:
    tid, name, _, to = transition
    return {
        "id": tid,
        "name": name,
        "to": status_json(base, to),
        "hasScreen": False,
        "isGlobal": False,
        "isInitial": False,
        "isAvailable": True,
        "isConditional": False,
        "isLooped": False,
    }


def transitions_from(status: str) -> list[tuple[str, str, str, str]]:
    return [t for t in TRANSITIONS if t[2] == status]


def _resolution(base: str, name: str | None) -> dict[str, Any] | None:
    if name is None:
        return None
    self_url = f"{base}{API}/resolution/10000"
    return {"self": self_url, "id": "10000", "description": "Work has been done.", "name": name}
