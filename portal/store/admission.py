"""Tables of the per-user admission limits shared by every replica (portal/ratelimit.py).

Times are seconds since the epoch as floats: the arithmetic of a token bucket
runs inside one SQL statement on SQLite and PostgreSQL alike, with no interval types.
"""

from __future__ import annotations

from sqlalchemy import Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.store.models import Base

__all__ = ["AdmissionBucket", "AdmissionLease"]


class AdmissionBucket(Base):
    """One user's token bucket of executions per minute; the row is also the lock of the user's admissions."""

    __tablename__ = "admission_buckets"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class AdmissionLease(Base):
    """One execution in flight; its replica renews it, so the lease of a killed replica lapses."""

    __tablename__ = "admission_leases"
    __table_args__ = (Index("ix_admission_leases_user_expires", "user_id", "expires_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64))
    replica: Mapped[str] = mapped_column(String(32), index=True)
    expires_at: Mapped[float] = mapped_column(Float)
