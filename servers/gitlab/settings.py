"""GitLab server configuration: GITLAB_URL, GITLAB_TOKEN, GITLAB_TIMEOUT, GITLAB_PER_PAGE."""

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GITLAB_", extra="ignore")

    # Instance root, without /api/v4 (python-gitlab appends it).
    url: str = "https://gitlab.com"
    # Personal/project/group access token: read_api for reads, api for create_issue and notes.
    # Required, so a misconfigured server fails at startup naming GITLAB_TOKEN.
    token: SecretStr
    # Seconds per HTTP request; a dead GitLab becomes a tool error, not a hang.
    timeout: float = Field(default=15.0, gt=0)
    # Page size used when a tool call gives no per_page (GitLab's max is 100).
    per_page: int = Field(default=20, ge=1, le=100)
