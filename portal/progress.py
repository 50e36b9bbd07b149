"""One MCP request's sink (portal/relay.py): upstream logs, progress and questions reach its caller.

Direct mode relays an upstream's progress as it is, under the caller's
``progressToken``. Code Mode reports the execution instead: a notification when
each inner tool call starts and when it ends, ``progress`` = (started + ended) / 2
(so it rises at every event, also when calls run in parallel), ``total`` = the
execution's tool-call limit, and the message names the tool and the call's number;
an upstream's own progress is nested in that message. Log lines are tagged with
the namespace (``logger`` = ``namespace`` or ``namespace.logger``) and filtered by
the connection's ``logging/setLevel``.
"""

from __future__ import annotations

import logging
from typing import Any

import mcp_types as types
from mcp.shared.message import ServerMessageMetadata

from portal.notifications import ConnectedClients, connection_of

__all__ = ["RequestSink"]

logger = logging.getLogger(__name__)
_ELICITATION = types.ClientCapabilities(elicitation=types.ElicitationCapability())
_SAMPLING = types.ClientCapabilities(sampling=types.SamplingCapability())


class RequestSink:
    """What upstreams say during one request, sent back on that request's stream."""

    def __init__(self, ctx: Any, clients: ConnectedClients, call_limit: int | None = None) -> None:
        self._ctx = ctx
        self._clients = clients
        self._connection = connection_of(ctx)
        self._call_limit = call_limit  # Code Mode: the execution's max_tool_calls; None: direct mode
        self._started = self._ended = 0
        self._last = -1.0
        self.sent: list[tuple[float, float | None, str | None]] = []  # what was reported, for the audit

    async def _progress(self, value: float, total: float | None, message: str | None) -> None:
        if value <= self._last:  # progress must rise at every notification; a no-op without a token
            return
        self._last = value
        self.sent.append((value, total, message))
        try:
            await self._ctx.session.report_progress(value, total, message)
        except Exception as exc:  # boundary: a client gone mid-call must not fail the call
            logger.debug("progress not delivered: %s", exc)

    async def log(self, namespace: str, params: types.LoggingMessageNotificationParams) -> None:
        if not self._clients.wants(self._connection, params.level):
            return
        tag = namespace if not params.logger else f"{namespace}.{params.logger}"
        try:
            await self._ctx.session.send_log_message(params.level, params.data, tag, self._ctx.request_id)
        except Exception as exc:  # boundary: as above
            logger.debug("log line not delivered: %s", exc)

    async def progress(
        self, namespace: str, progress: float, total: float | None, message: str | None
    ) -> None:
        if self._call_limit is None:
            await self._progress(progress, total, message)
            return
        base = (self._started + self._ended) / 2
        share = min(progress / total, 1.0) if total else 0.0
        detail = (
            f"{namespace}: {progress:g}"
            + (f"/{total:g}" if total else "")
            + (f" {message}" if message else "")
        )
        await self._progress(base + 0.49 * share, self._call_limit, f"call {self._started} reports {detail}")

    async def call_started(self, namespace: str, tool: str) -> None:
        if self._call_limit is None:
            return
        self._started += 1
        await self._progress(
            (self._started + self._ended) / 2,
            self._call_limit,
            f"call {self._started} of at most {self._call_limit}: {namespace}.{tool} started",
        )

    async def call_finished(self, namespace: str, tool: str, ok: bool) -> None:
        if self._call_limit is None:
            return
        self._ended += 1
        outcome = "done" if ok else "failed"
        await self._progress(
            (self._started + self._ended) / 2,
            self._call_limit,
            f"{self._ended} of {self._started} calls ended: {namespace}.{tool} {outcome}",
        )

    async def elicit(
        self, namespace: str, params: types.ElicitRequestParams
    ) -> types.ElicitResult | types.ErrorData:
        if not self._ctx.session.check_client_capability(_ELICITATION):
            return _no_capability("elicitation")
        return await self._ask(types.ElicitRequest(params=params), types.ElicitResult)

    async def sample(
        self, namespace: str, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult | types.ErrorData:
        if not self._ctx.session.check_client_capability(_SAMPLING):
            return _no_capability("sampling")
        return await self._ask(types.CreateMessageRequest(params=params), types.CreateMessageResult)

    async def _ask(self, request: Any, result_type: Any) -> Any:
        try:
            return await self._ctx.session.send_request(
                request, result_type, metadata=ServerMessageMetadata(related_request_id=self._ctx.request_id)
            )
        except Exception as exc:  # boundary: the client's error or a closed stream, as the upstream's answer
            return types.ErrorData(code=types.INTERNAL_ERROR, message=f"the client did not answer: {exc}")


def _no_capability(capability: str) -> types.ErrorData:
    return types.ErrorData(
        code=types.INVALID_REQUEST, message=f"the portal's client does not support {capability}"
    )
