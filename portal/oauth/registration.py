"""What a dynamically registered client (RFC 7591) may ask for: policy as data, denied by default.

The SDK's handler has parsed the JSON into ``OAuthClientInformationFull``
(types, required ``redirect_uris``, ``private_key_jwt`` refused). This adds the
portal's limits; every refusal is a `RegistrationError` with the field and the
fix, answered as HTTP 400 by the SDK.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from mcp.server.auth.provider import RegistrationError
from mcp.shared.auth import OAuthClientInformationFull

__all__ = ["MAX_METADATA_BYTES", "check_client_metadata"]

MAX_METADATA_BYTES = 16 * 1024  # a real client sends well under 2 KiB; larger is abuse (HTTP 413)
MAX_REDIRECT_URIS = 10
MAX_URI_LENGTH = 2000
MAX_TEXT_LENGTH = 200  # client_name, software_id, software_version
MAX_CONTACTS = 5
MAX_CONTACT_LENGTH = 320  # an email address at its longest (RFC 5321)
MAX_SCOPES = 10
MAX_SCOPE_LENGTH = 200
# RFC 6749 §3.3 scope-token: printable ASCII but space, '"' and '\\'.
_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]{1,64}$")
AUTH_METHODS = frozenset({"none", "client_secret_post", "client_secret_basic"})
# No implicit, password or client_credentials: MCP clients act for a person, through a browser.
GRANT_TYPES = frozenset({"authorization_code", "refresh_token"})
RESPONSE_TYPES = frozenset({"code"})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# Redirect URI schemes, allowlisted: https anywhere, http on loopback only, and an app's private-use
# scheme in reverse-domain form (RFC 8252 §7.1: "com.example.app:/cb"), which an operating system
# hands to the app that claimed it. Everything else is refused, because a browser that follows a
# redirect to a bare scheme runs whatever handler the system has for it: ms-msdt: and search-ms:
# have run code on Windows (CVE-2022-30190), chrome: and view-source: open browser internals,
# javascript: and data: are script wherever a client renders the URI as a link.
WEB_SCHEMES = frozenset({"https", "http"})
# Named exceptions: schemes without a dot that a known MCP client registers. Cursor registers
# cursor://anysphere.cursor-mcp/oauth/callback beside its https and loopback URIs, in one request,
# so refusing the scheme would refuse Cursor altogether.
KNOWN_APP_SCHEMES = frozenset({"cursor"})
_REVERSE_DOMAIN = re.compile(r"^[a-z][a-z0-9-]*(?:\.[a-z0-9][a-z0-9-]*)+$")
# Dotted names that are still the operating system's own handlers, not an app's.
_SYSTEM_SCHEME_PREFIXES = ("ms-", "microsoft.", "windows.", "x-apple.")
# Named in the refusal, so the client's developer sees why at once.
FORBIDDEN_SCHEMES = frozenset(
    {"javascript", "data", "file", "vbscript", "about", "blob", "filesystem", "ftp", "view-source"}
)
_LINK_FIELDS = ("client_uri", "logo_uri", "tos_uri", "policy_uri")


def check_client_metadata(client: OAuthClientInformationFull) -> None:
    """Raise RegistrationError unless every field is within the portal's policy."""
    _check_redirect_uris([str(uri) for uri in client.redirect_uris or []])
    _check_choice("token_endpoint_auth_method", [client.token_endpoint_auth_method or "none"], AUTH_METHODS)
    _check_choice("grant_types", client.grant_types, GRANT_TYPES)
    _check_choice("response_types", client.response_types, RESPONSE_TYPES)
    _check_scope(client.scope)
    for name in ("client_name", "software_id", "software_version"):
        value = getattr(client, name)
        if value is not None and not _short_text(value, MAX_TEXT_LENGTH):
            _bad(f"{name} must be printable text of at most {MAX_TEXT_LENGTH} characters")
    if client.contacts is not None and (
        len(client.contacts) > MAX_CONTACTS
        or not all(_short_text(c, MAX_CONTACT_LENGTH) for c in client.contacts)
    ):
        _bad(
            f"contacts: at most {MAX_CONTACTS} printable addresses of at most {MAX_CONTACT_LENGTH} characters"
        )
    for name in _LINK_FIELDS:
        value = getattr(client, name)
        if value is not None and not _web_link(str(value)):
            _bad(f"{name} must be an https:// URL of at most {MAX_URI_LENGTH} characters")
    if client.jwks is not None or client.jwks_uri is not None:
        _bad("jwks and jwks_uri are not accepted: the portal authenticates clients by secret or PKCE only")
    _drop_unknown_fields(client)


def _drop_unknown_fields(client: OAuthClientInformationFull) -> None:
    """Fields RFC 7591 does not define are not stored: the SDK's models ignore them today, and this keeps
    it so should a model ever start keeping extras (they would reach the database unchecked)."""
    if client.__pydantic_extra__:
        client.__pydantic_extra__.clear()


def _short_text(value: str, limit: int) -> bool:
    return len(value) <= limit and value.isprintable()


def _check_scope(scope: str | None) -> None:
    if scope is None:
        return
    tokens = scope.split(" ")
    if (
        len(scope) > MAX_SCOPE_LENGTH
        or len(tokens) > MAX_SCOPES
        or len(set(tokens)) != len(tokens)
        or not all(_SCOPE_TOKEN.match(token) for token in tokens)
    ):
        _bad(f"scope must be at most {MAX_SCOPES} distinct scope names separated by single spaces")


def _check_redirect_uris(uris: list[str]) -> None:
    if not uris:
        _bad_redirect("redirect_uris must list at least one URI")
    if len(uris) > MAX_REDIRECT_URIS:
        _bad_redirect(f"redirect_uris: at most {MAX_REDIRECT_URIS}, got {len(uris)}")
    for uri in uris:
        problem = _redirect_problem(uri)
        if problem:
            _bad_redirect(f"redirect_uri {uri[:100]!r} {problem}")


def _redirect_problem(uri: str) -> str | None:
    if len(uri) > MAX_URI_LENGTH:
        return f"is longer than {MAX_URI_LENGTH} characters"
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if parts.fragment or "#" in uri:
        return "has a fragment (RFC 6749 §3.1.2)"
    if parts.username or parts.password:
        return "carries credentials"
    if scheme in WEB_SCHEMES:
        return _web_redirect_problem(scheme, parts.hostname or "")
    if scheme in FORBIDDEN_SCHEMES:
        return f"uses the {scheme}: scheme"
    if not _private_use_scheme(scheme):
        return (
            f"uses the {scheme[:40]}: scheme, which is not an app's own: use https://, http://127.0.0.1 "
            "(loopback), or a reverse-domain scheme such as com.example.app:/callback (RFC 8252 §7.1)"
        )
    return None  # an app's private-use scheme (RFC 8252 §7.1)


def _web_redirect_problem(scheme: str, host: str) -> str | None:
    if not host:
        return "has no host"
    if scheme == "http" and host not in LOOPBACK_HOSTS:
        return "uses http:// on a non-loopback host: use https://, or http://127.0.0.1 (RFC 8252 §7.3)"
    return None


def _private_use_scheme(scheme: str) -> bool:
    if scheme in KNOWN_APP_SCHEMES:
        return True
    return bool(_REVERSE_DOMAIN.match(scheme)) and not scheme.startswith(_SYSTEM_SCHEME_PREFIXES)


def _web_link(value: str) -> bool:
    parts = urlsplit(value)
    return len(value) <= MAX_URI_LENGTH and (
        parts.scheme == "https" or (parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_HOSTS)
    )


def _check_choice(name: str, values: list[str], allowed: frozenset[str]) -> None:
    unknown = sorted(set(values) - allowed)
    if unknown:
        listed = ", ".join(value[:40] for value in unknown[:5])
        _bad(f"{name}: {listed} not supported; use {', '.join(sorted(allowed))}")
    if len(values) != len(set(values)):
        _bad(f"{name}: each value at most once")


def _bad(description: str) -> None:
    raise RegistrationError("invalid_client_metadata", description)


def _bad_redirect(description: str) -> None:
    raise RegistrationError("invalid_redirect_uri", description)
