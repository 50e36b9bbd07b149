"""The portal's OAuth endpoints in process: ``build_auth``'s routes in a Starlette app, over ASGI.

No server process and no sandbox: fast enough to register thousands of clients.
`OAuthApp.client(address)` speaks from a chosen client address, which is what
the registration rate limit counts. The store is the real SQLite one, so tests
can count rows and backdate them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from starlette.applications import Starlette

from portal.config import PortalConfig
from portal.identity import Identities
from portal.oauth import PortalAuth, build_auth
from portal.store import OAuthClient, OAuthCode, RefreshToken, Store, open_store
from portal.store.database import sqlite_url

REDIRECT_URI = "http://127.0.0.1:53682/callback"
USER = "ann@example.com"


@dataclass
class OAuthApp:
    config: PortalConfig
    store: Store
    auth: PortalAuth
    app: Starlette

    @property
    def base(self) -> str:
        return self.config.base_url()

    def client(self, address: str = "203.0.113.7") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, client=(address, 40_000))
        return httpx.AsyncClient(transport=transport, base_url=self.base, follow_redirects=False)

    async def register(self, address: str = "203.0.113.7", **metadata: Any) -> httpx.Response:
        body = {"client_name": "portal tests", "redirect_uris": [REDIRECT_URI], **metadata}
        async with self.client(address) as http:
            return await http.post("/register", json=body)

    def rows(self) -> dict[str, int]:
        """How many clients, codes and refresh tokens the database holds."""
        with self.store.session() as session:
            return {
                name: int(session.scalar(select(func.count()).select_from(table)) or 0)
                for name, table in (("clients", OAuthClient), ("codes", OAuthCode), ("refresh", RefreshToken))
            }


@contextmanager
def oauth_app(tmp_path: Path, auth: dict[str, Any] | None = None, **config: Any) -> Iterator[OAuthApp]:
    """The OAuth routes of a dev-mode portal on 127.0.0.1:8123, with ``auth`` merged into its auth section."""
    dev = {"users": [{"email": USER, "groups": ["dev"]}]}
    settings = PortalConfig.model_validate(
        {
            "host": "127.0.0.1",
            "port": 8123,
            "state_dir": str(tmp_path / "state"),
            "servers": [],
            "auth": {"dev": dev, **(auth or {})},
            **config,
        }
    )
    store = open_store(sqlite_url(tmp_path / "state"))
    try:
        built = build_auth(settings, store, Identities(store))
        yield OAuthApp(settings, store, built, Starlette(routes=built.routes))
    finally:
        store.close()
