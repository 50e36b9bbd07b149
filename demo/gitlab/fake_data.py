"""Deterministic seed data for the fake GitLab, in GitLab REST v4's own field names.

`seed()` returns a fresh deep copy each time, so each running fake owns its data
and writes (notes, issues) never leak from one test into another.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

BASE = "https://gitlab.example.com"

USERS = {
    name: {
        "id": uid,
        "username": name,
        "name": full,
        "state": "active",
        "locked": False,
        "avatar_url": f"{BASE}/uploads/-/system/user/avatar/{uid}/avatar.png",
        "web_url": f"{BASE}/{name}",
    }
    for uid, name, full in [
        (11, "alice", "Alice Moreau"),
        (12, "bob", "Bob Okafor"),
        (13, "carol", "Carol Lindqvist"),
        (14, "dave", "Dave Nakamura"),
        (99, "portal-bot", "Portal Bot"),
    ]
}
TOKEN_USER = "portal-bot"

_FILES: dict[str, dict[str, str]] = {
    "infra/api": {
        "README.md": "# infra/api\n\nOrders REST API (FastAPI). Run `make test`.\n",
        "src/api/orders.py": (
            "from decimal import Decimal\n\n\n"
            "def order_total(lines: list[dict]) -> Decimal:\n"
            '    """Sum of line totals, VAT included."""\n'
            "    subtotal = sum(Decimal(str(l['price'])) * l['qty'] for l in lines)\n"
            "    return (subtotal * Decimal('1.2')).quantize(Decimal('0.01'))\n"
        ),
        "src/api/settings.py": "RETRY_BUDGET = 3\nREQUEST_TIMEOUT_SECONDS = 5\n",
        ".gitlab-ci.yml": "stages: [lint, test, build]\ntest:\n  stage: test\n  script: pytest -q\n",
    },
    "infra/web": {
        "package.json": '{\n  "name": "web",\n  "dependencies": {\n    "react": "^19.0.0",\n'
        '    "react-query": "^3.39.3"\n  }\n}\n',
        "src/App.tsx": "export function App() {\n  return <OrdersPage retryBudget={3} />;\n}\n",
    },
    "platform/auth": {
        "README.md": "# platform/auth\n\nOIDC provider and session service.\n",
        "auth/tokens.py": "ACCESS_TOKEN_TTL_SECONDS = 900\n\n\ndef ttl() -> int:\n"
        "    return ACCESS_TOKEN_TTL_SECONDS\n",
    },
    "data/etl": {
        "etl/export.py": "import pandas as pd\n\n\ndef export(day: str) -> None:\n"
        "    frame = pd.read_parquet(f's3://lake/orders/{day}')\n"
        "    frame.to_csv(f'/exports/{day}.csv')\n",
        "requirements.txt": "pandas==2.3.1\npyarrow==21.0.0\n",
    },
}

_PROJECTS = [
    # id, path, description, topics, stars, created
    (4201, "infra/api", "Orders REST API", ["python", "fastapi"], 14, "2026-01-05T09:00:00.000Z"),
    (4202, "infra/web", "Customer web app", ["typescript", "react"], 9, "2026-01-06T09:00:00.000Z"),
    (
        4310,
        "platform/auth",
        "OIDC provider and session service",
        ["python", "security"],
        21,
        "2026-01-07T09:00:00.000Z",
    ),
    (
        4477,
        "data/etl",
        "Nightly exports to the warehouse",
        ["python", "pandas"],
        3,
        "2026-01-08T09:00:00.000Z",
    ),
]

PYTEST_LOG = """\
\x1b[0KRunning with gitlab-runner 18.4.0 (8e2e5a6f)\x1b[0;m
\x1b[0K  on docker-runner-3 xYz12AbC, system ID: r_4hQ9\x1b[0;m
Preparing the "docker" executor
Using docker image python:3.11-slim
$ pip install -e '.[test]'
Successfully installed api-0.4.0
$ pytest -q
........F....                                                            [100%]
=================================== FAILURES ===================================
____________________________ test_order_total_vat _____________________________

    def test_order_total_vat():
        lines = [{"price": 19.99, "qty": 2}, {"price": 5, "qty": 1}]
>       assert order_total(lines) == Decimal("53.98")
E       AssertionError: assert Decimal('53.97') == Decimal('53.98')
E        +  where Decimal('53.97') = order_total([{'price': 19.99, 'qty': 2}, {'price': 5, 'qty': 1}])

tests/test_orders.py:14: AssertionError
=========================== short test summary info ============================
FAILED tests/test_orders.py::test_order_total_vat - AssertionError: assert Decimal('53.97') == Decimal('53.\
98')
1 failed, 12 passed in 2.41s
Cleaning up project directory and file based variables
ERROR: Job failed: exit code 1
"""

NPM_LOG = """\
Running with gitlab-runner 18.4.0 (8e2e5a6f)
Using docker image node:22-alpine
$ npm ci
npm error code ERESOLVE
npm error ERESOLVE could not resolve
npm error
npm error While resolving: react-query@3.39.3
npm error Found: react@19.0.0
npm error node_modules/react
npm error   react@"^19.0.0" from the root project
npm error
npm error Could not resolve dependency:
npm error peer react@"^16.8.0 || ^17.0.0 || ^18.0.0" from react-query@3.39.3
npm error node_modules/react-query
npm error   react-query@"^3.39.3" from the root project
npm error
npm error Fix the upstream dependency conflict, or retry
npm error this command with --force or --legacy-peer-deps
ERROR: Job failed: exit code 1
"""

OOM_LOG = """\
Running with gitlab-runner 18.4.0 (8e2e5a6f)
Using Kubernetes executor with image python:3.11
$ python -m etl.export --day 2026-03-01
INFO reading s3://lake/orders/2026-03-01 (48 files, 11.2 GiB)
INFO building frame: 212,884,113 rows
/scripts-4477-77103/step_script: line 214:    27 Killed                  python -m etl.export --day 2026-03-01
ERROR: Job failed: command terminated with exit code 137 (OOMKilled: container memory limit 4Gi exceeded)
"""

OK_LOG = "Running with gitlab-runner 18.4.0 (8e2e5a6f)\n$ make check\nall checks passed\nJob succeeded\n"


def _ts(day: int, hour: int, minute: int = 0, month: int = 2) -> str:
    return f"2026-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:00.000Z"


def _sha(seed: int) -> str:
    return hashlib.sha1(f"commit {seed}".encode()).hexdigest()


def _project(pid: int, path: str, desc: str, topics: list[str], stars: int, created: str) -> dict[str, Any]:
    group, name = path.split("/")
    return {
        "id": pid,
        "description": desc,
        "name": name,
        "name_with_namespace": f"{group} / {name}",
        "path": name,
        "path_with_namespace": path,
        "created_at": created,
        "default_branch": "main",
        "tag_list": topics,
        "topics": topics,
        "ssh_url_to_repo": f"git@gitlab.example.com:{path}.git",
        "http_url_to_repo": f"{BASE}/{path}.git",
        "web_url": f"{BASE}/{path}",
        "readme_url": None,
        "forks_count": 1,
        "star_count": stars,
        "last_activity_at": _ts(20 + pid % 7, 16, month=3 - 1),
        "namespace": {"id": pid // 100, "name": group, "path": group, "kind": "group", "full_path": group},
        "visibility": "internal",
        "archived": False,
        "open_issues_count": 0,
        "empty_repo": False,
    }


def _commits(pid: int, path: str) -> list[dict[str, Any]]:
    """Newest first, as GitLab lists them. The `_refs` key is ours: branches containing it."""
    titles = [
        "Initial import",
        "Add CI pipeline",
        "Bump dependencies",
        "Fix flaky retry test",
        "Add rounding to totals",
        "Document settings",
    ]
    authors = ["alice", "bob", "carol", "dave"]
    out = []
    for n, title in enumerate(titles):
        sha, who = _sha(pid * 100 + n), USERS[authors[(pid + n) % 4]]
        parent = [_sha(pid * 100 + n - 1)] if n else []
        date = _ts(1 + n * 3, 10 + n)
        out.append(
            {
                "id": sha,
                "short_id": sha[:8],
                "created_at": date,
                "parent_ids": parent,
                "title": title,
                "message": f"{title}\n",
                "author_name": who["name"],
                "author_email": f"{who['username']}@example.com",
                "authored_date": date,
                "committer_name": who["name"],
                "committer_email": f"{who['username']}@example.com",
                "committed_date": date,
                "web_url": f"{BASE}/{path}/-/commit/{sha}",
                "trailers": {},
                "stats": {"additions": 10 + n * 7, "deletions": n * 3, "total": 10 + n * 10},
                "_refs": ["main", "feature/rounding"] if n < 5 else ["feature/rounding"],
            }
        )
    return out[::-1]


# project, iid, title, state, author, source branch, pipeline id or None, (file, old line, new line), notes
_MRS = [
    (
        "infra/api",
        1,
        "Round order totals to cents",
        "opened",
        "alice",
        "feature/rounding",
        77001,
        (
            "src/api/orders.py",
            "    return subtotal * Decimal('1.2')",
            "    return (subtotal * Decimal('1.2')).quantize(Decimal('0.01'))",
        ),
        [
            ("bob", "Shouldn't this use ROUND_HALF_UP? The test expects 53.98."),
            ("alice", "Good catch, fixing."),
        ],
    ),
    (
        "infra/api",
        2,
        "Raise request timeout to 5 s",
        "merged",
        "bob",
        "timeout-5s",
        77002,
        ("src/api/settings.py", "REQUEST_TIMEOUT_SECONDS = 2", "REQUEST_TIMEOUT_SECONDS = 5"),
        [("carol", "LGTM")],
    ),
    (
        "infra/api",
        3,
        "Draft: Add idempotency keys to POST /orders",
        "opened",
        "carol",
        "idempotency-keys",
        None,
        (
            "src/api/orders.py",
            "from decimal import Decimal",
            "from decimal import Decimal\nfrom uuid import UUID",
        ),
        [],
    ),
    (
        "infra/web",
        1,
        "Upgrade React to 19",
        "opened",
        "dave",
        "upgrade-react-19",
        77010,
        ("package.json", '    "react": "^18.3.1",', '    "react": "^19.0.0",'),
        [("alice", "react-query 3 does not support React 19; we need @tanstack/react-query 5 first.")],
    ),
    (
        "infra/web",
        2,
        "Fix checkout button contrast",
        "merged",
        "alice",
        "checkout-contrast",
        77011,
        ("src/App.tsx", "  return <OrdersPage />;", "  return <OrdersPage retryBudget={3} />;"),
        [],
    ),
    (
        "infra/web",
        3,
        "Remove legacy IE polyfills",
        "closed",
        "bob",
        "drop-ie",
        None,
        ("package.json", '    "core-js": "^2.6.12",', ""),
        [("dave", "Superseded by the Vite migration.")],
    ),
    (
        "platform/auth",
        1,
        "Shorten access token TTL to 15 min",
        "merged",
        "carol",
        "short-ttl",
        77020,
        ("auth/tokens.py", "ACCESS_TOKEN_TTL_SECONDS = 3600", "ACCESS_TOKEN_TTL_SECONDS = 900"),
        [("bob", "Approved.")],
    ),
    (
        "platform/auth",
        2,
        "Add PKCE to the mobile login flow",
        "opened",
        "bob",
        "pkce-mobile",
        77021,
        ("auth/tokens.py", "def ttl() -> int:", "def ttl(client: str = 'web') -> int:"),
        [],
    ),
    (
        "data/etl",
        1,
        "Stream the export in chunks",
        "opened",
        "dave",
        "stream-export",
        77031,
        (
            "etl/export.py",
            "    frame = pd.read_parquet(f's3://lake/orders/{day}')",
            "    for frame in read_batches(f's3://lake/orders/{day}', rows=1_000_000):",
        ),
        [("carol", "This should fix the OOM in pipeline 77030.")],
    ),
]

# project, pipeline id, ref, status, day, jobs: (name, stage, status, duration s, log, failure_reason)
_PIPELINES = [
    (
        "infra/api",
        77001,
        "feature/rounding",
        "failed",
        24,
        [
            ("lint", "lint", "success", 21.4, OK_LOG, None),
            ("pytest", "test", "failed", 96.2, PYTEST_LOG, "script_failure"),
            ("docker-build", "build", "skipped", None, "", None),
        ],
    ),
    (
        "infra/api",
        77002,
        "main",
        "success",
        25,
        [
            ("lint", "lint", "success", 19.8, OK_LOG, None),
            ("pytest", "test", "success", 88.0, OK_LOG, None),
            ("docker-build", "build", "success", 143.5, OK_LOG, None),
        ],
    ),
    (
        "infra/web",
        77010,
        "upgrade-react-19",
        "failed",
        24,
        [
            ("npm-install", "install", "failed", 34.9, NPM_LOG, "script_failure"),
            ("vitest", "test", "skipped", None, "", None),
        ],
    ),
    (
        "infra/web",
        77011,
        "main",
        "success",
        22,
        [
            ("npm-install", "install", "success", 41.0, OK_LOG, None),
            ("vitest", "test", "success", 62.3, OK_LOG, None),
        ],
    ),
    ("platform/auth", 77020, "main", "success", 20, [("pytest", "test", "success", 120.7, OK_LOG, None)]),
    (
        "platform/auth",
        77021,
        "pkce-mobile",
        "running",
        26,
        [
            (
                "pytest",
                "test",
                "running",
                None,
                "Running with gitlab-runner 18.4.0 (8e2e5a6f)\n$ pytest -q\n",
                None,
            ),
            ("docker-build", "build", "created", None, "", None),
        ],
    ),
    (
        "data/etl",
        77030,
        "main",
        "failed",
        26,
        [("export", "run", "failed", 1834.0, OOM_LOG, "script_failure")],
    ),
    ("data/etl", 77031, "stream-export", "success", 26, [("export", "run", "success", 912.6, OK_LOG, None)]),
]

# project, iid, title, state, author, labels, description
_ISSUES = [
    (
        "infra/api",
        1,
        "Order totals off by one cent",
        "opened",
        "bob",
        ["bug", "billing"],
        "Totals with 19.99 prices are 1 cent short since the VAT change.",
    ),
    (
        "infra/api",
        2,
        "Document the retry budget",
        "closed",
        "alice",
        ["docs"],
        "RETRY_BUDGET is undocumented.",
    ),
    (
        "infra/web",
        1,
        "Checkout spinner never stops on 502",
        "opened",
        "carol",
        ["bug", "frontend"],
        "When the API answers 502, the checkout spinner keeps spinning.",
    ),
    (
        "platform/auth",
        1,
        "Rotate signing keys every 90 days",
        "opened",
        "dave",
        ["security"],
        "Automate JWKS rotation.",
    ),
    (
        "data/etl",
        1,
        "Nightly export OOM-killed",
        "opened",
        "alice",
        ["bug", "incident"],
        "Pipeline 77030: exit code 137 while building the frame.",
    ),
]


def _diff(old: str, new: str) -> str:
    minus = f"-{old}\n" if old else ""
    plus = "".join(f"+{line}\n" for line in new.split("\n")) if new else ""
    return f"@@ -1,3 +1,3 @@\n{minus}{plus}"


def _note(nid: int, author: str, body: str, mr_id: int, iid: int, created: str) -> dict[str, Any]:
    return {
        "id": nid,
        "type": None,
        "body": body,
        "author": USERS[author],
        "created_at": created,
        "updated_at": created,
        "system": False,
        "noteable_id": mr_id,
        "noteable_type": "MergeRequest",
        "noteable_iid": iid,
        "resolvable": False,
        "confidential": False,
        "internal": False,
    }


def _merge_request(
    project: dict[str, Any], row: tuple[Any, ...], pipelines: dict[int, Any]
) -> dict[str, Any]:
    path, iid, title, state, author, branch, pipeline_id, (file, old, new), _ = row
    created = _ts(10 + iid * 4, 9)
    mr_id = project["id"] * 10 + iid
    pipeline = pipelines.get(pipeline_id)
    head = (
        {k: pipeline[k] for k in ("id", "iid", "sha", "ref", "status", "source", "web_url")}
        if pipeline
        else None
    )
    return {
        "id": mr_id,
        "iid": iid,
        "project_id": project["id"],
        "title": title,
        "description": f"{title}.\n\nCloses #{iid}" if iid == 1 else title + ".",
        "state": state,
        "created_at": created,
        "updated_at": _ts(12 + iid * 4, 15),
        "merged_at": _ts(12 + iid * 4, 15) if state == "merged" else None,
        "merged_by": USERS["alice"] if state == "merged" else None,
        "closed_at": _ts(12 + iid * 4, 15) if state == "closed" else None,
        "target_branch": "main",
        "source_branch": branch,
        "author": USERS[author],
        "assignees": [USERS[author]],
        "reviewers": [USERS["bob" if author != "bob" else "carol"]],
        "labels": [],
        "draft": title.startswith("Draft:"),
        "work_in_progress": title.startswith("Draft:"),
        "merge_status": "can_be_merged",
        "detailed_merge_status": "mergeable" if state == "opened" else "not_open",
        "sha": pipeline["sha"] if pipeline else _sha(mr_id),
        "user_notes_count": 0,
        "references": {"short": f"!{iid}", "full": f"{path}!{iid}"},
        "web_url": f"{BASE}/{path}/-/merge_requests/{iid}",
        "head_pipeline": head,
        "changes_count": "1",
        "_changes": [
            {
                "old_path": file,
                "new_path": file,
                "a_mode": "100644",
                "b_mode": "100644",
                "new_file": False,
                "renamed_file": False,
                "deleted_file": False,
                "diff": _diff(old, new),
            }
        ],
    }


def _job(project: dict[str, Any], pipeline: dict[str, Any], k: int, spec: tuple[Any, ...]) -> dict[str, Any]:
    name, stage, status, duration, log, failure = spec
    started = pipeline["created_at"] if status not in ("created", "skipped") else None
    job = {
        "id": pipeline["id"] * 10 + k,
        "status": status,
        "stage": stage,
        "name": name,
        "ref": pipeline["ref"],
        "tag": False,
        "coverage": None,
        "allow_failure": False,
        "created_at": pipeline["created_at"],
        "started_at": started,
        "finished_at": pipeline["updated_at"] if duration is not None else None,
        "erased_at": None,
        "duration": duration,
        "queued_duration": 2.1 if started else None,
        "user": USERS["alice"],
        "commit": {"id": pipeline["sha"], "short_id": pipeline["sha"][:8]},
        "pipeline": {k2: pipeline[k2] for k2 in ("id", "project_id", "ref", "sha", "status")},
        "web_url": f"{project['web_url']}/-/jobs/{pipeline['id'] * 10 + k}",
        "artifacts": [],
        "runner": {"id": 3, "description": "docker-runner-3", "active": True, "is_shared": True},
        "_trace": log,
    }
    if failure:
        job["failure_reason"] = failure
    return job


def _pipeline(project: dict[str, Any], row: tuple[Any, ...], n: int) -> dict[str, Any]:
    _, pid, ref, status, day, jobs = row
    durations = [j[3] for j in jobs if j[3] is not None]
    sha = _sha(pid)
    return {
        "id": pid,
        "iid": n,
        "project_id": project["id"],
        "sha": sha,
        "ref": ref,
        "status": status,
        "source": "merge_request_event" if ref != "main" else "push",
        "created_at": _ts(day, 8),
        "updated_at": _ts(day, 9),
        "web_url": f"{project['web_url']}/-/pipelines/{pid}",
        "before_sha": "0" * 40,
        "tag": False,
        "user": USERS["alice"],
        "started_at": _ts(day, 8, 1),
        "finished_at": None if status == "running" else _ts(day, 9),
        "committed_at": None,
        "duration": int(sum(durations)) if status != "running" else None,
        "queued_duration": 4.2,
        "coverage": None,
        "detailed_status": {"icon": f"status_{status}", "text": status, "label": status, "group": status},
    }


def seed() -> dict[str, Any]:
    """Fresh data: {"users", "projects": {id: project}, and per project id lists/dicts of the rest}."""
    projects = {p[0]: _project(*p) for p in _PROJECTS}
    by_path = {p["path_with_namespace"]: p for p in projects.values()}
    pipelines: dict[int, Any] = {}
    jobs: dict[int, Any] = {}
    for n, pipeline_row in enumerate(_PIPELINES, start=1):
        project = by_path[pipeline_row[0]]
        pipelines[pipeline_row[1]] = _pipeline(project, pipeline_row, n)
        job_specs: list[tuple[Any, ...]] = pipeline_row[5]  # type: ignore[assignment]
        for k, spec in enumerate(job_specs, start=1):
            job = _job(project, pipelines[pipeline_row[1]], k, spec)
            jobs[job["id"]] = job
    mrs, notes = [], []
    for row in _MRS:
        mr = _merge_request(by_path[row[0]], row, pipelines)
        for n, (author, body) in enumerate(row[8], start=1):
            notes.append(
                _note(mr["id"] * 100 + n, author, body, mr["id"], mr["iid"], _ts(11 + mr["iid"] * 4, 10 + n))
            )
        mr["user_notes_count"] = len(row[8])
        mrs.append(mr)
    issues = [_issue(by_path[row[0]], row) for row in _ISSUES]
    for issue in issues:
        projects[issue["project_id"]]["open_issues_count"] += issue["state"] == "opened"
    return copy.deepcopy(
        {
            "users": USERS,
            "projects": projects,
            "files": _FILES,
            "pipelines": pipelines,
            "jobs": jobs,
            "merge_requests": mrs,
            "notes": notes,
            "issues": issues,
            "commits": {p["id"]: _commits(p["id"], p["path_with_namespace"]) for p in projects.values()},
            "branches": {
                p["id"]: ["main"] + sorted({r[5] for r in _MRS if r[0] == path})
                for path, p in by_path.items()
            },
        }
    )


def _issue(project: dict[str, Any], row: tuple[Any, ...]) -> dict[str, Any]:
    path, iid, title, state, author, labels, description = row
    created = _ts(3 + iid * 5, 11)
    return {
        "id": project["id"] * 1000 + iid,
        "iid": iid,
        "project_id": project["id"],
        "title": title,
        "description": description,
        "state": state,
        "created_at": created,
        "updated_at": created,
        "closed_at": _ts(4 + iid * 5, 11) if state == "closed" else None,
        "closed_by": USERS["alice"] if state == "closed" else None,
        "labels": labels,
        "milestone": None,
        "assignees": [],
        "assignee": None,
        "author": USERS[author],
        "type": "ISSUE",
        "issue_type": "issue",
        "user_notes_count": 0,
        "upvotes": 0,
        "downvotes": 0,
        "due_date": None,
        "confidential": False,
        "web_url": f"{BASE}/{path}/-/issues/{iid}",
        "references": {"short": f"#{iid}", "full": f"{path}#{iid}"},
    }
