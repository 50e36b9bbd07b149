"""Elasticsearch server configuration, read once at the edge (STYLE.md #8).

ELASTICSEARCH_URL, ELASTICSEARCH_API_KEY (or ELASTICSEARCH_USERNAME and
ELASTICSEARCH_PASSWORD), ELASTICSEARCH_TIMEOUT, ELASTICSEARCH_DEFAULT_SIZE,
ELASTICSEARCH_VERIFY_CERTS, ELASTICSEARCH_CA_CERTS.
"""

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["MAX_SIZE", "Settings"]

MAX_SIZE = 200  # the most hits one search() returns: enough to read, small enough for a context


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ELASTICSEARCH_", extra="ignore")

    # Cluster root, e.g. https://es.internal:9200 (no index, no path).
    url: str = "http://127.0.0.1:9200"
    # The encoded API key (base64 of "id:key", as Kibana shows it). Preferred over basic auth.
    api_key: SecretStr | None = None
    # Basic auth, used only when no API key is set. Leave all three empty for a cluster without security.
    username: str | None = None
    password: SecretStr | None = None
    # Seconds per HTTP request; a hung cluster becomes a tool error, not a hang.
    timeout: float = Field(default=10.0, gt=0)
    # Hits per search() when the call gives no size.
    default_size: int = Field(default=20, ge=1, le=MAX_SIZE)
    # TLS: verify the cluster's certificate (against ca_certs when given, a PEM file path).
    verify_certs: bool = True
    ca_certs: str | None = None
