"""Report the portal's own errors to Sentry (sentry-sdk) when a DSN is configured.

Only the portal's faults are reported: unhandled exceptions in the app and
ERROR log records (an upstream that cannot start, say). Model code, tool
arguments and results are not sent: no request bodies, no local variables,
no personal data.
"""

from __future__ import annotations

import logging

import sentry_sdk
from sentry_sdk.integrations.logging import LoggingIntegration

from portal.config import ErrorReportingConfig

__all__ = ["init_error_reporting"]


def init_error_reporting(config: ErrorReportingConfig, release: str) -> bool:
    """Start reporting; returns whether it is on."""
    if config.sentry_dsn is None:
        return False
    sentry_sdk.init(
        dsn=config.sentry_dsn.get_secret_value(),
        environment=config.environment,
        release=release,
        traces_sample_rate=config.traces_sample_rate,
        send_default_pii=False,
        include_local_variables=False,  # frames may hold tokens or model code
        max_request_body_size="never",
        integrations=[LoggingIntegration(level=logging.INFO, event_level=logging.ERROR)],
    )
    return True
