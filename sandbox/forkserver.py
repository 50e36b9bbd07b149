"""Host side of the fork server: start it once, ask it for one fresh worker per run.

`ForkServer.spawn()` hands the fork server three new descriptors (the worker's
end of a channel socketpair, of a status socketpair, and an output memfd) and
gets back the worker's pid; the host keeps the other ends. Nothing is shared
between runs: each worker is a new process, never reused, and each has its own
channel. The fork server is started lazily by the first run (or by
`start_pool()`), with an empty environment; if it dies, the next spawn starts
a new one.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Final

import anyio
from anyio.abc import SocketStream

from sandbox import output
from sandbox.errors import SandboxUnavailable
from sandbox.types import Limits
from sandbox.zygote import STATUS

START_TIMEOUT: Final = 30.0
# How long a killed worker may take to be reported reaped before the host stops waiting.
REAP_TIMEOUT: Final = 5.0


class _ServerGone(Exception):
    """The fork server died before answering a spawn request."""


@dataclass
class Worker:
    """The host's handles on one worker process."""

    pid: int
    stream: SocketStream
    status: socket.socket
    output_fd: int
    output_limit: int
    returncode: int | None = field(default=None)
    # Set once the worker sent its done message: it is exiting by itself, so
    # the host kills it without waiting for the fork server to reap it.
    finished: bool = field(default=False)

    def kill(self) -> None:
        """Ask the fork server to SIGKILL the worker (idempotent, never raises)."""
        with contextlib.suppress(OSError):
            self.status.send(b"k")

    async def wait(self) -> int | None:
        """The worker's return code (-signal when killed); None if the fork server died."""
        while self.returncode is None:
            data = await _recv_status(self.status)
            if not data:
                return None
            kind, value = STATUS.unpack(data)
            if kind == b"X":
                self.returncode = os.waitstatus_to_exitcode(value)
        return self.returncode

    def output(self) -> tuple[str, bool]:
        """What the worker printed (kept part) and whether it hit the cap."""
        return output.read_shared(self.output_fd, self.output_limit)

    async def aclose(self) -> None:
        with contextlib.suppress(Exception):
            await self.stream.aclose()
        self.status.close()
        with contextlib.suppress(OSError):
            os.close(self.output_fd)


async def _recv_status(sock: socket.socket) -> bytes:
    while True:
        try:
            return sock.recv(64)
        except BlockingIOError:
            await anyio.wait_readable(sock)
        except OSError:
            return b""


class ForkServer:
    """One fork server process per host process (per `ForkServer` instance)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None
        self._owner = 0
        self.platform: dict[str, Any] = {}
        self.layers: tuple[str, ...] = ()
        self._running: set[int] = set()

    def running(self) -> frozenset[int]:
        """Pids of the workers serving a run right now (spares are not listed)."""
        return frozenset(self._running)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def alive(self) -> bool:
        return self._process is not None and self._owner == os.getpid() and self._process.poll() is None

    def start(self) -> None:
        """Start the fork server unless it runs; blocks until it is ready."""
        with self._lock:
            if not self.alive():
                self._launch()

    def _launch(self) -> None:
        self._close()
        host_end, server_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-I", "-m", "sandbox.zygote", str(server_end.fileno())],
                env={},
                cwd="/",
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=(server_end.fileno(),),
                start_new_session=True,
            )
        except OSError as exc:
            host_end.close()
            raise SandboxUnavailable(f"cannot start the sandbox fork server: {exc}") from exc
        finally:
            server_end.close()
        self._owner = os.getpid()
        self._control = host_end
        host_end.settimeout(START_TIMEOUT)
        try:
            ready = json.loads(host_end.recv(65536) or b"{}")
        except (OSError, ValueError) as exc:
            ready = {"error": str(exc)}
        if not ready.get("ready"):
            self._close()
            raise SandboxUnavailable(
                f"the sandbox fork server did not start: {ready.get('error', 'it exited')}"
            )
        host_end.setblocking(False)
        self.platform, self.layers = ready["platform"], tuple(ready["layers"])

    def _close(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._process is not None and self._owner == os.getpid():
            with contextlib.suppress(ProcessLookupError):
                self._process.send_signal(signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=5)
        self._process = None

    def stop(self) -> None:
        """Stop the fork server; its workers are killed with it."""
        with self._lock:
            self._close()

    async def ensure_started(self) -> None:
        if not self.alive():
            await anyio.to_thread.run_sync(self.start)

    @contextlib.asynccontextmanager
    async def worker(self, limits: Limits) -> AsyncIterator[Worker]:
        """A fresh worker for one run; killed and reaped when the block exits, even on cancel."""
        handle = await self._spawn(limits)
        self._running.add(handle.pid)
        try:
            yield handle
        finally:
            self._running.discard(handle.pid)
            with anyio.CancelScope(shield=True):
                handle.kill()
                if not handle.finished:  # cancelled or failed: return only once it is gone
                    with anyio.move_on_after(REAP_TIMEOUT):
                        await handle.wait()
                await handle.aclose()

    async def _spawn(self, limits: Limits) -> Worker:
        for _attempt in range(2):
            await self.ensure_started()
            try:
                return await self._request(limits)
            except _ServerGone:
                with self._lock:
                    if self._process is not None and self._process.poll() is not None:
                        self._close()
        raise SandboxUnavailable("the sandbox fork server keeps dying: see the host's logs and limits")

    async def _request(self, limits: Limits) -> Worker:
        control = self._control
        if control is None:
            raise _ServerGone
        channel_host, channel_worker = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        status_host, status_worker = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        memfd = os.memfd_create("sandbox-output", os.MFD_CLOEXEC)
        stream: SocketStream | None = None
        try:
            os.ftruncate(memfd, output.buffer_size(limits.output_bytes))
            request = json.dumps(_worker_limits(limits)).encode()
            await _send_request(control, request, [channel_worker.fileno(), status_worker.fileno(), memfd])
            channel_worker.close()
            status_worker.close()
            status_host.setblocking(False)
            answer = await _recv_status(status_host)
            if not answer:
                raise _ServerGone
            _, pid = STATUS.unpack(answer)
            stream = await SocketStream.from_socket(channel_host)
            return Worker(pid, stream, status_host, memfd, limits.output_bytes)
        except BaseException:
            # Closing the status socket tells the fork server to kill the worker.
            for sock in (channel_host, channel_worker, status_host, status_worker):
                sock.close()
            os.close(memfd)
            raise


def _worker_limits(limits: Limits) -> dict[str, int]:
    """The limits the worker applies itself (wall time and call counts stay with the host)."""
    names = (
        "cpu_seconds",
        "memory_bytes",
        "output_bytes",
        "result_bytes",
        "recursion_depth",
        "max_ast_depth",
        "max_concurrent_tool_calls",
    )
    return {name: int(getattr(limits, name)) for name in names}


async def _send_request(control: socket.socket, request: bytes, fds: list[int]) -> None:
    while True:
        try:
            socket.send_fds(control, [request], fds)
            return
        except BlockingIOError:
            await anyio.sleep(0.001)  # the fork server is busy; its queue drains fast
        except OSError as exc:
            raise _ServerGone from exc


_default = ForkServer()


def default_server() -> ForkServer:
    """The fork server `sandbox.run` uses."""
    return _default


def start_pool() -> ForkServer:
    """Start the default fork server now rather than on the first run (blocking)."""
    _default.start()
    return _default
