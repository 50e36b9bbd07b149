"""Host side of the fork server: start it once, ask it for one fresh worker per run.

`ForkServer.worker()` hands the fork server one new descriptor (the fork
server's end of a status socketpair) and gets back, on that socket, the
worker's pid and the host's ends of the worker's channel socketpair and output
memfd, which the fork server made when it forked the worker. Nothing is
shared between runs: each worker is a new process, never reused, and each has
its own channel and output buffer. The channel is a plain non-blocking socket
read with one recv per wake-up (`HostChannel`), not an anyio stream: a tool
call's round trip is on the critical path.

Reservation: each spawn also asks, without waiting, for the next run's worker
with the same limits, so the fork server assigns it (and the worker applies
its run's rlimits) while this run goes on; the next run with those limits
finds its worker waiting for code. A reserved worker is still a fresh process
that has run nothing; one whose limits do not match the next run, or that
died while waiting, is discarded (killed) unused, never given a run.

The fork server is started lazily by the first run (or by `start_pool()`),
with an empty environment; if it dies, the next spawn starts a new one.
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

from sandbox import output, protocol
from sandbox.errors import SandboxUnavailable
from sandbox.types import Limits
from sandbox.zygote import STATUS

START_TIMEOUT: Final = 30.0
# How long a killed worker may take to be reported reaped before the host stops waiting.
REAP_TIMEOUT: Final = 5.0


class _ServerGone(Exception):
    """The fork server died before answering a spawn request."""


class ChannelClosed(protocol.ProtocolError):
    """The worker's end of the channel closed (it exited, or is exiting)."""


class HostChannel:
    """The host's end of one worker's channel: whole frames out, whole messages in.

    One task reads (`receive`); senders take turns (`send` under the caller's
    lock). Reads take everything the socket holds at once and split frames
    from that buffer, so a message costs one recv and at most one wait.
    """

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self._sock = sock
        self._buffer = bytearray()
        self._closed = False

    async def send(self, data: bytes) -> None:
        """Send all of `data`; raises ChannelClosed if the worker's end is gone."""
        view = memoryview(data)
        while view:
            try:
                view = view[self._sock.send(view) :]
            except BlockingIOError:
                await anyio.wait_writable(self._sock)
            except OSError as exc:
                raise ChannelClosed("worker channel closed") from exc

    def _frame(self) -> dict[str, Any] | None:
        buffer = self._buffer
        if len(buffer) < protocol.HEADER_SIZE:
            return None
        length = protocol.frame_length(bytes(buffer[: protocol.HEADER_SIZE]))
        end = protocol.HEADER_SIZE + length
        if len(buffer) < end:
            return None
        body = bytes(buffer[protocol.HEADER_SIZE : end])
        del buffer[:end]
        return protocol.decode_body(body)

    async def receive(self) -> dict[str, Any]:
        """The next message; ChannelClosed on EOF, ProtocolError on garbage."""
        while True:
            message = self._frame()
            if message is not None:
                return message
            if self._closed:
                raise ChannelClosed("worker channel closed")
            try:
                data = self._sock.recv(_RECV_BYTES)
            except BlockingIOError:
                await anyio.wait_readable(self._sock)
                continue
            except OSError:
                data = b""
            if not data:
                self._closed = True
                if self._buffer:
                    raise ChannelClosed("worker channel closed mid-frame")
                continue
            self._buffer += data

    def close(self) -> None:
        self._sock.close()


# Bytes asked of the kernel per recv; a larger frame takes several.
_RECV_BYTES: Final = 256 * 1024


@dataclass
class Worker:
    """The host's handles on one worker process."""

    pid: int
    channel: HostChannel
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
        self.channel.close()
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


@dataclass
class _Reservation:
    """A worker asked for ahead of its run: the request sent, its answer not yet read."""

    request: bytes
    status: socket.socket
    control: socket.socket  # the fork server it was asked of (a restarted one voids it)


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
        self._reserved: list[_Reservation] = []

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
        self._drop_reservations()
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

    def _drop_reservations(self) -> None:
        """Close every reservation: the fork server kills those workers unused."""
        while True:
            try:
                reservation = self._reserved.pop()
            except IndexError:
                return
            reservation.status.close()

    def _take_reservation(self, request: bytes, control: socket.socket) -> _Reservation | None:
        while True:
            try:
                reservation = self._reserved.pop()
            except IndexError:
                return None
            if reservation.request == request and reservation.control is control:
                return reservation
            reservation.status.close()  # other limits, or another fork server: killed unused

    async def _request(self, limits: Limits) -> Worker:
        control = self._control
        if control is None:
            raise _ServerGone
        request = json.dumps(_worker_limits(limits)).encode()
        reservation = self._take_reservation(request, control)
        status = reservation.status if reservation is not None else await _ask(control, request)
        with contextlib.suppress(_ServerGone):  # the next run's worker, assigned meanwhile
            self._reserved.append(_Reservation(request, await _ask(control, request), control))
        handle = await _collect(status, limits, reserved=reservation is not None)
        if handle is None:  # the reserved worker died while it waited: ask for a new one
            handle = await _collect(await _ask(control, request), limits, reserved=False)
        assert handle is not None
        return handle


async def _ask(control: socket.socket, request: bytes) -> socket.socket:
    """Send one spawn request; the host's end of its status socket."""
    status_host, status_worker = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        await _send_request(control, request, [status_worker.fileno()])
    except BaseException:
        status_host.close()
        raise
    finally:
        status_worker.close()
    status_host.setblocking(False)
    return status_host


async def _collect(status: socket.socket, limits: Limits, *, reserved: bool) -> Worker | None:
    """Read the fork server's answer to a request: the worker, with its channel and
    output buffer. None if `reserved` and the worker already ended."""
    fds: list[int] = []
    try:
        answer, fds = await _recv_assignment(status)
        if not answer:
            raise _ServerGone
        _, pid = STATUS.unpack(answer)
        if reserved and (len(fds) != 2 or _has_record(status)):  # it died while it waited
            status.close()
            for fd in fds:
                os.close(fd)
            return None
        if len(fds) != 2:
            # The fork server could not hand this worker its run (and killed it):
            # an already closed channel makes the run report SandboxCrashed.
            for fd in fds:
                os.close(fd)
            fds = list(_closed_channel_and_buffer(limits))
        channel_fd, memfd = fds
        channel = HostChannel(socket.socket(fileno=channel_fd))
        return Worker(pid, channel, status, memfd, limits.output_bytes)
    except BaseException:
        # Closing the status socket tells the fork server to kill the worker.
        status.close()
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        raise


def _has_record(sock: socket.socket) -> bool:
    """Whether a record (or EOF) waits on the non-blocking `sock`."""
    try:
        sock.recv(64, socket.MSG_PEEK)
    except BlockingIOError:
        return False
    except OSError:
        return True
    return True


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


async def _recv_assignment(sock: socket.socket) -> tuple[bytes, list[int]]:
    """The fork server's b"P" record and the descriptors attached to it."""
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(sock, 64, 2)
            return message, fds
        except BlockingIOError:
            await anyio.wait_readable(sock)
        except OSError:
            return b"", []


def _closed_channel_and_buffer(limits: Limits) -> tuple[int, int]:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    theirs.close()
    memfd = os.memfd_create("sandbox-output", os.MFD_CLOEXEC)
    os.ftruncate(memfd, output.buffer_size(limits.output_bytes))
    return ours.detach(), memfd


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
