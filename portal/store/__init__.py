"""The portal's database: users (anonymous ids), the audit trail, OAuth clients, codes and tokens.

SQLAlchemy over a SQLite file by default (``<state_dir>/portal.db``), PostgreSQL
when ``database_url`` is configured; the schema is managed with Alembic and
brought to the newest revision when the store opens.
"""

from portal.store.admission import AdmissionBucket, AdmissionLease
from portal.store.database import Store, open_store
from portal.store.models import (
    Base,
    ExecutionRecord,
    OAuthClient,
    OAuthCode,
    OAuthConsent,
    RefreshToken,
    SigningKeyRecord,
    ToolCallRecordRow,
    User,
)
from portal.store.observed_shapes import ObservedShapeRow

__all__ = [
    "AdmissionBucket",
    "AdmissionLease",
    "Base",
    "ExecutionRecord",
    "OAuthClient",
    "OAuthCode",
    "OAuthConsent",
    "ObservedShapeRow",
    "RefreshToken",
    "SigningKeyRecord",
    "Store",
    "ToolCallRecordRow",
    "User",
    "open_store",
]
