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
- ERRORS: `tool_registrar(server, BackendError)` (servers/_toolkit.py) turns
  our BackendError into the SDK's ToolError: the model gets
  `isError: true` with our message, never a traceback. Anything else that
  escapes is a bug, and the SDK hides its text. A message says what was wrong
  and what to call next ("no service 'x' (404): list the ids with
  list_services()"); it names the setting to fix (TEMPLATE_URL), never the
  URL, host or port, and does not start with the tool's name (the portal adds it).
- RESULT TYPES: in models.py, one TypedDict per shape.
- SHARED PARTS: servers/_toolkit.py holds what every server needs (registration
  with error translation, READ/ADD annotations, clipping long text, paging);
  use it rather than writing them again.
"""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from servers._toolkit import ADD, READ, tool_registrar

from . import models as m
from .client import BackendError, StatusPageClient
from .settings import Settings

__all__ = ["build_server"]


def build_server(settings: Settings) -> MCPServer:
    client = StatusPageClient(settings)
    server = MCPServer(
        name="template",
        # Say once what the system is for, in its users' words (product category, everyday
        # nouns and verbs): search indexes this text for every tool of the server.
        instructions="Status page: service status and uptime, outages and incidents, which services are up.",
    )

    # Registers each tool with our BackendError turned into the SDK's ToolError (an isError result).
    tool = tool_registrar(server, BackendError)

    # Sync tools are fine: the SDK runs them in a worker thread.
    @tool(READ)
    def list_services() -> list[m.Service]:
        """List every service on the status page with its current status.

        status is one of operational, degraded, partial_outage, major_outage;
        updated_at is an ISO 8601 UTC timestamp. Use get_service(id) for a
        service's description and open incidents.
        """
        return client.list_services()

    @tool(READ)
    def get_service(
        service_id: Annotated[str, Field(description="Service id from list_services, e.g. 'api'")],
    ) -> m.ServiceDetail:
        """Get one service: its status, description and its open (not resolved) incidents."""
        return client.get_service(service_id)

    # Creating an incident adds data and deletes nothing; twice means two incidents.
    @tool(ADD)
    def create_incident(
        service_id: Annotated[str, Field(description="Service id from list_services")],
        title: Annotated[str, Field(min_length=3, max_length=200, description="One-line summary")],
        impact: m.Impact = "minor",
    ) -> m.Incident:
        """Open a new incident (status 'investigating') on a service and return it.

        impact: minor (some users notice), major (many users affected) or
        critical (service unusable). Not idempotent: each call opens a new incident.
        """
        return client.create_incident(service_id, title, impact)

    return server
