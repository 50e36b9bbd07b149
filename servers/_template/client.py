"""Talks to the status-page API with httpx. Imports nothing from `mcp`.

Two decisions a developer copying this file must make:

1. Which client library. Prefer the system's official one (python-gitlab for
   GitLab); use httpx only when there is none. Either way, all I/O happens in
   this module, so the server layer stays a thin list of tool definitions.
2. Where errors are translated. Here, in ONE place: `_translate()` turns every
   library exception (HTTP status, timeout, connection refused) into our
   `BackendError`, whose message says the cause AND the fix, and never contains
   the token. The server layer only re-raises it as a tool error.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from .models import Impact, Incident, Service, ServiceDetail
from .settings import Settings

__all__ = ["BackendError", "StatusPageClient"]


class BackendError(Exception):
    """The status page failed us; the message is safe to show a model."""


class StatusPageClient:
    def __init__(self, settings: Settings) -> None:
        # No network I/O here: build_server() must be cheap and offline.
        self._url = settings.url.rstrip("/")
        self._timeout = settings.timeout
        self._http = httpx.Client(
            base_url=self._url,
            headers={"Authorization": f"Bearer {settings.token.get_secret_value()}"},
            timeout=settings.timeout,
        )

    def list_services(self) -> list[Service]:
        return [_service(s) for s in self._get("/api/services", what="the service list")]

    def get_service(self, service_id: str) -> ServiceDetail:
        raw = self._get(f"/api/services/{service_id}", what=f"service '{service_id}'")
        incidents = self._get("/api/incidents", what="incidents", params={"service": service_id})
        open_incidents = [_incident(i) for i in incidents if i["status"] != "resolved"]
        return {**_service(raw), "description": raw["description"], "open_incidents": open_incidents}

    def create_incident(self, service_id: str, title: str, impact: Impact) -> Incident:
        body = {"service_id": service_id, "title": title, "impact": impact}
        with self._translate(f"service '{service_id}'"):
            response = self._http.post("/api/incidents", json=body)
            response.raise_for_status()
        return _incident(response.json())

    def _get(self, path: str, *, what: str, params: dict[str, str] | None = None) -> Any:
        with self._translate(what):
            response = self._http.get(path, params=params)
            response.raise_for_status()
        return response.json()

    @contextmanager
    def _translate(self, what: str) -> Iterator[None]:
        """THE one place where httpx errors become BackendError."""
        try:
            yield
        except httpx.HTTPStatusError as exc:
            raise BackendError(_status_message(exc.response.status_code, what)) from None
        except httpx.TimeoutException:
            raise BackendError(
                f"The status page did not answer within {self._timeout:g} s: "
                "retry later, or raise TEMPLATE_TIMEOUT"
            ) from None
        except httpx.TransportError:
            # No URL in a message: the model cannot fix it, and it must not learn internal hosts.
            raise BackendError(
                "Cannot connect to the status page: check TEMPLATE_URL and that it is up"
            ) from None


def _status_message(code: int, what: str) -> str:
    if code == 401:
        return "The status page rejected the token (401): set TEMPLATE_TOKEN to a valid API token"
    if code == 403:
        return f"The status page answered 403 for {what}: the token lacks permission for this"
    if code == 404:
        return f"The status page answered 404 for {what}: list the valid ids with list_services()"
    if code == 429:
        return "The status page is rate-limiting us (429): wait a minute and retry"
    if code >= 500:
        return f"The status page failed ({code}) on {what}: a server-side error, retry later"
    return f"The status page refused the request for {what} ({code}): check the arguments"


def _service(raw: dict[str, Any]) -> Service:
    return {"id": raw["id"], "name": raw["name"], "status": raw["status"], "updated_at": raw["updated_at"]}


def _incident(raw: dict[str, Any]) -> Incident:
    keys = ("id", "service_id", "title", "status", "impact", "created_at")
    return {k: raw[k] for k in keys}  # type: ignore[return-value]
