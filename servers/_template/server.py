"""The MCP face of the status page: tool definitions only, no I/O of its own.

`build_server(settings)` is the whole contract. The portal imports it and
mounts the result in-process, so it must not touch the network: the client
opens connections lazily, at the first tool call.

Decisions a developer copying this file must make, per tool:

- NAME: a verb and a noun, snake_case, stable (the portal namespaces it, e.g.
  `status.list_services`). Renaming a tool breaks every saved script.
- DESCRIPTION: the docstring is the only manual the model reads. Say what
  comes back, the units, the possible states, and what to call next.
- PARAMETER TYPES: `Literal[...]` for closed sets (the schema lists them, so
  the model cannot invent a state); `Annotated[..., Field(description=...)]`
  to document one argument.
- OUTPUT: return a TypedDict, a pydantic model or `list[...]` so the SDK
  publishes an outputSchema and sends `structuredContent`; a bare `dict` gives
  no schema (STACK.md).
- ANNOTATIONS: read_only_hint=True for reads; for writes read_only_hint=False plus
  destructiveHint (does it delete or overwrite?) and idempotentHint. Clients
  use them to decide what needs a human's confirmation.
- ERRORS: catch our BackendError and raise ToolError: the model gets
  `isError: true` with our message, never a traceback. Anything else that
  escapes is a bug, and the SDK hides its text. A message says what was wrong
  and what to call next ("no service 'x' (404): list the ids with
  list_services()"); it names the setting to fix (TEMPLATE_URL), never the
  URL, host or port, and does not start with the tool's name (the portal adds it).
- RESULT TYPES: one TypedDict per shape, with a clear class name (it is the
  shape name a model reads, e.g. `Service`); nested shapes get their own class;
  a field that may be missing is `NotRequired[...]`, one that may be null `X | None`.
"""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field

from servers._toolkit import tool_errors

from .client import BackendError, Impact, Incident, Service, ServiceDetail, StatusPageClient
from .settings import Settings

__all__ = ["build_server"]

READ = ToolAnnotations(read_only_hint=True, open_world_hint=True)
# Creating an incident adds data and deletes nothing; twice means two incidents.
WRITE = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True
)


# Turn our BackendError into the SDK's ToolError (an isError result).
_tool_errors = tool_errors(BackendError)


def build_server(settings: Settings) -> MCPServer:
    client = StatusPageClient(settings)
    server = MCPServer(
        name="template",
        # Say once what the system is for, in its users' words (product category, everyday
        # nouns and verbs): search indexes this text for every tool of the server.
        instructions="Status page: service status and uptime, outages and incidents, which services are up.",
    )

    # Sync tools are fine: the SDK runs them in a worker thread.
    @server.tool(annotations=READ)
    @_tool_errors
    def list_services() -> list[Service]:
        """List every service on the status page with its current status.

        status is one of operational, degraded, partial_outage, major_outage;
        updated_at is an ISO 8601 UTC timestamp. Use get_service(id) for a
        service's description and open incidents.
        """
        return client.list_services()

    @server.tool(annotations=READ)
    @_tool_errors
    def get_service(
        service_id: Annotated[str, Field(description="Service id from list_services, e.g. 'api'")],
    ) -> ServiceDetail:
        """Get one service: its status, description and its open (not resolved) incidents."""
        return client.get_service(service_id)

    @server.tool(annotations=WRITE)
    @_tool_errors
    def create_incident(
        service_id: Annotated[str, Field(description="Service id from list_services")],
        title: Annotated[str, Field(min_length=3, max_length=200, description="One-line summary")],
        impact: Impact = "minor",
    ) -> Incident:
        """Open a new incident (status 'investigating') on a service and return it.

        impact: minor (some users notice), major (many users affected) or
        critical (service unusable). Not idempotent: each call opens a new incident.
        """
        return client.create_incident(service_id, title, impact)

    return server
