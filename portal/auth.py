"""Who is calling ``/mcp``: the principal behind the verified bearer token.

The tokens themselves (OAuth authorization server, signing keys, login
delegation) live in ``portal.oauth``; this module is the small surface the rest
of the portal depends on, and imports nothing heavier than the SDK's auth
context, so permissions and config can import it freely.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcp.server.auth.middleware.auth_context import get_access_token

__all__ = ["GROUPS_CLAIM", "SCOPE", "Principal", "current_principal"]

SCOPE = "mcp"  # the one scope /mcp requires
GROUPS_CLAIM = "groups"  # access-token claim listing the user's groups


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user's anonymous id (a UUID, never an email) and their groups."""

    user_id: str
    groups: tuple[str, ...]


def current_principal() -> Principal | None:
    """The caller of the MCP request being handled, from its verified access token."""
    token = get_access_token()
    if token is None or token.subject is None:
        return None
    groups = (token.claims or {}).get(GROUPS_CLAIM) or []
    return Principal(token.subject, tuple(str(g) for g in groups))
