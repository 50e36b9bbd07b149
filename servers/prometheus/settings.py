"""Prometheus server configuration: PROMETHEUS_URL, PROMETHEUS_TOKEN, PROMETHEUS_TIMEOUT and result caps."""

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PROMETHEUS_", extra="ignore")

    # Server root including any path prefix (e.g. https://ops.acme.example/prometheus), without /api/v1.
    url: str = "http://127.0.0.1:9090"
    # Optional: Prometheus itself has no token auth, but proxies in front of it (and managed
    # Prometheus services) take a bearer token. Empty or unset means no Authorization header.
    token: SecretStr | None = None
    # Seconds per HTTP request; also sent as the query's own `timeout` so Prometheus gives up too.
    timeout: float = Field(default=15.0, gt=0)
    # Default caps on query results (a tool call may ask for fewer or more, within the tool's limits).
    max_series: int = Field(default=20, ge=1, le=500)
    max_points: int = Field(default=120, ge=2, le=2000)
    # Default page size for the list tools (metric names, label values, alerts, targets, series).
    page_size: int = Field(default=100, ge=1, le=1000)
