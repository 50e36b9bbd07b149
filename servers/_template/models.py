"""The shapes the tools return: TypedDicts, so each tool publishes an outputSchema.

DECISION: return compact TypedDicts, not the raw payload. They become the
tool's outputSchema, and every field costs the model tokens: keep the useful ones.
One class per shape, with a clear class name (it is the shape name a model reads,
e.g. `Service`); nested shapes get their own class; a field that may be missing is
`NotRequired[...]`, one that may be null `X | None`.
"""

from __future__ import annotations

from typing import Literal

from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

__all__ = ["Impact", "Incident", "Service", "ServiceDetail", "ServiceStatus"]

ServiceStatus = Literal["operational", "degraded", "partial_outage", "major_outage"]
Impact = Literal["minor", "major", "critical"]


class Service(TypedDict):
    id: str
    name: str
    status: ServiceStatus
    updated_at: str


class Incident(TypedDict):
    id: int
    service_id: str
    title: str
    status: Literal["investigating", "identified", "monitoring", "resolved"]
    impact: Impact
    created_at: str


class ServiceDetail(Service):
    description: str
    open_incidents: list[Incident]
