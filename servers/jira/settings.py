"""Jira server configuration: JIRA_URL, JIRA_EMAIL, JIRA_TOKEN, JIRA_TIMEOUT, JIRA_MAX_RESULTS."""

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JIRA_", extra="ignore")

    # Base URL of the Jira site, without /rest/api/2 (the library appends it),
    # e.g. https://jira.acme.example. Required: there is no sensible default Jira.
    url: str
    # Set for Jira Cloud (basic auth: email + API token). Leave unset for Jira
    # Server / Data Center, where JIRA_TOKEN is a personal access token sent as
    # a Bearer token.
    email: str | None = None
    # API token (Cloud) or personal access token (Server/DC). Required, so a
    # misconfigured server fails at startup naming JIRA_TOKEN.
    token: SecretStr
    # Seconds per HTTP request; a dead Jira becomes a tool error, not a hang.
    timeout: float = Field(default=15.0, gt=0)
    # Page size used when a tool call gives no max_results.
    max_results: int = Field(default=20, ge=1, le=100)
