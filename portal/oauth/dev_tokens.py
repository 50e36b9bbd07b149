"""``portal token``: development access tokens, minted offline with the portal's current key.

They are the same JWTs an OAuth login yields (audience the portal's /mcp,
``sub`` the user's anonymous id) with ``client_id`` ``portal-dev-token`` and no
refresh family, and they verify only while ``auth.mode`` is ``dev``.

The audience is the portal's ``/mcp`` URL, so a token is good only at the
address it was minted for: `for_portal` applies ``--port``/``--url`` as
``portal serve`` applies ``--port``, so a portal started with ``--port 8123``
accepts a token minted with ``--port 8123``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from portal.auth import SCOPE
from portal.config import PortalConfig
from portal.identity import Identities
from portal.oauth.routes import key_set_for, token_settings
from portal.oauth.tokens import DEV_CLIENT_ID, AccessTokens

__all__ = ["DevTokenRefused", "for_portal", "mint_dev_token"]

_MAX_URL = 2000


class DevTokenRefused(Exception):
    """Development tokens are not available with this configuration; the message says why."""


def for_portal(config: PortalConfig, port: int | None = None, url: str | None = None) -> PortalConfig:
    """The configuration of the portal the token is for: served on ``port``, or reached at ``url``."""
    updates: dict[str, object] = {}
    if port is not None:
        if not 0 < port <= 65535:
            raise DevTokenRefused(f"--port must be between 1 and 65535, got {port}")
        updates["port"] = port
    if url is not None:
        parts = urlsplit(url)
        if len(url) > _MAX_URL or parts.scheme not in ("http", "https") or not parts.hostname:
            raise DevTokenRefused("--url must be the portal's base URL, e.g. https://portal.example")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise DevTokenRefused("--url must be a plain base URL: no query, fragment or credentials")
        updates["public_url"] = url.rstrip("/")
    return config.model_copy(update=updates) if updates else config


def mint_dev_token(
    config: PortalConfig, email: str, groups: list[str], ttl_seconds: int | None = None
) -> str:
    if config.auth.mode != "dev":
        raise DevTokenRefused(
            f"development tokens exist only in auth mode 'dev' (this portal uses {config.auth.mode!r}): "
            "connect an MCP client, which logs in through OAuth"
        )
    lifetime = ttl_seconds or config.auth.token_ttl_seconds
    if not 0 < lifetime <= config.auth.token_ttl_seconds:
        raise DevTokenRefused(
            f"--ttl must be between 1 and auth.token_ttl_seconds ({config.auth.token_ttl_seconds})"
        )
    from portal.runtime import store_for

    store = store_for(config)
    try:
        user_id = Identities(store).user_id_sync(email)
        keys = key_set_for(config, store)
        keys.load()
        tokens = AccessTokens(keys, token_settings(config), None)
        return tokens.encode(
            keys.active(),
            user_id=user_id,
            groups=groups,
            client_id=DEV_CLIENT_ID,
            scopes=[SCOPE],
            ttl_seconds=lifetime,
        )
    finally:
        store.close()
