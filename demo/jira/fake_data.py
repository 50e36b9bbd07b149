"""Deterministic seed data for the fake Jira: the Acme Shop organisation, February 2026.

Records are compact (`assignee` is a username, `status` a name); `fake.py`
renders them into Jira REST v2's JSON shapes. `seed()` returns a fresh deep
copy each time, so every running fake owns its data and writes never leak.
"""

from __future__ import annotations

import copy
from typing import Any

TOKEN_USER = "portal-bot"  # whom the Bearer token belongs to

# username -> (display name, time zone, team). Emails are <username>@acme.example.
USERS: dict[str, tuple[str, str, str]] = {
    "alice": ("Alice Moreau", "Europe/Paris", "team-payments"),
    "bob": ("Bob Okafor", "Europe/London", "team-payments"),
    "carol": ("Carol Lindqvist", "Europe/Stockholm", "team-web"),
    "dave": ("Dave Nakamura", "Europe/Berlin", "team-web"),
    "erin": ("Erin Castillo", "Europe/Dublin", "team-platform"),
    "frank": ("Frank Osei", "Europe/London", "team-platform"),
    "grace": ("Grace Kim", "Europe/Amsterdam", "team-data"),
    "heidi": ("Heidi Novak", "Europe/Vienna", "team-data"),
    TOKEN_USER: ("Portal Bot", "UTC", "jira-software-users"),
}

# key -> (id, name, lead, description)
PROJECTS: dict[str, tuple[str, str, str, str]] = {
    "API": ("10000", "Orders API", "alice", "orders-api service (GitLab infra/api), owned by team-payments"),
    "WEB": ("10001", "Web Frontend", "carol", "web-frontend (GitLab infra/web), owned by team-web"),
    "AUTH": ("10002", "Auth Service", "erin", "auth-service (GitLab platform/auth), owned by team-platform"),
    "DATA": ("10003", "ETL Exporter", "grace", "etl-exporter (GitLab data/etl), owned by team-data"),
    "OPS": ("10004", "Operations", "frank", "Incidents and operational work across all services"),
}

# name -> (id, description, category id, category key, colour, category name)
STATUSES: dict[str, tuple[str, str, int, str, str, str]] = {
    "To Do": ("10000", "Work that has not started.", 2, "new", "blue-gray", "To Do"),
    "In Progress": ("3", "Work is under way.", 4, "indeterminate", "yellow", "In Progress"),
    "Done": ("10001", "Work is finished.", 3, "done", "green", "Done"),
}

# The workflow every project uses: (transition id, name, from status, to status).
TRANSITIONS: list[tuple[str, str, str, str]] = [
    ("11", "Start Progress", "To Do", "In Progress"),
    ("21", "Stop Progress", "In Progress", "To Do"),
    ("31", "Done", "In Progress", "Done"),
    ("41", "Reopen", "Done", "To Do"),
]

PRIORITIES: dict[str, str] = {"Highest": "1", "High": "2", "Medium": "3", "Low": "4", "Lowest": "5"}

# name -> (id, description)
ISSUE_TYPES: dict[str, tuple[str, str]] = {
    "Bug": ("10004", "A problem which impairs or prevents the functions of the product."),
    "Task": ("10002", "A task that needs to be done."),
    "Story": ("10001", "A user story."),
    "Epic": ("10000", "A big user story that needs to be broken down."),
    "Incident": ("10005", "An unplanned interruption or reduction in quality of a service."),
}


def _at(day: int, time: str) -> str:
    return f"2026-02-{day:02d}T{time}:00.000+0000"


# key, type, status, priority, assignee, reporter, labels, created, updated, summary, description
# fmt: off
_ISSUES: list[tuple[str, str, str, str, str | None, str, list[str], str, str, str, str | None]] = [
    ("API-10", "Task", "Done", "Low", "bob", "alice", ["ci", "flaky"],
     _at(6, "10:05"), _at(10, "16:42"), "Flaky retry test in test_client.py",
     "test_retry_budget fails about one run in twenty on CI: the fake server answers before the "
     "client's backoff starts.\nFixed in infra/api commit 2c9ee17b (Fix flaky retry test)."),
    ("API-12", "Bug", "In Progress", "High", "alice", "bob", ["billing", "rounding"],
     _at(11, "09:14"), _at(13, "15:20"), "Order totals off by one cent",
     "Order totals with 20% VAT are sometimes one cent lower than the cart shows (cart 53.98, order "
     "53.97).\norder_total() in src/api/orders.py truncates instead of rounding.\nFix under way in "
     "infra/api MR !1 (Round order totals to cents), commit 9937cbae (Add rounding to totals)."),
    ("API-13", "Story", "To Do", "Medium", "bob", "alice", ["api", "reliability"],
     _at(16, "11:30"), _at(16, "11:30"), "Add idempotency keys to POST /orders",
     "Clients retry POST /orders on timeouts and create duplicate orders. Accept an Idempotency-Key "
     "header and replay the first answer for 24 h."),
    ("API-14", "Task", "To Do", "Medium", None, "alice", ["api"],
     _at(18, "08:50"), _at(18, "08:50"), "Lower request timeout to 5 s",
     "REQUEST_TIMEOUT_SECONDS is 30 in production; 5 s matches the upstream SLO."),
    ("WEB-5", "Story", "Done", "Low", "carol", "dave", ["ui"],
     _at(3, "14:00"), _at(9, "17:15"), "Dark mode for the account page",
     "Follow the system colour scheme on /account."),
    ("WEB-7", "Story", "In Progress", "Medium", "carol", "carol", ["frontend", "dependencies"],
     _at(12, "10:00"), _at(19, "12:40"), "Upgrade to React 19",
     "Move web-frontend to React 19. react-query 3 does not support it: migrate to "
     "@tanstack/react-query 5 first."),
    ("WEB-8", "Bug", "To Do", "High", "dave", "carol", ["checkout", "billing"],
     _at(17, "16:25"), _at(17, "16:25"), "Checkout shows wrong total after coupon",
     "After applying a 10% coupon the checkout total is not recomputed until the page reloads."),
    ("AUTH-3", "Task", "To Do", "High", "erin", "frank", ["security"],
     _at(5, "09:00"), _at(5, "09:00"), "Rotate signing keys every 90 days",
     "The OIDC signing key has not been rotated since launch. Automate rotation with a 7-day overlap."),
    ("AUTH-4", "Bug", "Done", "High", "frank", "erin", ["performance"],
     _at(9, "07:10"), _at(14, "18:05"), "Login latency above 2 s at peak",
     "p95 login latency reached 2.4 s between 07:00 and 08:00 UTC. Cause: bcrypt cost 14 on "
     "undersized pods; lowered to 12 and scaled to 6 replicas."),
    ("AUTH-5", "Bug", "In Progress", "Highest", "erin", "frank", ["security"],
     _at(20, "13:45"), _at(24, "10:30"), "Refresh tokens are not revoked on logout",
     "POST /logout deletes the session but the refresh token stays valid until it expires (30 days)."),
    ("DATA-19", "Task", "Done", "Medium", "heidi", "grace", ["dependencies"],
     _at(4, "15:00"), _at(6, "09:20"), "Pin pyarrow to 21.0.0",
     "pyarrow 22 changed the parquet decimal type mapping."),
    ("DATA-21", "Bug", "In Progress", "Highest", "grace", "heidi", ["etl", "oom"],
     _at(24, "03:40"), _at(25, "09:10"), "Nightly export killed (out of memory)",
     "The nightly export job in data/etl (pipeline 77030) is OOM-killed (exit code 137, 4Gi limit). "
     "export() reads a whole day of orders with pd.read_parquet; read it in row groups instead."),
    ("DATA-22", "Story", "To Do", "Low", "heidi", "grace", ["etl"],
     _at(25, "11:00"), _at(25, "11:00"), "Export orders as Parquet instead of CSV",
     "Finance reads the exports with pandas; Parquet halves the size and keeps decimal types."),
    ("OPS-29", "Incident", "Done", "High", "frank", "erin", ["incident", "auth-service"],
     _at(9, "07:05"), _at(9, "09:30"), "Login latency above 2 s",
     "Sentry auth-service: p95 login latency above 2 s. Mitigated by scaling; follow-up in AUTH-4."),
    ("OPS-30", "Incident", "In Progress", "High", "grace", "frank", ["incident", "etl-exporter"],
     _at(24, "03:15"), _at(24, "08:00"), "Export job killed (out of memory)",
     "The 03:00 export did not deliver. Finance notified; follow-up in DATA-21."),
    ("OPS-31", "Incident", "To Do", "Highest", None, "portal-bot", ["incident", "orders-api"],
     _at(26, "09:12"), _at(26, "09:12"), "Elevated 502 rate on /v2/orders",
     "Sentry orders-api: 502 rate above 3% since 09:05 UTC. Needs an owner."),
    ("OPS-32", "Task", "To Do", "Medium", "frank", "frank", ["certificates"],
     _at(27, "10:00"), _at(27, "10:00"), "Renew TLS certificate for api.acme.example",
     "The certificate expires on 2026-03-20."),
]
# fmt: on

# issue key -> [(author, created, body)]
_COMMENTS: dict[str, list[tuple[str, str, str]]] = {
    "API-10": [("bob", _at(10, "16:40"), "Fixed in 2c9ee17b (Fix flaky retry test); 50 green runs since.")],
    "API-12": [
        ("bob", _at(11, "09:20"), "Seen on 14 orders since Feb 9, all with 20% VAT."),
        ("alice", _at(13, "15:20"), "Fix in infra/api MR !1, commit 9937cbae (Add rounding to totals)."),
    ],
    "WEB-7": [("dave", _at(19, "12:40"), "Blocked until we migrate to @tanstack/react-query 5.")],
    "AUTH-5": [("frank", _at(24, "10:30"), "Reproduced on staging; the token table has no revoked_at.")],
    "DATA-21": [
        ("heidi", _at(24, "08:05"), "Job log ends with OOMKilled: container memory limit 4Gi exceeded."),
        ("grace", _at(25, "09:10"), "Row-group reader ready; peak memory 1.1 GiB on the Feb 23 data."),
    ],
    "OPS-30": [("frank", _at(24, "08:00"), "Finance told; re-run scheduled after the fix in DATA-21.")],
}

NEXT_ISSUE_ID = 10200
NEXT_COMMENT_ID = 10400


def _issue(n: int, row: tuple[Any, ...], comment_ids: list[int]) -> dict[str, Any]:
    key, kind, status, priority, assignee, reporter, labels, created, updated, summary, description = row
    done = status == "Done"
    comments = [
        {"id": str(comment_ids.pop(0)), "author": a, "body": b, "created": c, "updated": c}
        for a, c, b in _COMMENTS.get(key, [])
    ]
    return {
        "id": str(10100 + n),
        "key": key,
        "project": key.split("-")[0],
        "issuetype": kind,
        "status": status,
        "priority": priority,
        "assignee": assignee,
        "reporter": reporter,
        "labels": list(labels),
        "created": created,
        "updated": updated,
        "resolution": "Done" if done else None,
        "resolutiondate": updated if done else None,
        "summary": summary,
        "description": description,
        "comments": comments,
    }


def _build() -> dict[str, Any]:
    comment_ids = list(range(10300, 10300 + sum(len(c) for c in _COMMENTS.values())))
    issues = [_issue(n, row, comment_ids) for n, row in enumerate(_ISSUES)]
    # Per-project counters: the next key number continues from the highest seeded one.
    counters = {key: 0 for key in PROJECTS}
    for issue in issues:
        counters[issue["project"]] = max(counters[issue["project"]], int(issue["key"].split("-")[1]))
    return {
        "issues": issues,
        "counters": counters,
        "next_issue_id": NEXT_ISSUE_ID,
        "next_comment_id": NEXT_COMMENT_ID,
    }


_SEED = _build()


def seed() -> dict[str, Any]:
    """A fresh, mutable copy of the seed data."""
    return copy.deepcopy(_SEED)
