"""The FastAPI application: ``/mcp`` (Streamable HTTP, bearer auth), ``/healthz`` and ``/metrics``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Response
from mcp.server.auth.settings import AuthSettings
from mcp.server.transport_security import TransportSecuritySettings

from portal import __version__
from portal.auth import SCOPE, DevTokenVerifier, load_signing_key
from portal.config import PortalConfig
from portal.error_reporting import init_error_reporting
from portal.mcp_server import build_mcp_server
from portal.metrics import CONTENT_TYPE_LATEST
from portal.runtime import PortalRuntime

__all__ = ["create_app"]

logger = logging.getLogger(__name__)
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _transport_security(config: PortalConfig) -> TransportSecuritySettings | None:
    """DNS-rebinding protection on loopback; behind a real hostname the proxy in front decides."""
    if config.host in _LOOPBACK:
        return TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
            allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
        )
    return TransportSecuritySettings(enable_dns_rebinding_protection=False)


def create_app(config: PortalConfig) -> FastAPI:
    """Wire the runtime, the MCP server and auth into one ASGI app."""
    init_error_reporting(config.error_reporting, release=f"mcp-portal@{__version__}")
    runtime = PortalRuntime.create(config)
    key = load_signing_key(config.state_dir, config.auth.issuer)
    server = build_mcp_server(config.codemode, runtime.registry, runtime.catalog, runtime.codemode)
    mcp_app = server.streamable_http_app(
        streamable_http_path="/mcp",
        transport_security=_transport_security(config),
        host=config.host,
        auth=AuthSettings(
            issuer_url=config.base_url(),  # type: ignore[arg-type]
            resource_server_url=f"{config.base_url()}/mcp",  # type: ignore[arg-type]
            required_scopes=[SCOPE],
            validate_token_resource=False,  # DevTokenVerifier checks the audience itself
        ),
        token_verifier=DevTokenVerifier(key),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            async with runtime.registry, server.session_manager.run():
                for status in runtime.registry.statuses():
                    logger.info("server %s: %s (%d tools)", status.namespace, status.state, status.tool_count)
                yield
        finally:
            runtime.close()

    app = FastAPI(title="MCP portal", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.runtime = runtime

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        statuses = runtime.registry.statuses()
        return {
            "status": "ok" if all(s.state in ("ready", "disabled") for s in statuses) else "degraded",
            "codemode": config.codemode,
            "servers": [
                {"namespace": s.namespace, "state": s.state, "tools": s.tool_count, "error": s.error}
                for s in statuses
            ],
        }

    if config.metrics:

        @app.get("/metrics", include_in_schema=False)
        async def metrics() -> Response:
            return Response(runtime.metrics.render(runtime.registry), media_type=CONTENT_TYPE_LATEST)

    app.mount("/", mcp_app)
    return app
