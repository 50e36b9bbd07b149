"""A faithful fake of the status-page API, for tests and local runs.

DECISION: fake the system's HTTP API, not our client. Then the tests drive
the real client library through real HTTP and catch what a mock would hide
(URL encoding, auth headers, field names). Seed realistic, deterministic data
(fixed dates), and keep writes in memory so a later read sees them.

    python -m demo._template.fake --port 8080
"""

from __future__ import annotations

import copy
from typing import Any

from demo._fakes import Request, Response, Router, RunningFake, json_response, run_standalone, serve

__all__ = ["TOKEN", "RunningFake", "start"]

TOKEN = "sp-fake-token-0001"

_SERVICES: list[dict[str, Any]] = [
    {
        "id": "api",
        "name": "Public API",
        "status": "degraded",
        "updated_at": "2026-03-02T09:40:00Z",
        "description": "REST API behind api.example.com",
    },
    {
        "id": "web",
        "name": "Web app",
        "status": "operational",
        "updated_at": "2026-03-01T18:00:00Z",
        "description": "The customer-facing web application",
    },
    {
        "id": "auth",
        "name": "Login",
        "status": "operational",
        "updated_at": "2026-02-27T07:15:00Z",
        "description": "Single sign-on and session service",
    },
    {
        "id": "etl",
        "name": "Nightly exports",
        "status": "major_outage",
        "updated_at": "2026-03-02T03:05:00Z",
        "description": "Nightly data exports to the warehouse",
    },
]
_INCIDENTS: list[dict[str, Any]] = [
    {
        "id": 1,
        "service_id": "auth",
        "title": "Login latency above 2 s",
        "status": "resolved",
        "impact": "minor",
        "created_at": "2026-02-27T06:50:00Z",
    },
    {
        "id": 2,
        "service_id": "api",
        "title": "Elevated 502 rate on /v2/orders",
        "status": "identified",
        "impact": "major",
        "created_at": "2026-03-02T09:12:00Z",
    },
    {
        "id": 3,
        "service_id": "etl",
        "title": "Export job killed (out of memory)",
        "status": "investigating",
        "impact": "critical",
        "created_at": "2026-03-02T03:01:00Z",
    },
]


def _app() -> Router:
    services = copy.deepcopy(_SERVICES)
    incidents = copy.deepcopy(_INCIDENTS)
    router = Router()

    def find(service_id: str) -> dict[str, Any] | None:
        return next((s for s in services if s["id"] == service_id), None)

    @router.route("GET", "/api/services")
    def list_services(req: Request) -> Response:
        return json_response(services)

    @router.route("GET", "/api/services/{id}")
    def get_service(req: Request) -> Response:
        service = find(req.params["id"])
        return json_response(service) if service else json_response({"error": "service not found"}, 404)

    @router.route("GET", "/api/incidents")
    def list_incidents(req: Request) -> Response:
        wanted = req.arg("service")
        return json_response([i for i in incidents if wanted in (None, i["service_id"])])

    @router.route("POST", "/api/incidents")
    def create_incident(req: Request) -> Response:
        body = req.form()
        if not find(str(body.get("service_id"))):
            return json_response({"error": "service not found"}, 404)
        if body.get("impact") not in ("minor", "major", "critical") or not body.get("title"):
            return json_response({"error": "title and impact (minor|major|critical) are required"}, 422)
        incident = {
            "id": len(incidents) + 1,
            "service_id": body["service_id"],
            "title": body["title"],
            "status": "investigating",
            "impact": body["impact"],
            "created_at": "2026-03-02T12:00:00Z",
        }
        incidents.append(incident)
        return json_response(incident, 201)

    return router


def _authenticated(router: Router) -> Any:
    def dispatch(req: Request) -> Response:
        if req.headers.get("authorization") != f"Bearer {TOKEN}":
            return json_response({"error": "unauthorized"}, 401)
        return router.dispatch(req)

    return dispatch


def start(host: str = "127.0.0.1", port: int = 0) -> RunningFake:
    """Serve a fresh copy of the seeded data; returns once it accepts connections."""
    return serve(
        _authenticated(_app()), host=host, port=port, settings=lambda url: {"url": url, "token": TOKEN}
    )


if __name__ == "__main__":
    run_standalone(start, "fake status page API")
