"""Sentry server configuration: SENTRY_URL, SENTRY_TOKEN, SENTRY_ORG, SENTRY_TIMEOUT, SENTRY_PER_PAGE."""

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SENTRY_", extra="ignore")

    # Instance root without /api/0 (the client appends it): sentry.io or a self-hosted Sentry.
    url: str = "https://sentry.io"
    # Auth token sent as `Authorization: Bearer ...`. Scopes: org:read, project:read, event:read;
    # event:write for resolve_issue. Required, so a misconfigured server fails at startup naming it.
    token: SecretStr
    # Organisation slug, as in https://sentry.io/organizations/<org>/. Every tool works inside it.
    org: str = Field(min_length=1)
    # Seconds per HTTP request; a dead Sentry becomes a tool error, not a hang.
    timeout: float = Field(default=15.0, gt=0)
    # Page size when a list tool gets no `limit` (Sentry's ceiling is 100).
    per_page: int = Field(default=25, ge=1, le=100)
