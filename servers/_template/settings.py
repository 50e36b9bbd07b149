"""Configuration, read once at the edge (STYLE.md #8).

DECISION: the env prefix. One per server, upper-case, ending in `_`
(`TEMPLATE_URL`, `TEMPLATE_TOKEN`, ...). Rename it when you copy this folder.
Tool code never reads `os.environ`; it gets a `Settings` object.
"""

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    # extra="ignore": the portal may pass a shared dict of overrides.
    model_config = SettingsConfigDict(env_prefix="TEMPLATE_", extra="ignore")

    # Base URL of the system's API, without a trailing path.
    url: str = "http://127.0.0.1:8080"
    # SecretStr: never printed in a repr, a log line or a validation error.
    # Required on purpose: a server without credentials should fail at startup,
    # with the runner naming TEMPLATE_TOKEN, not at the first tool call.
    token: SecretStr
    # Seconds. Short enough that a dead backend gives the model an error, not a hang.
    timeout: float = 10.0
