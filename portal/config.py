"""Portal configuration: one YAML file, validated by pydantic, overridable from the environment.

The file declares the upstream servers (a namespace and a transport each), the
exposure mode (Code Mode or direct), auth, and sandbox limits. Environment
variables with the ``PORTAL_`` prefix override top-level scalars, for example
``PORTAL_PORT=9000`` or ``PORTAL_CODEMODE=false``.
"""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from portal.permissions import PermissionRule

__all__ = [
    "AuditConfig",
    "AuthConfig",
    "ConfigError",
    "ErrorReportingConfig",
    "HttpTransport",
    "ModuleTransport",
    "PortalConfig",
    "SandboxConfig",
    "ServerConfig",
    "StdioTransport",
    "demo_config_path",
    "load_config",
]

NAMESPACE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
ENV_PREFIX = "PORTAL_"


class ConfigError(Exception):
    """The configuration file is missing, unreadable or invalid; the message says where."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModuleTransport(_Strict):
    """A server package mounted in-process: ``servers.<name>`` exporting build_server and Settings."""

    type: Literal["module"] = "module"
    module: str
    settings: dict[str, str] = Field(default_factory=dict)
    demo_backend: bool = Field(
        default=False,
        description="Start the package's fake backend on 127.0.0.1 and point the server at it.",
    )
    demo_backend_args: dict[str, Any] = Field(
        default_factory=dict, description="Keyword arguments for the fake's start(), e.g. scrape_targets."
    )


class StdioTransport(_Strict):
    """A server launched as a subprocess speaking MCP over stdin/stdout."""

    type: Literal["stdio"] = "stdio"
    command: str
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None


class HttpTransport(_Strict):
    """A server reached over Streamable HTTP."""

    type: Literal["http"] = "http"
    url: str
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        return value


Transport = Annotated[ModuleTransport | StdioTransport | HttpTransport, Field(discriminator="type")]


class ServerConfig(_Strict):
    """One upstream MCP server and the namespace its tools appear under."""

    namespace: str
    transport: Transport
    enabled: bool = True
    connect_timeout_seconds: float = Field(default=15.0, gt=0, le=300)
    call_timeout_seconds: float = Field(default=60.0, gt=0, le=3600)

    @field_validator("namespace")
    @classmethod
    def _valid_namespace(cls, value: str) -> str:
        if not NAMESPACE_PATTERN.match(value):
            raise ValueError("namespace must be lower-case letters, digits and '_', starting with a letter")
        if value in {"portal", "print", "json"}:
            raise ValueError(f"namespace {value!r} is reserved")
        return value


class AuthConfig(_Strict):
    """Authentication of MCP clients. Until the OAuth issue lands only development tokens exist."""

    mode: Literal["dev"] = "dev"
    token_ttl_seconds: int = Field(default=8 * 3600, gt=0, le=30 * 24 * 3600)
    issuer: str = "mcp-portal"


class SandboxConfig(_Strict):
    """Per-execution limits handed to the sandbox."""

    wall_seconds: float = Field(default=30.0, gt=0, le=600)
    cpu_seconds: int = Field(default=10, gt=0, le=600)
    memory_mb: int = Field(default=512, ge=64, le=8192)
    output_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    max_tool_calls: int = Field(default=200, ge=1, le=10_000)


class ErrorReportingConfig(_Strict):
    """The portal's own errors go to Sentry when a DSN is set (sentry-sdk); off by default."""

    sentry_dsn: SecretStr | None = None
    environment: str = "production"
    traces_sample_rate: float = Field(default=0.0, ge=0.0, le=1.0)


class AuditConfig(_Strict):
    """What the audit trail keeps of each execution."""

    store_code: bool = Field(
        default=False, description="Keep the code itself, not only its SHA-256 and size."
    )


class PortalConfig(_Strict):
    """The whole portal configuration (``portal.yaml``)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    public_url: str | None = Field(
        default=None, description="External base URL; defaults to http://host:port"
    )
    state_dir: Path = Path(".portal")
    database_url: SecretStr | None = Field(
        default=None,
        description="SQLAlchemy URL, e.g. postgresql+psycopg://...; default: SQLite in state_dir",
    )
    codemode: bool = True
    result_max_bytes: int = Field(default=24_000, ge=256, le=4 * 1024 * 1024)
    auth: AuthConfig = Field(default_factory=AuthConfig)
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)
    permissions: list[PermissionRule] | None = Field(
        default=None, description="Who may use which tool; absent: everyone may use everything."
    )
    audit: AuditConfig = Field(default_factory=AuditConfig)
    error_reporting: ErrorReportingConfig = Field(default_factory=ErrorReportingConfig)
    metrics: bool = Field(default=True, description="Serve Prometheus metrics at /metrics.")
    servers: list[ServerConfig] = Field(default_factory=list)

    @field_validator("servers")
    @classmethod
    def _unique_namespaces(cls, servers: list[ServerConfig]) -> list[ServerConfig]:
        seen: set[str] = set()
        for server in servers:
            if server.namespace in seen:
                raise ValueError(f"namespace {server.namespace!r} is declared twice")
            seen.add(server.namespace)
        return servers

    def base_url(self) -> str:
        """The URL clients use to reach the portal, without a trailing slash."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


def demo_config_path() -> Path:
    """The bundled demo configuration used when no ``--config`` is given."""
    return Path(str(resources.files("portal").joinpath("demo.yaml")))


def load_config(path: Path | None = None, environ: dict[str, str] | None = None) -> PortalConfig:
    """Read, override from the environment, and validate a config file (the demo one by default)."""
    path = path or demo_config_path()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {path} must hold a mapping at the top level")
    _merge(raw, _environment_overrides(os.environ if environ is None else environ))
    try:
        return PortalConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"invalid config file {path}:\n{_describe(exc)}") from None


def _environment_overrides(environ: dict[str, str] | os._Environ[str]) -> dict[str, Any]:
    """``PORTAL_X`` overrides the top-level scalar ``x``; ``PORTAL_SANDBOX__WALL_SECONDS`` a nested one."""
    overrides: dict[str, Any] = {}
    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX) or key in {"PORTAL_CONFIG"}:
            continue
        path = key[len(ENV_PREFIX) :].lower().split("__")
        if path[0] not in PortalConfig.model_fields or path[0] == "servers":
            continue
        target = overrides
        for part in path[:-1]:
            target = target.setdefault(part, {})
        target[path[-1]] = value
    return overrides


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        lines.append(f"  {where}: {error['msg']}")
    return "\n".join(lines)
