"""The embedded development identity provider: a page listing the users from the config.

Anyone who can reach it can log in as anyone on the list, so it is for a laptop
only: the portal refuses to start with it on a non-loopback address unless
``auth.allow_dev_login_on_public_address`` says otherwise. With
``auth.dev.auto_login`` set, the page is skipped and that user is logged in
straight away, which is what headless clients in tests need. The consent page
(portal/oauth/consent.py) still follows, unless ``auth.dev.skip_consent`` is
set too, which the portal accepts only on a loopback address.
"""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from portal.config import DevLoginConfig
from portal.identity import normalise_email
from portal.oauth.login import (
    LOGIN_PATH,
    LoginFlow,
    LoginResult,
    PendingLogin,
    error_page,
    expired_request_page,
    no_store_headers,
)

__all__ = ["DevLogin"]

_BANNER = "Development login: anyone can sign in as anyone. Unsafe for production."


class DevLogin:
    name = "dev"

    def __init__(self, config: DevLoginConfig, flow: LoginFlow) -> None:
        self._users = {normalise_email(user.email): tuple(user.groups) for user in config.users}
        self._auto = normalise_email(config.auto_login) if config.auto_login else None
        # build_auth refuses skip_consent on a portal reachable from elsewhere (refuse_unsafe_skip_consent).
        self._skip_consent = config.skip_consent and self._auto is not None
        self._flow = flow

    def routes(self) -> list[Route]:
        return [Route(LOGIN_PATH, self.login, methods=["GET", "POST"])]

    async def login(self, request: Request) -> Response:
        form = await request.form() if request.method == "POST" else None
        sealed = (form or request.query_params).get("request")
        pending = await self._flow.open(sealed if isinstance(sealed, str) else None)
        if pending is None:
            return expired_request_page()
        if form is None:
            if self._auto is not None:
                return await self._finish(pending, self._auto, skip_consent=self._skip_consent)
            return self._page(sealed)  # type: ignore[arg-type]
        email = form.get("email")
        return await self._finish(pending, email if isinstance(email, str) else "")

    async def _finish(self, pending: PendingLogin, email: str, skip_consent: bool = False) -> Response:
        key = normalise_email(email)
        if key not in self._users:
            return error_page(
                403, "Unknown user", f"{email!r} is not in auth.dev.users of the portal config."
            )
        return await self._flow.finish(pending, LoginResult(key, self._users[key]), skip_consent=skip_consent)

    def _page(self, sealed: str) -> HTMLResponse:
        buttons = "".join(
            f"<li><button name='email' value='{html.escape(email, quote=True)}'>{html.escape(email)}</button>"
            f" <small>{html.escape(', '.join(groups) or 'no groups')}</small></li>"
            for email, groups in self._users.items()
        )
        body = (
            "<!doctype html><html><head><meta charset='utf-8'><title>MCP portal: development login</title>"
            "</head><body><p style='background:#fdd;padding:1em'><strong>"
            f"{_BANNER}</strong></p><h1>Sign in as</h1>"
            f"<form method='post' action='{LOGIN_PATH}'>"
            f"<input type='hidden' name='request' value='{html.escape(sealed, quote=True)}'>"
            f"<ul>{buttons}</ul></form></body></html>"
        )
        return HTMLResponse(body, headers=no_store_headers())
