"""Portal configuration: one YAML file, validated by pydantic, overridable from the environment.

The file declares the upstream servers (a namespace and a transport each), the
exposure mode (Code Mode or direct), auth, and sandbox limits. Environment
variables with the ``PORTAL_`` prefix override top-level scalars, for example
``PORTAL_PORT=9000`` or ``PORTAL_CODEMODE=false``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

import sandbox
from portal import naming
from portal.permissions import PermissionRule

__all__ = [
    "AdminConfig",
    "ApprovalConfig",
    "AuditConfig",
    "AuditSinkConfig",
    "AuthConfig",
    "DevLoginConfig",
    "DevUser",
    "OidcConfig",
    "ProxyConfig",
    "RegistrationConfig",
    "ConfigError",
    "ErrorReportingConfig",
    "ExecutionLimitsConfig",
    "HttpTransport",
    "ModuleTransport",
    "PortalConfig",
    "SandboxConfig",
    "ServerConfig",
    "StdioTransport",
    "TracingConfig",
    "demo_config_path",
    "load_config",
]

ENV_PREFIX = "PORTAL_"


class ConfigError(Exception):
    """The configuration file is missing, unreadable or invalid; the message says where."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModuleTransport(_Strict):
    """A server package mounted in-process: ``servers.<name>`` exporting build_server and Settings."""

    type: Literal["module"] = "module"
    module: str
    # The server's own Settings (its URL, token, ...): the same keys in the demo as in production.
    settings: dict[str, str] = Field(default_factory=dict)


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
    disabled_reason: str | None = Field(
        default=None, max_length=300, description="Why it is disabled: the startup line says so."
    )
    connect_timeout_seconds: float = Field(default=15.0, gt=0, le=300)
    call_timeout_seconds: float = Field(default=60.0, gt=0, le=3600)
    tool_prefix: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_.-]{0,32}$",
        description='Direct mode: put before each tool and prompt name; default "<namespace>_", "" none.',
    )

    @property
    def direct_prefix(self) -> str:
        """What direct mode puts before this server's tool and prompt names."""
        return f"{self.namespace}_" if self.tool_prefix is None else self.tool_prefix

    @field_validator("namespace")
    @classmethod
    def _valid_namespace(cls, value: str) -> str:
        problem = naming.namespace_problem(value)  # the one owner of what names may be
        if problem is not None:
            raise ValueError(f"{problem}; for example {naming.namespace_for(value)!r}")
        return value


class DevUser(_Strict):
    """A user the development login page offers."""

    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=254)
    groups: list[str] = Field(default_factory=list)


class DevLoginConfig(_Strict):
    """The embedded development identity provider: a page listing these users. Unsafe for production."""

    users: list[DevUser] = Field(
        default_factory=lambda: [DevUser(email="dev@example.com", groups=["developers"])]
    )
    auto_login: str | None = Field(
        default=None,
        description="Log this user (one of `users`) in without showing the page: headless clients, tests.",
    )
    skip_consent: bool = Field(
        default=False,
        description="With auto_login, skip the consent page too: only on a loopback-only portal.",
    )

    @model_validator(mode="after")
    def _skip_consent_needs_auto_login(self) -> DevLoginConfig:
        # The consent page is what stops a stranger's client getting codes (portal/oauth/consent.py);
        # skipping it is only for a headless laptop setup where no person is there to click.
        if self.skip_consent and self.auto_login is None:
            raise ValueError("auth.dev.skip_consent is allowed only together with auth.dev.auto_login")
        return self


class OidcConfig(_Strict):
    """Login at an upstream OpenID Connect provider (authlib): discovery, PKCE, nonce, id_token checks."""

    issuer: str = Field(description="Issuer URL; discovery is at <issuer>/.well-known/openid-configuration.")
    client_id: str
    client_secret: SecretStr
    scopes: list[str] = Field(default_factory=lambda: ["openid", "email", "profile"])
    email_claim: str = "email"
    groups_claim: str = Field(
        default="groups", description="Claim holding the user's groups; a dotted path reaches nested claims."
    )
    session_secret: SecretStr | None = Field(
        default=None,
        description="Key of the short-lived login cookie; default: derived from client_secret.",
    )

    @field_validator("issuer")
    @classmethod
    def _https_issuer(cls, value: str) -> str:
        return _secure_url(value, "oidc.issuer")


ProxyAlgorithm = Literal["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]  # asymmetric only


def _default_proxy_algorithms() -> list[ProxyAlgorithm]:
    return ["RS256", "ES256"]


class ProxyConfig(_Strict):
    """Trust an identity-aware proxy's signed JWT header (Cloudflare Access, Google IAP, oauth2-proxy)."""

    header: str = Field(description="Header carrying the JWT, e.g. Cf-Access-Jwt-Assertion.")
    jwks_url: str
    audience: str
    issuer: str
    algorithms: list[ProxyAlgorithm] = Field(default_factory=_default_proxy_algorithms)
    email_claim: str = "email"
    groups_claim: str | None = Field(
        default=None, description="Claim with groups; a dotted path reaches nested ones."
    )

    @field_validator("jwks_url")
    @classmethod
    def _https_jwks(cls, value: str) -> str:
        return _secure_url(value, "proxy.jwks_url")


def _secure_url(value: str, name: str) -> str:
    """https, or http on loopback (tests and local providers)."""
    loopback = ("http://127.0.0.1", "http://localhost", "http://[::1]")
    if not (value.startswith("https://") or value.startswith(loopback)):
        raise ValueError(f"{name} must be an https:// URL (http:// only on 127.0.0.1 or localhost)")
    return value.rstrip("/")


class RegistrationConfig(_Strict):
    """Limits on dynamic client registration (RFC 7591), which anyone who reaches the portal may use."""

    per_minute: int = Field(
        default=10, ge=1, le=100_000, description="Registrations a minute per client address (IPv6: per /64)."
    )
    burst: int = Field(
        default=20,
        ge=1,
        le=100_000,
        description="Registrations one address may make at once, before the rate applies.",
    )
    unused_client_ttl_seconds: int = Field(
        default=24 * 3600,
        ge=60,
        le=365 * 24 * 3600,
        description="Delete a client that has no code or token this long after it registered.",
    )
    purge_interval_seconds: int = Field(
        default=600,
        ge=1,
        le=24 * 3600,
        description="How often expired codes, tokens and unused clients are deleted.",
    )


class AuthConfig(_Strict):
    """How MCP clients get tokens: the portal is their OAuth server, and delegates the login itself."""

    mode: Literal["dev", "oidc", "proxy"] = Field(
        default="dev", description="Who logs users in: the development page, an OIDC provider, or a proxy."
    )
    dev: DevLoginConfig = Field(default_factory=DevLoginConfig)
    oidc: OidcConfig | None = None
    proxy: ProxyConfig | None = None
    allow_dev_login_on_public_address: bool = Field(
        default=False, description="Serve the development login on a non-loopback address anyway."
    )
    access_token_ttl_seconds: int = Field(default=3600, ge=60, le=24 * 3600)
    refresh_token_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=300, le=365 * 24 * 3600)
    authorization_code_ttl_seconds: int = Field(default=300, ge=30, le=600)
    token_ttl_seconds: int = Field(
        default=8 * 3600, gt=0, le=30 * 24 * 3600, description="Longest (default) `portal token` lifetime."
    )
    key_rotation_days: int = Field(
        default=30, ge=0, le=3650, description="Sign with a new key after this many days; 0: only by hand."
    )
    registration: RegistrationConfig = Field(default_factory=RegistrationConfig)

    @model_validator(mode="after")
    def _mode_is_configured(self) -> AuthConfig:
        if self.mode == "oidc" and self.oidc is None:
            raise ValueError("auth.mode is 'oidc' but the auth.oidc section is missing")
        if self.mode == "proxy" and self.proxy is None:
            raise ValueError("auth.mode is 'proxy' but the auth.proxy section is missing")
        emails = {user.email.lower() for user in self.dev.users}
        if self.dev.auto_login is not None and self.dev.auto_login.lower() not in emails:
            raise ValueError("auth.dev.auto_login must be one of auth.dev.users")
        return self


class SandboxConfig(_Strict):
    """Per-execution limits handed to the sandbox, and per-group adjustments.

    ``groups`` maps a group to overrides by the sandbox's limit names
    (``wall_seconds``, ``max_tool_calls``, ``memory_bytes``, ...). The sandbox
    policy decides what is allowed: a tunable limit stays under its ceiling, a
    fixed one can only go down. A caller in several groups gets the lowest value.
    """

    wall_seconds: float = Field(default=30.0, gt=0, le=600)
    cpu_seconds: int = Field(default=10, gt=0, le=600)
    memory_mb: int = Field(default=512, ge=64, le=8192)
    output_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    max_tool_calls: int = Field(default=200, ge=1, le=10_000)
    groups: dict[str, dict[str, float]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _within_policy(self) -> SandboxConfig:
        from portal.limits import base_limits

        base = base_limits(self)
        for group, overrides in self.groups.items():
            try:
                sandbox.tighten(base, **overrides)
            except ValueError as exc:
                raise ValueError(f"sandbox.groups.{group}: {exc}") from None
        return self


class ErrorReportingConfig(_Strict):
    """The portal's own errors go to Sentry when a DSN is set (sentry-sdk); off by default."""

    sentry_dsn: SecretStr | None = None
    environment: str = "production"
    traces_sample_rate: float = Field(default=0.0, ge=0.0, le=1.0)


class ExecutionLimitsConfig(_Strict):
    """How many executions one user may start: per minute, and at once. Null turns a limit off."""

    per_minute: int | None = Field(default=120, ge=1, le=100_000)
    in_flight: int | None = Field(default=4, ge=1, le=1_000)


class AuditSinkConfig(_Strict):
    """Where each audit record also goes as it is written, for a SIEM: a JSON-lines file or syslog."""

    type: Literal["jsonl", "syslog"]
    path: Path | None = Field(default=None, description="jsonl: the file; rotated at max_bytes.")
    max_bytes: int = Field(default=100 * 1024 * 1024, ge=1024, le=1024**4)
    backups: int = Field(default=10, ge=0, le=1000, description="jsonl: rotated files kept.")
    address: str = Field(default="/dev/log", description="syslog: a Unix socket path, or host:port for UDP.")
    facility: Literal["user", "auth", "authpriv", "daemon", "local0", "local1", "local2", "local3",
                      "local4", "local5", "local6", "local7"] = "local0"  # fmt: skip

    @model_validator(mode="after")
    def _jsonl_needs_path(self) -> AuditSinkConfig:
        if self.type == "jsonl" and self.path is None:
            raise ValueError("audit.sink.path is required when audit.sink.type is 'jsonl'")
        return self


class AuditConfig(_Strict):
    """What the audit trail keeps of each execution."""

    store_code: bool = Field(
        default=False, description="Keep the code itself, not only its SHA-256 and size."
    )
    sink: AuditSinkConfig | None = Field(
        default=None, description="Also send every record, as one JSON line, to a file or syslog."
    )


class TracingConfig(_Strict):
    """OpenTelemetry traces of executions (portal/tracing.py); exported only when an endpoint is set."""

    otlp_endpoint: str | None = Field(
        default=None, description="OTLP/HTTP traces URL, e.g. http://collector:4318/v1/traces."
    )
    otlp_headers: dict[str, SecretStr] = Field(default_factory=dict)
    service_name: str = "mcp-portal"
    sample_ratio: float = Field(default=1.0, ge=0.0, le=1.0)

    @field_validator("otlp_endpoint")
    @classmethod
    def _http_endpoint(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("tracing.otlp_endpoint must be an http:// or https:// URL")
        return value


class ApprovalConfig(_Strict):
    """Ask the user before these tools run (portal/approvals.py); the section absent: ask for nothing."""

    tools: list[str] | None = Field(
        default=None,
        description='Globs over "namespace.tool"; default: each tool annotated (or by default) destructive.',
    )
    exclude: list[str] = Field(default_factory=list, description="Globs never asked about.")
    when_unsupported: Literal["refuse", "allow"] = Field(
        default="refuse", description="A client that cannot ask its user (no elicitation): refuse, or run."
    )
    timeout_seconds: float = Field(default=120.0, gt=0, le=3600)


class AdminConfig(_Strict):
    """The operator page at /admin: off unless a group is named; its members log in as for MCP."""

    group: str | None = Field(default=None, description="Members of this group may use /admin.")
    session_ttl_seconds: int = Field(default=8 * 3600, ge=60, le=7 * 24 * 3600)
    stats_window_minutes: int = Field(
        default=60, ge=1, le=7 * 24 * 60, description="Call rates and latencies over this recent span."
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
    replica_id: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9-]{0,31}$",
        description="This replica's name, put in front of its MCP session ids so a balancer can route "
        "sessions back to it (portal/session_affinity.py); absent: one replica, ids untouched.",
    )
    drain_seconds: float = Field(
        default=30.0, ge=0, le=3600, description="On SIGTERM, how long requests in flight get to finish."
    )
    codemode: bool = True
    result_max_bytes: int = Field(default=24_000, ge=256, le=4 * 1024 * 1024)
    auth: AuthConfig = Field(default_factory=AuthConfig)
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)
    permissions: list[PermissionRule] | None = Field(
        default=None, description="Who may use which tool; absent: everyone may use everything."
    )
    executions: ExecutionLimitsConfig = Field(default_factory=ExecutionLimitsConfig)
    audit: AuditConfig = Field(default_factory=AuditConfig)
    tracing: TracingConfig = Field(default_factory=TracingConfig)
    admin: AdminConfig = Field(default_factory=AdminConfig)
    approve: ApprovalConfig | None = Field(
        default=None, description="Human approval of destructive calls, by elicitation (docs/protocol.md)."
    )
    log_probes: bool = Field(
        default=False, description="Write access-log lines for /metrics and /healthz (noise: off)."
    )
    error_reporting: ErrorReportingConfig = Field(default_factory=ErrorReportingConfig)
    metrics: bool = Field(default=True, description="Serve Prometheus metrics at /metrics.")
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token a scraper must send for /metrics; absent: /metrics answers loopback only.",
    )
    servers: list[ServerConfig] = Field(default_factory=list)

    @field_validator("servers")
    @classmethod
    def _unique_namespaces(cls, servers: list[ServerConfig]) -> list[ServerConfig]:
        seen: dict[str, int] = {}
        for index, server in enumerate(servers):
            if server.namespace in seen:
                raise ValueError(
                    f"namespace {server.namespace!r} is declared twice: servers.{seen[server.namespace]} "
                    f"and servers.{index}"
                )
            seen[server.namespace] = index
        return servers

    @model_validator(mode="after")
    def _direct_names_cannot_collide(self) -> PortalConfig:
        """In direct mode ``a`` + ``b_c`` and ``a_b`` + ``c`` would both be ``a_b_c`` (`portal.naming`)."""
        if self.codemode:
            return self
        prefixes = {server.namespace: server.direct_prefix for server in self.servers}
        clash = naming.tool_prefix_clash(prefixes)
        if clash is not None:
            where = {server.namespace: index for index, server in enumerate(self.servers)}
            short, long = clash
            rest = prefixes[long][len(prefixes[short]) :]
            raise ValueError(
                f"servers.{where[short]} (namespace {short!r}) and servers.{where[long]} (namespace "
                f"{long!r}) can give the same direct-mode tool name: a tool '{rest}x' of {short!r} and "
                f"a tool 'x' of {long!r} are both '{prefixes[long]}x'; rename one namespace, set a "
                "tool_prefix that neither starts the other, or use Code Mode"
            )
        return self

    def base_url(self) -> str:
        """The URL clients use to reach the portal, without a trailing slash."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


def demo_config_path() -> Path:
    """Where the running demo's config is, the one used when no ``--config`` is given.

    The demo launcher (``make run``, ``python -m demo``) writes it while the demo runs,
    with the URLs of the fakes it started; the product itself ships no demo config.
    """
    return Path(".portal") / "demo.yaml"


def load_config(path: Path | None = None, environ: dict[str, str] | None = None) -> PortalConfig:
    """Read, override from the environment, and validate a config file (the running demo's by default)."""
    if path is None and not demo_config_path().is_file():
        raise ConfigError(
            f"no --config given and no demo running here ({demo_config_path()} not found): start the demo "
            "with `make run` (or `python -m demo`), or pass --config portal.yaml"
        )
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
