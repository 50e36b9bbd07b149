"""What a dynamically registered client (RFC 7591) may ask for: policy as data, denied by default.

The SDK's handler has parsed the JSON into ``OAuthClientInformationFull``
(types, required ``redirect_uris``, ``private_key_jwt`` refused). This adds the
portal's limits; every refusal is a `RegistrationError` with the field and the
fix, answered as HTTP 400 by the SDK.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from mcp.server.auth.provider import RegistrationError
from mcp.shared.auth import OAuthClientInformationFull

__all__ = ["MAX_METADATA_BYTES", "check_client_metadata"]

MAX_METADATA_BYTES = 16 * 1024  # a real client sends well under 2 KiB; larger is abuse (HTTP 413)
MAX_REDIRECT_URIS = 10
MAX_URI_LENGTH = 2000
MAX_TEXT_LENGTH = 200  # client_name, software_id, software_version
MAX_CONTACTS = 5
AUTH_METHODS = frozenset({"none", "client_secret_post", "client_secret_basic"})
# No implicit, password or client_credentials: MCP clients act for a person, through a browser.
GRANT_TYPES = frozenset({"authorization_code", "refresh_token"})
RESPONSE_TYPES = frozenset({"code"})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# Schemes a browser would run or read locally instead of handing to an app (RFC 8252 §8.6 spirit).
FORBIDDEN_SCHEMES = frozenset(
    {"javascript", "data", "file", "vbscript", "about", "blob", "filesystem", "ftp"}
)
_LINK_FIELDS = ("client_uri", "logo_uri", "tos_uri", "policy_uri")


def check_client_metadata(client: OAuthClientInformationFull) -> None:
    """Raise RegistrationError unless every field is within the portal's policy."""
    _check_redirect_uris([str(uri) for uri in client.redirect_uris or []])
    _check_choice("token_endpoint_auth_method", [client.token_endpoint_auth_method or "none"], AUTH_METHODS)
    _check_choice("grant_types", client.grant_types, GRANT_TYPES)
    _check_choice("response_types", client.response_types, RESPONSE_TYPES)
    for name in ("client_name", "software_id", "software_version"):
        value = getattr(client, name)
        if value is not None and (len(value) > MAX_TEXT_LENGTH or not value.isprintable()):
            _bad(f"{name} must be printable text of at most {MAX_TEXT_LENGTH} characters")
    if client.contacts is not None and (
        len(client.contacts) > MAX_CONTACTS or any(len(c) > 320 for c in client.contacts)
    ):
        _bad(f"contacts: at most {MAX_CONTACTS} addresses")
    for name in _LINK_FIELDS:
        value = getattr(client, name)
        if value is not None and not _web_link(str(value)):
            _bad(f"{name} must be an https:// URL of at most {MAX_URI_LENGTH} characters")
    if client.jwks is not None or client.jwks_uri is not None:
        _bad("jwks and jwks_uri are not accepted: the portal authenticates clients by secret or PKCE only")


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
    if scheme in FORBIDDEN_SCHEMES:
        return f"uses the {scheme}: scheme"
    if scheme == "http" and (parts.hostname or "") not in LOOPBACK_HOSTS:
        return "uses http:// on a non-loopback host: use https://, or http://127.0.0.1 (RFC 8252 §7.3)"
    if scheme in ("http", "https") and not parts.hostname:
        return "has no host"
    return None  # https anywhere, http on loopback, or an app's private-use scheme (RFC 8252 §7.1)


def _web_link(value: str) -> bool:
    parts = urlsplit(value)
    return len(value) <= MAX_URI_LENGTH and (
        parts.scheme == "https" or (parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_HOSTS)
    )


def _check_choice(name: str, values: list[str], allowed: frozenset[str]) -> None:
    unknown = sorted(set(values) - allowed)
    if unknown:
        _bad(f"{name}: {', '.join(unknown)} not supported; use {', '.join(sorted(allowed))}")


def _bad(description: str) -> None:
    raise RegistrationError("invalid_client_metadata", description)


def _bad_redirect(description: str) -> None:
    raise RegistrationError("invalid_redirect_uri", description)
