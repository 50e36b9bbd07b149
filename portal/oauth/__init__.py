"""The portal as an OAuth 2.1 authorization server for MCP clients, delegating login.

Modules: ``keys`` (signing keys in the store, rotation, JWKS), ``tokens``
(access-token JWTs), ``storage`` (clients, codes, refresh families, hashed),
``provider`` (the SDK's provider interface), ``registration`` (client metadata
policy), ``login`` (the login seam) with ``dev_login``, ``oidc`` and ``proxy``,
``consent`` (the user's approval of each client),
``bearer`` (the /mcp gate), ``authorize`` (/authorize errors as pages), ``throttle``
(the /register rate), ``housekeeping`` (purging what expired), ``routes`` (wiring) and
``dev_tokens``.
"""

from portal.oauth.dev_tokens import DevTokenRefused, mint_dev_token
from portal.oauth.keys import KeySet, SigningKey, rotate_keys
from portal.oauth.routes import PortalAuth, build_auth, key_set_for, token_settings
from portal.oauth.tokens import DEV_CLIENT_ID, AccessTokens

__all__ = [
    "DEV_CLIENT_ID",
    "AccessTokens",
    "DevTokenRefused",
    "KeySet",
    "PortalAuth",
    "SigningKey",
    "build_auth",
    "key_set_for",
    "mint_dev_token",
    "rotate_keys",
    "token_settings",
]
