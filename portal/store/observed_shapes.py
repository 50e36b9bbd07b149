"""The table of result shapes learned from calls: key names and type names only, never values."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.store.models import Base

__all__ = ["ObservedShapeRow"]


class ObservedShapeRow(Base):
    """The recent distinct result shapes of one tool that publishes no ``outputSchema``.

    ``samples`` is a short list of JSON Schema fragments (types, property names,
    ``required``), built by `portal.observed_shapes.describe`; it holds no values.
    """

    __tablename__ = "observed_shapes"

    tool: Mapped[str] = mapped_column(String(200), primary_key=True)  # namespace.tool, as upstream names it
    samples: Mapped[list] = mapped_column(JSON)
    observations: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
