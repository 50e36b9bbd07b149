"""Run the app under uvicorn with a drain on SIGTERM (portal/drain.py), and a second signal to stop at once.

uvicorn's own SIGTERM handling closes the listener and waits for every
connection, standalone GET streams of MCP sessions included, which never end
by themselves. Here SIGTERM first closes the listener (a load balancer's next
connection goes to another replica, and nothing was sent so it retries safely),
closes idle keep-alive connections, refuses new requests on the busy ones with
503 (portal/drain.py), waits for the requests in flight up to the drain
deadline, and then lets uvicorn stop, cancelling what is left after a short grace.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from portal.drain import Drain

__all__ = ["serve"]

logger = logging.getLogger(__name__)
STREAM_GRACE_SECONDS = 2  # what the leftover event streams get once the drain is over


class _DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, drain: Drain) -> None:
        super().__init__(config)
        self._drain = drain
        self._drain_task: asyncio.Task[None] | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig != signal.SIGTERM or self._drain.draining or self.should_exit:
            super().handle_exit(sig, frame)  # Ctrl-C, or a second signal: stop now
            return
        self._drain.begin()
        loop = asyncio.get_event_loop()
        loop.call_soon_threadsafe(self._start_drain, sig)

    def _start_drain(self, sig: int) -> None:
        self._drain_task = asyncio.get_running_loop().create_task(self._drain_then_exit(sig))

    async def _drain_then_exit(self, sig: int) -> None:
        logger.info("SIGTERM: draining %d request(s) in flight", self._drain.in_flight)
        for server in getattr(self, "servers", []):
            server.close()  # new connections are refused: the balancer picks another replica
        for connection in list(self.server_state.connections):
            connection.shutdown()  # idle keep-alive connections close; busy ones close after their answer
        finished = await self._drain.wait_idle()
        if finished:
            logger.info("drained: no request in flight")
        else:
            logger.warning(
                "drain deadline of %.0f s passed with %d request(s) in flight: stopping anyway",
                self._drain.deadline_seconds,
                self._drain.in_flight,
            )
        super().handle_exit(sig, None)


def serve(app: Any, host: str, port: int, drain: Drain, log_config: dict[str, Any] | None = None) -> None:
    """Serve ``app`` until SIGINT, or SIGTERM and the drain; ``log_config`` replaces uvicorn's own."""
    config = uvicorn.Config(
        app, host=host, port=port, log_level="info", timeout_graceful_shutdown=STREAM_GRACE_SECONDS,
        log_config=log_config if log_config is not None else LOGGING_CONFIG,
    )  # fmt: skip
    _DrainingServer(config, drain).run()
