"""The operator page's endpoints: ``/admin`` (GET), its login and callback, revoke and logout (POST).

Only members of ``admin.group`` see the page. Every POST needs the session's
CSRF token in the form and, when the browser sends one, this portal's Origin;
the session cookie is HttpOnly, SameSite=Strict and limited to ``/admin``;
pages are never cached or framed.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from mcp.server.transport_security import RequestBodyLimitMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route, request_response

from portal.admin.session import (
    LOGIN_COOKIE,
    LOGIN_TTL_SECONDS,
    SESSION_COOKIE,
    AdminSession,
    AdminSessions,
    csrf_ok,
)
from portal.admin.views import SandboxLayers, consent_rows, recent_executions, server_rows
from portal.auth import Principal
from portal.codemode import MAX_QUERY_CHARS
from portal.config import PortalConfig
from portal.oauth import PortalAuth
from portal.oauth.storage import OAuthStore
from portal.runtime import PortalRuntime

__all__ = ["admin_routes"]

logger = logging.getLogger(__name__)

_HEADERS: Final = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # "no-referrer" makes browsers post `Origin: null`
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'"
    ),
}
_FORM_LIMIT: Final = 16 * 1024
_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_templates.get_template(name).render(**context), status_code=status, headers=_HEADERS)


def _message(status: int, title: str, detail: str, link: str | None = "/admin") -> HTMLResponse:
    return _page("message.html", status, title=title, detail=detail, link=link)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class AdminPage:
    def __init__(self, config: PortalConfig, runtime: PortalRuntime, auth: PortalAuth) -> None:
        self._config = config
        self._group = config.admin.group
        self._runtime = runtime
        self._oauth = OAuthStore(runtime.store)
        self._sessions = AdminSessions(auth, self._oauth, config.base_url(), config.admin.session_ttl_seconds)
        self._origin = _origin(config.base_url())
        self._layers = SandboxLayers()

    def routes(self) -> list[BaseRoute]:
        def limited(endpoint: Any) -> Any:
            return RequestBodyLimitMiddleware(request_response(endpoint), _FORM_LIMIT)

        return [
            Route("/admin", self.index, methods=["GET"]),
            Route("/admin/login", self.login, methods=["GET"]),
            Route("/admin/callback", self.callback, methods=["GET"]),
            Route("/admin/consents/revoke", limited(self.revoke), methods=["POST"]),
            Route("/admin/logout", limited(self.logout), methods=["POST"]),
        ]

    async def _operator(self, request: Request) -> AdminSession | Response:
        """The operator's session, or the response for anyone else."""
        if self._group is None:
            return _message(
                404, "Operator page off", "Set admin.group in the portal config to turn it on.", None
            )
        session = await self._sessions.current(request)
        if session is None:
            return RedirectResponse("/admin/login", status_code=303, headers=_HEADERS)
        if self._group not in session.groups:
            return _not_a_member(self._group)
        return session

    async def _posted(self, request: Request) -> tuple[AdminSession, Any] | Response:
        """A POST from the page itself: operator session, same origin, the session's CSRF token."""
        found = await self._operator(request)
        if isinstance(found, Response):
            return found
        origin = request.headers.get("origin")
        form = await request.form()
        if (origin is not None and origin != self._origin) or not csrf_ok(found, form.get("csrf")):
            logger.warning("admin: refused a POST to %s without this page's CSRF token", request.url.path)
            return _message(
                403, "Request refused", "This form did not come from the operator page. Reload it."
            )
        return found, form

    async def index(self, request: Request) -> Response:
        found = await self._operator(request)
        if isinstance(found, Response):
            return found
        query = (request.query_params.get("q") or "").strip()[:MAX_QUERY_CHARS]
        groups = (request.query_params.get("groups") or "").strip()[:500]
        principal = Principal(found.user_id, tuple(g.strip() for g in groups.split(",") if g.strip())
                              or found.groups)  # fmt: skip
        window = self._config.admin.stats_window_minutes
        return _page(
            "admin.html",
            user_id=found.user_id, csrf=found.csrf, window=window, query=query, groups=groups,
            search_text=self._runtime.codemode.search_text(query, 10, principal) if query else None,
            servers=server_rows(self._runtime, window), executions=recent_executions(self._runtime),
            consents=await consent_rows(self._oauth), sandbox=await self._layers.report(),
            notice=(request.query_params.get("notice") or "")[:200],
        )  # fmt: skip

    async def login(self, request: Request) -> Response:
        if self._group is None:
            return _message(
                404, "Operator page off", "Set admin.group in the portal config to turn it on.", None
            )
        target, cookie = await self._sessions.start()
        response = RedirectResponse(target, status_code=303, headers=_HEADERS)
        response.set_cookie(LOGIN_COOKIE, cookie, max_age=LOGIN_TTL_SECONDS, path="/admin", httponly=True,
                            samesite="lax", secure=self._sessions.secure)  # fmt: skip
        return response

    async def callback(self, request: Request) -> Response:
        code, state = request.query_params.get("code"), request.query_params.get("state")
        if not code or not state:
            error = (request.query_params.get("error") or "no code")[:100]
            return _message(
                400, "Login not completed", f"The login ended without a code ({error}). Try again."
            )
        finished = await self._sessions.finish(code, state, request.cookies.get(LOGIN_COOKIE))
        if finished is None:
            return _message(400, "Login invalid or expired", "This login is not valid any more. Start again.")
        session, cookie = finished
        if self._group is None or self._group not in session.groups:
            await self._sessions.logout(session)
            return _not_a_member(self._group or "(none)")
        logger.info("admin: user %s logged in to the operator page", session.user_id)
        response = RedirectResponse("/admin", status_code=303, headers=_HEADERS)
        response.delete_cookie(LOGIN_COOKIE, path="/admin")
        ttl = self._config.admin.session_ttl_seconds
        response.set_cookie(SESSION_COOKIE, cookie, max_age=ttl, path="/admin", httponly=True,
                            samesite="strict", secure=self._sessions.secure)  # fmt: skip
        return response

    async def revoke(self, request: Request) -> Response:
        found = await self._posted(request)
        if isinstance(found, Response):
            return found
        session, form = found
        user_id, client_id = form.get("user_id"), form.get("client_id")
        if not isinstance(user_id, str) or not isinstance(client_id, str) or not user_id or not client_id:
            return _message(400, "Nothing to revoke", "The form named no user and client.")
        done = await self._oauth.revoke_consent(user_id[:64], client_id[:64])
        logger.info("admin: user %s revoked client %s for user %s", session.user_id, client_id, user_id)
        notice = (
            f"Revoked {client_id}: {done.consents} consent(s), {done.families} login(s), {done.codes} code(s)"
        )
        return RedirectResponse("/admin?" + urlencode({"notice": notice}), status_code=303, headers=_HEADERS)

    async def logout(self, request: Request) -> Response:
        found = await self._posted(request)
        if isinstance(found, Response):
            return found
        await self._sessions.logout(found[0])
        response = _message(200, "Logged out", "Your operator session has ended.", "/admin")
        response.delete_cookie(SESSION_COOKIE, path="/admin")
        return response


def _not_a_member(group: str) -> HTMLResponse:
    return _message(403, "Not an operator", f"The operator page is for members of the group {group!r}.", None)


def admin_routes(config: PortalConfig, runtime: PortalRuntime, auth: PortalAuth) -> list[BaseRoute]:
    """The /admin routes; with no ``admin.group`` they only say how to turn the page on."""
    return AdminPage(config, runtime, auth).routes()
