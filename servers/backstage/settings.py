"""Backstage server configuration: BACKSTAGE_URL, BACKSTAGE_TOKEN, BACKSTAGE_TIMEOUT, BACKSTAGE_PAGE_SIZE."""

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BACKSTAGE_", extra="ignore")

    # Backend root, e.g. http://127.0.0.1:7007 (the client appends /api/catalog; a URL that already
    # ends in /api/catalog is accepted too).
    url: str = "http://127.0.0.1:7007"
    # A static external-access token or a service/user token, sent as `Authorization: Bearer ...`.
    # Required, so a misconfigured server fails at startup naming BACKSTAGE_TOKEN.
    token: SecretStr
    # Seconds per HTTP request; a dead backend becomes a tool error, not a hang.
    timeout: float = Field(default=10.0, gt=0)
    # Page size of search_entities when a call gives no limit (max 100).
    page_size: int = Field(default=20, ge=1, le=100)
