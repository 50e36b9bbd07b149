"""The FastAPI app: ``/mcp`` (Streamable HTTP, OAuth bearer tokens), the OAuth endpoints, health, metrics."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.to_thread
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from mcp.server.transport_security import TransportSecuritySettings

import sandbox
from portal import __version__
from portal.admin import admin_routes
from portal.config import PortalConfig
from portal.discovery import discovery_routes
from portal.drain import Drain, DrainGate
from portal.error_reporting import init_error_reporting
from portal.mcp_server import build_mcp_server
from portal.metrics import CONTENT_TYPE_LATEST, ScrapeGate
from portal.oauth import build_auth
from portal.readiness import Readiness
from portal.runtime import PortalRuntime
from portal.session_affinity import ReplicaSessionIds
from portal.status_line import servers_line
from portal.tracing import configure as configure_tracing

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
    """Wire the runtime, the MCP server and auth into one ASGI app.

    Raises ConfigError when the auth setup is unsafe (the development login on a public address).
    """
    init_error_reporting(config.error_reporting, release=f"mcp-portal@{__version__}")
    runtime = PortalRuntime.create(config)
    traces = configure_tracing(config.tracing)  # None unless tracing.otlp_endpoint is set
    try:
        auth = build_auth(config, runtime.store, runtime.identities)
    except Exception:
        runtime.close()
        raise
    prefixes = {s.namespace: s.direct_prefix for s in config.servers}  # tool_prefix (docs/protocol.md)
    server = build_mcp_server(config.codemode, runtime.registry, runtime.catalog, runtime.codemode, prefixes)
    mcp_app = server.streamable_http_app(
        streamable_http_path="/mcp",
        transport_security=_transport_security(config),
        host=config.host,
    )  # no SDK auth here: the OAuth routes and the /mcp gate come from portal.oauth
    drain = Drain(config.drain_seconds)  # SIGTERM begins it (portal/serving.py)
    readiness = Readiness(runtime.store, drain)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            # The fork server starts before the first request, so no execution waits for it.
            await anyio.to_thread.run_sync(sandbox.start_pool)
            async with runtime.registry, server.session_manager.run():
                statuses = runtime.registry.statuses()  # one line: who is up, and why the others are not
                failed = any(status.state == "failed" for status in statuses)
                line = servers_line(statuses, config.servers)
                logger.log(logging.WARNING if failed else logging.INFO, "%s", line)
                readiness.catalog_loaded = True
                async with anyio.create_task_group() as background:
                    # Expired codes, refresh tokens and unused OAuth clients (portal/oauth/housekeeping.py).
                    background.start_soon(auth.purge_periodically)
                    try:
                        yield
                    finally:
                        background.cancel_scope.cancel()
        finally:
            runtime.close()
            if traces is not None:
                traces.shutdown()  # flushes the spans still queued for the collector

    app = FastAPI(title="MCP portal", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.runtime = runtime
    app.state.drain = drain

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

    @app.get("/readyz")
    async def readyz() -> Response:
        ready, checks = await readiness.check()
        return JSONResponse(checks, status_code=200 if ready else 503)

    if config.metrics:
        scrape_gate = ScrapeGate(config.metrics_token.get_secret_value() if config.metrics_token else None)

        @app.get("/metrics", include_in_schema=False)
        async def metrics(request: Request) -> Response:
            if not scrape_gate.allows(request):  # per-tool counters name tools: not for everyone
                return Response("Not Found", status_code=404, media_type="text/plain")
            return Response(runtime.metrics.render(runtime.registry), media_type=CONTENT_TYPE_LATEST)

    app.router.routes.extend(auth.routes)
    app.router.routes.extend(discovery_routes(config))  # /.well-known/mcp-portal and /opencode, no auth
    app.router.routes.extend(admin_routes(config, runtime, auth))  # /admin, for admin.group (portal/admin/)
    tagged = ReplicaSessionIds(mcp_app, config.replica_id) if config.replica_id else mcp_app
    app.mount("/", DrainGate(auth.protect(tagged), drain))
    return app
