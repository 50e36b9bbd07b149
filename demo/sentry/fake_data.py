"""Deterministic seed data for the fake Sentry, in Sentry REST API field names.

Organisation "acme" (Acme Shop) with four projects, one per service: orders-api
(team-payments), web-frontend (team-web), auth-service (team-platform) and
etl-exporter (team-data). The newest unresolved issue in the organisation is
the decimal rounding crash in orders-api, first seen in release orders-api@1.8.0,
whose last commit 9937cbae... ("Add rounding to totals") lives in GitLab's
infra/api. `seed()` returns a fresh deep copy each time, so each running fake
owns its data and writes never leak from one test into another.

Keys starting with `_` are the fake's own bookkeeping, never served.
"""

from __future__ import annotations

import copy
import hashlib
from datetime import datetime, timedelta
from typing import Any

__all__ = ["ORG", "UI", "seed"]

ORG = {"id": "4508120", "slug": "acme", "name": "Acme Shop"}
UI = "https://acme.sentry.io"
GITLAB = "https://gitlab.example.com"


def _sha(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def _event_id(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - an id, not a security measure


# --- projects -----------------------------------------------------------------

_TEAMS = {
    "team-payments": {"id": "4508201", "slug": "team-payments", "name": "Payments"},
    "team-web": {"id": "4508202", "slug": "team-web", "name": "Web"},
    "team-platform": {"id": "4508203", "slug": "team-platform", "name": "Platform"},
    "team-data": {"id": "4508204", "slug": "team-data", "name": "Data"},
}

# id, slug, name, platform, team, created, first event, GitLab repository
_PROJECTS = [
    ("4508301", "orders-api", "Orders API", "python", "team-payments", "2025-11-03", "infra/api"),
    ("4508302", "web-frontend", "Web Frontend", "javascript-react", "team-web", "2025-11-04", "infra/web"),
    ("4508303", "auth-service", "Auth Service", "python", "team-platform", "2025-11-05", "platform/auth"),
    ("4508304", "etl-exporter", "ETL Exporter", "python", "team-data", "2025-11-10", "data/etl"),
]
REPOSITORIES = {slug: repo for _, slug, *_, repo in _PROJECTS}


def _project(row: tuple[str, ...]) -> dict[str, Any]:
    pid, slug, name, platform, team, created, _repo = row
    return {
        "id": pid,
        "slug": slug,
        "name": name,
        "platform": platform,
        "dateCreated": f"{created}T09:00:00.000000Z",
        "isBookmarked": False,
        "isMember": True,
        "features": ["alert-filters", "minidump", "releases", "similarity-indexing", "servicehooks"],
        "firstEvent": f"{created}T10:12:00.000000Z",
        "firstTransactionEvent": True,
        "access": ["project:read", "event:read", "event:write"],
        "hasAccess": True,
        "hasMinifiedStackTrace": platform.startswith("javascript"),
        "hasMonitors": slug == "etl-exporter",
        "hasProfiles": False,
        "hasReplays": platform.startswith("javascript"),
        "hasSessions": True,
        "isInternal": False,
        "isPublic": False,
        "avatar": {"avatarType": "letter_avatar", "avatarUuid": None},
        "color": "#" + _sha(slug)[:6],
        "status": "active",
        "team": _TEAMS[team],
        "teams": [_TEAMS[team]],
        "platforms": [platform],
        "environments": ["production", "staging"],
        "latestRelease": None,  # filled in by seed() from the releases
    }


# --- releases -----------------------------------------------------------------

_AUTHORS = {
    "alice": ("Alice Moreau", "alice@acme.example"),
    "bob": ("Bob Okafor", "bob@acme.example"),
    "carol": ("Carol Lindqvist", "carol@acme.example"),
    "erin": ("Erin Castillo", "erin@acme.example"),
    "grace": ("Grace Adeyemi", "grace@acme.example"),
}

# version, project, created, released, (sha, message, committed, author), commits, new issues, deployed
# fmt: off
_RELEASES = [
    ("etl-exporter@0.9.4", "etl-exporter", "2026-02-19T21:40:00Z", "2026-02-19T22:02:00Z",
     (_sha("data/etl 0.9.4"), "Export orders in one frame per day", "2026-02-19T20:58:00Z", "grace"),
     4, 1, "2026-02-19T22:02:00Z"),
    ("web-frontend@2.4.0", "web-frontend", "2026-02-18T09:30:00Z", "2026-02-18T09:52:00Z",
     (_sha("infra/web 2.4.0"), "Render orders from react-query cache", "2026-02-18T08:47:00Z", "carol"),
     6, 1, "2026-02-18T09:52:00Z"),
    ("orders-api@1.8.0", "orders-api", "2026-02-13T14:20:00Z", "2026-02-13T14:41:00Z",
     ("9937cbaee14243fb86d2b552d7fd585eb588987c", "Add rounding to totals", "2026-02-13T13:55:00Z", "alice"),
     2, 1, "2026-02-13T14:41:00Z"),
    ("orders-api@1.7.3", "orders-api", "2026-02-10T16:05:00Z", "2026-02-10T16:20:00Z",
     ("2c9ee17bf7dfc76fd950dc54d48d2fcb5a6a7870", "Fix flaky retry test", "2026-02-10T15:30:00Z", "bob"),
     1, 0, "2026-02-10T16:20:00Z"),
    ("web-frontend@2.3.1", "web-frontend", "2026-02-04T12:00:00Z", "2026-02-04T12:25:00Z",
     (_sha("infra/web 2.3.1"), "Split the checkout bundle", "2026-02-04T11:10:00Z", "carol"),
     3, 1, "2026-02-04T12:25:00Z"),
    ("orders-api@1.7.2", "orders-api", "2026-02-02T07:30:00Z", "2026-02-02T07:48:00Z",
     (_sha("infra/api 1.7.2"), "Call the payments gateway with a 5 s timeout", "2026-02-02T07:02:00Z", "bob"),
     5, 2, "2026-02-02T07:48:00Z"),
    ("auth-service@3.2.1", "auth-service", "2026-02-01T06:00:00Z", "2026-02-01T06:18:00Z",
     (_sha("platform/auth 3.2.1"), "Shorten access token TTL to 15 minutes", "2026-02-01T05:31:00Z", "erin"),
     2, 2, "2026-02-01T06:18:00Z"),
]
# fmt: on


def _release(row: tuple[Any, ...], projects: dict[str, dict[str, Any]]) -> dict[str, Any]:
    version, slug, created, released, (sha, message, committed, who), commits, new, deployed = row
    project, repo = projects[slug], REPOSITORIES[slug]
    name, email = _AUTHORS[who]
    package, _, semver = version.partition("@")
    return {
        "id": int(project["id"]) * 10 + len(version),
        "version": version,
        "shortVersion": version,
        "status": "open",
        "ref": sha,
        "url": f"{GITLAB}/{repo}/-/tags/v{semver}",
        "dateCreated": created,
        "dateReleased": released,
        "data": {},
        "newGroups": new,
        "owner": None,
        "commitCount": commits,
        "lastCommit": {
            "id": sha,
            "message": message,
            "dateCreated": committed,
            "pullRequest": None,
            "suspectCommitType": "",
            "author": {"name": name, "email": email},
            "repository": {
                "id": str(4508400 + list(REPOSITORIES).index(slug)),
                "name": repo,
                "url": f"{GITLAB}/{repo}",
                "provider": {"id": "integrations:gitlab", "name": "GitLab"},
                "status": "active",
                "dateCreated": "2025-11-03T09:30:00.000000Z",
                "integrationId": "4508450",
                "externalSlug": repo,
                "externalId": f"gitlab.example.com:{repo}",
            },
        },
        "deployCount": 1,
        "lastDeploy": {
            "id": str(int(project["id"]) * 100 + len(version)),
            "environment": "production",
            "dateStarted": None,
            "dateFinished": deployed,
            "name": f"{version} to production",
            "url": None,
        },
        "authors": [{"name": name, "email": email}],
        "projects": [
            {
                "id": int(project["id"]),
                "slug": slug,
                "name": project["name"],
                "newGroups": new,
                "platform": project["platform"],
                "platforms": [project["platform"]],
                "hasHealthData": True,
            }
        ],
        "firstEvent": None,  # filled in by seed() from the issues
        "lastEvent": None,
        "currentProjectMeta": {},
        "userAgent": "sentry-cli/2.42.2",
        "versionInfo": {
            "package": package,
            "version": {"raw": semver},
            "description": semver,
            "buildHash": None,
        },
    }


# --- issues and their events ----------------------------------------------------

_PY_LIB = "/usr/local/lib/python3.12/site-packages/"


def _frame(path: str, function: str, lineno: int, lines: list[str], *, app: bool = True) -> dict[str, Any]:
    """A frame as the API serializes it: `lineNo`, and `context` as [[lineno, line], ...]."""
    start = lineno - len(lines) + 1
    abs_path = ("/app/" + path) if app else (_PY_LIB + path)
    module = path.removeprefix("src/").removesuffix(".py").replace("/", ".")
    return {
        "filename": path,
        "absPath": abs_path,
        "module": module if path.endswith(".py") else None,
        "package": None,
        "platform": None,
        "instructionAddr": None,
        "symbolAddr": None,
        "function": function,
        "rawFunction": None,
        "symbol": None,
        "context": [[start + n, line] for n, line in enumerate(lines)],
        "lineNo": lineno,
        "colNo": None,
        "inApp": app,
        "trust": None,
        "errors": None,
        "lock": None,
        "sourceLink": None,
        "vars": {},
    }


def _lib(path: str, function: str, lineno: int, line: str) -> dict[str, Any]:
    return _frame(path, function, lineno, [line], app=False)


def _js_frame(path: str, function: str, lineno: int, line: str, *, app: bool = True) -> dict[str, Any]:
    frame = _frame(path, function, lineno, [line], app=app)
    return {**frame, "absPath": f"https://shop.acme.example/{path}", "module": None, "colNo": 17}


# Frames oldest call first, as Sentry stores them: (path, function, lineno, source lines ending at lineno).
# fmt: off
_ASGI = [
    _lib("starlette/routing.py", "handle", 288, "            await self.app(scope, receive, send)"),
    _lib("starlette/routing.py", "app", 73, "            response = await f(request)"),
    _lib("fastapi/routing.py", "app", 301, "            raw_response = await run_endpoint_function("),
]
_INVALID_OPERATION_FRAMES = [
    *_ASGI,
    _frame("src/api/routes/orders.py", "create_order", 42,
           ["    order = await store.insert(payload)", "    total = order_total(payload.lines)"]),
    _frame("src/api/orders.py", "order_total", 7,
           ['    """Sum of line totals, VAT included."""',
            "    subtotal = sum(Decimal(str(l['price'])) * l['qty'] for l in lines)",
            "    return (subtotal * Decimal('1.2')).quantize(Decimal('0.01'))"]),
]
_KEY_ERROR_FRAMES = [
    *_ASGI,
    _frame("src/api/routes/payments.py", "capture", 58, ["    amount = to_minor_units(payload.amount)"]),
    _frame("src/api/payments.py", "to_minor_units", 19,
           ["    exponent = CURRENCY_EXPONENTS[amount['currency']]"]),
]
_READ_TIMEOUT_FRAMES = [
    *_ASGI,
    _frame("src/api/payments.py", "authorize", 33,
           ["    response = session.post(GATEWAY_URL, json=body, timeout=5)"]),
    _lib("requests/sessions.py", "send", 703, "        r = adapter.send(request, **kwargs)"),
    _lib("requests/adapters.py", "send", 713, "            raise ReadTimeout(e, request=request)"),
]
_REACT = "node_modules/react-dom/cjs/react-dom.production.js"
_TYPE_ERROR_FRAMES = [
    _js_frame(_REACT, "workLoopSync", 12190, "    performUnitOfWork(workInProgress);", app=False),
    _js_frame(_REACT, "performUnitOfWork", 12211, "  next = beginWork(current, unit, lanes);", app=False),
    _js_frame(_REACT, "beginWork", 7890, "    return updateFunctionComponent(current, wip, t);", app=False),
    _js_frame(_REACT, "updateFunctionComponent", 6512, "  children = renderWithHooks(current, wip, C);",
              app=False),
    _js_frame(_REACT, "renderWithHooks", 5230, "      children = Component(props, secondArg);", app=False),
    _js_frame("src/App.tsx", "App", 2, "  return <OrdersPage retryBudget={3} />;"),
    _js_frame("src/orders/OrdersPage.tsx", "OrdersPage", 18, "  return <OrdersTable orders={data} />;"),
    _js_frame("src/orders/OrdersTable.tsx", "OrdersTable", 31, "      {orders.items.map((order) => ("),
]
_CHUNK_FRAMES = [
    _js_frame("src/routes.tsx", "loadCheckout", 12,
              "const Checkout = lazy(() => import('./checkout/Checkout'));"),
    _js_frame("webpack/runtime/load script", "__webpack_require__.l", 40,
              "    var error = new ChunkLoadError(errorMessage);", app=False),
]
_EXPIRED_FRAMES = [
    *_ASGI,
    _frame("src/auth/sessions.py", "current_user", 27,
           ["    claims = tokens.decode(request.cookies['session'])"]),
    _frame("src/auth/tokens.py", "decode", 14, ["    return jwt.decode(token, KEY, algorithms=['RS256'])"]),
    _lib("jwt/api_jwt.py", "_validate_exp", 363,
         '            raise ExpiredSignatureError("Signature has expired")'),
]
_OPERATIONAL_FRAMES = [
    *_ASGI,
    _frame("src/auth/db.py", "connect", 21, ["    return psycopg.connect(DATABASE_URL, connect_timeout=3)"]),
    _lib("psycopg/connection.py", "connect", 119, "            raise last_ex.with_traceback(None)"),
]
_MEMORY_FRAMES = [
    _frame("etl/cli.py", "main", 31, ["    export(args.day)"]),
    _frame("etl/export.py", "export", 6, ["    frame.to_csv(f'/exports/{day}.csv')"]),
    _lib("pandas/core/generic.py", "to_csv", 3967, "        return DataFrameRenderer(formatter).to_csv("),
    _lib("pandas/io/formats/csvs.py", "_save_chunk", 320,
         "        res = df._get_values_for_csv(**self._number_format)"),
]

# id, project, short id, exception type, value, culprit, level, status, substatus, priority,
# events, users, first seen, last seen, first release, last release, frames, transaction.
# The newest unresolved issue of the organisation is the rounding crash in orders-api.
_ISSUES: list[tuple[Any, ...]] = [
    ("6230500201", "orders-api", "ORDERS-API-3B", "InvalidOperation",
     "quantize result has too many digits for current context", "api.orders in order_total",
     "error", "unresolved", "ongoing", "high", 342, 87, "2026-02-13T15:02:11Z", "2026-02-26T09:41:27Z",
     "orders-api@1.8.0", "orders-api@1.8.0", _INVALID_OPERATION_FRAMES, "POST /v2/orders"),
    ("6230500611", "etl-exporter", "ETL-EXPORTER-Z", "MemoryError", "", "etl.export in export",
     "fatal", "unresolved", "escalating", "high", 6, 0, "2026-02-20T03:01:07Z", "2026-02-26T03:05:12Z",
     "etl-exporter@0.9.4", "etl-exporter@0.9.4", _MEMORY_FRAMES, "nightly-export"),
    ("6230500412", "web-frontend", "WEB-FRONTEND-5K", "TypeError",
     "Cannot read properties of undefined (reading 'map')", "/orders",
     "error", "unresolved", "ongoing", "high", 1290, 411, "2026-02-18T10:05:33Z", "2026-02-25T18:12:03Z",
     "web-frontend@2.4.0", "web-frontend@2.4.0", _TYPE_ERROR_FRAMES, "/orders"),
    ("6230500520", "auth-service", "AUTH-SERVICE-1D", "ExpiredSignatureError", "Signature has expired",
     "auth.sessions in current_user", "warning", "ignored", "archived_until_escalating", "low", 8812, 1544,
     "2026-02-01T07:00:12Z", "2026-02-24T22:58:40Z", "auth-service@3.2.1", "auth-service@3.2.1",
     _EXPIRED_FRAMES, "GET /session"),
    ("6230500188", "orders-api", "ORDERS-API-38", "KeyError", "'currency'", "api.payments in to_minor_units",
     "error", "unresolved", "ongoing", "medium", 57, 19, "2026-02-04T11:20:00Z", "2026-02-21T16:45:09Z",
     "orders-api@1.7.2", "orders-api@1.8.0", _KEY_ERROR_FRAMES, "POST /v2/payments/capture"),
    ("6230500530", "auth-service", "AUTH-SERVICE-1F", "OperationalError",
     'connection to server at "auth-db.internal", port 5432 failed: Connection refused', "auth.db in connect",
     "error", "unresolved", "new", "medium", 23, 11, "2026-02-17T04:10:00Z", "2026-02-17T04:22:31Z",
     "auth-service@3.2.1", "auth-service@3.2.1", _OPERATIONAL_FRAMES, "POST /token"),
    ("6230500150", "orders-api", "ORDERS-API-2Q", "ReadTimeout",
     "HTTPSConnectionPool(host='payments.acme.example', port=443): Read timed out. (read timeout=5)",
     "api.payments in authorize", "error", "resolved", None, "medium", 1204, 302,
     "2026-02-02T08:00:41Z", "2026-02-10T13:12:55Z", "orders-api@1.7.2", "orders-api@1.7.2",
     _READ_TIMEOUT_FRAMES, "POST /v2/orders"),
    ("6230500377", "web-frontend", "WEB-FRONTEND-4V", "ChunkLoadError", "Loading chunk 842 failed.",
     "/checkout", "error", "resolved", None, "low", 76, 70, "2026-02-05T09:14:02Z", "2026-02-09T19:40:18Z",
     "web-frontend@2.3.1", "web-frontend@2.3.1", _CHUNK_FRAMES, "/checkout"),
]
# Exceptions raised before an issue's own one, in a chain ("During handling of ...").
_TIMEOUT = "HTTPSConnectionPool(host='payments.acme.example', port=443): Read timed out. (read timeout=5)"
_CAUSES = {
    "6230500150": [{
        "type": "ReadTimeoutError", "module": "urllib3.exceptions", "value": _TIMEOUT,
        "frames": [
            _lib("urllib3/connectionpool.py", "urlopen", 787, "            response = self._make_request("),
            _lib("urllib3/connectionpool.py", "_raise_timeout", 367,
                 "            raise ReadTimeoutError(self, url, f\"Read timed out. (read timeout={t})\")"),
        ],
    }],
}
_ISSUE_KEYS = ("id", "project", "short", "kind", "value", "culprit", "level", "status", "substatus",
               "priority", "count", "users", "first", "last", "first_release", "last_release", "frames",
               "transaction")
# fmt: on

# Hours before last seen of each stored event, newest first; the last one is the first event.
_EVENT_OFFSETS = (0, 5, 29)
_USERS = ["alice@acme.example", "customer-1187@shop.example", "customer-2045@shop.example"]


def _title(kind: str, value: str) -> str:
    return f"{kind}: {value}" if value else kind


def _hours_before(stamp: str, hours: int, first: str) -> str:
    when = datetime.fromisoformat(stamp.replace("Z", "+00:00")) - timedelta(hours=hours)
    floor = datetime.fromisoformat(first.replace("Z", "+00:00"))
    return max(when, floor).strftime("%Y-%m-%dT%H:%M:%SZ")


def _issue(spec: dict[str, Any], projects: dict[str, dict[str, Any]]) -> dict[str, Any]:
    project, iid, kind, value = projects[spec["project"]], spec["id"], spec["kind"], spec["value"]
    top = spec["frames"][-1]
    python = project["platform"] == "python"
    return {
        "id": iid,
        "shareId": None,
        "shortId": spec["short"],
        "title": _title(kind, value),
        "culprit": spec["culprit"],
        "permalink": f"{UI}/issues/{iid}/",
        "logger": None,
        "level": spec["level"],
        "status": spec["status"],
        "statusDetails": {},
        "substatus": spec["substatus"],
        "isPublic": False,
        "platform": "python" if python else "javascript",
        "priority": spec["priority"],
        "priorityLockedAt": None,
        "project": {
            "id": project["id"],
            "name": project["name"],
            "slug": project["slug"],
            "platform": project["platform"],
        },
        "type": "error",
        "issueType": "error",
        "issueCategory": "error",
        "metadata": {
            "type": kind,
            "value": value,
            "filename": top["filename"],
            "function": top["function"],
            "in_app_frame_mix": "mixed",
            "initial_priority": {"high": 75, "medium": 50, "low": 25}[spec["priority"]],
        },
        "numComments": 0,
        "assignedTo": None,
        "isBookmarked": False,
        "isSubscribed": False,
        "subscriptionDetails": None,
        "hasSeen": False,
        "annotations": [],
        "isUnhandled": spec["level"] in ("error", "fatal"),
        "count": str(spec["count"]),
        "userCount": spec["users"],
        "firstSeen": spec["first"],
        "lastSeen": spec["last"],
        "_first_release": spec["first_release"],
        "_last_release": spec["last_release"],
        "_frames": spec["frames"],
        "_transaction": spec["transaction"],
        "_environment": "production",
        "_causes": _CAUSES.get(iid, []),
    }


def _event(issue: dict[str, Any], n: int, when: str) -> dict[str, Any]:
    """The stored event: enough to serve both the list shape and the full detail shape."""
    release = issue["_last_release"] if n == 0 else issue["_first_release"]
    python = issue["platform"] == "python"
    tags = {
        "environment": issue["_environment"],
        "handled": "no" if issue["isUnhandled"] else "yes",
        "level": issue["level"],
        "mechanism": "starlette" if python else "onerror",
        "release": release,
        "transaction": issue["_transaction"],
        "user": f"email:{_USERS[n % len(_USERS)]}",
    }
    if python:
        tags["server_name"] = f"{issue['project']['slug']}-7d9f8c-{n}"
    else:
        tags["browser"] = "Chrome 133.0"
    return {
        "eventID": _event_id(f"{issue['id']}/{n}"),
        "dateCreated": when,
        "release": release,
        "tags": sorted(({"key": k, "value": v} for k, v in tags.items()), key=lambda t: t["key"]),
        "user": {
            "id": None,
            "email": _USERS[n % len(_USERS)],
            "username": None,
            "ip_address": f"203.0.113.{10 + n}",
            "name": None,
            "data": None,
        },
    }


def seed() -> dict[str, Any]:
    """A fresh copy of the whole organisation: projects, issues, events, releases."""
    projects = {row[1]: _project(row) for row in _PROJECTS}
    releases = [_release(row, projects) for row in _RELEASES]
    issues = [_issue(dict(zip(_ISSUE_KEYS, row, strict=True)), projects) for row in _ISSUES]
    events: dict[str, list[dict[str, Any]]] = {}
    for issue in issues:
        stamps = [_hours_before(issue["lastSeen"], h, issue["firstSeen"]) for h in _EVENT_OFFSETS[:-1]]
        events[issue["id"]] = [_event(issue, n, when) for n, when in enumerate([*stamps, issue["firstSeen"]])]
    for project in projects.values():
        newest = next((r for r in releases if r["projects"][0]["slug"] == project["slug"]), None)
        project["latestRelease"] = {"version": newest["version"]} if newest else None
    for release in releases:
        mine = [i for i in issues if release["version"] in (i["_first_release"], i["_last_release"])]
        release["firstEvent"] = min((i["firstSeen"] for i in mine), default=None)
        release["lastEvent"] = max((i["lastSeen"] for i in mine), default=None)
    return copy.deepcopy(
        {"org": ORG, "projects": projects, "issues": issues, "events": events, "releases": releases}
    )
