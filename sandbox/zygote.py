"""The fork server: imports once, then forks one fresh worker per execution.

Started by `sandbox.forkserver.ForkServer` as `python -I -m sandbox.zygote FD`
with an empty environment, cwd "/", fds 0-2 on /dev/null and FD, one end of a
SOCK_SEQPACKET socketpair (the control socket), as its only other descriptor.
It holds no secrets: it never receives code, tool results or tokens; it only
receives spawn requests. It never runs model code itself.

Control socket, host -> zygote, one record per request: JSON limits, with one
descriptor attached (SCM_RIGHTS): a per-worker status socket (SOCK_SEQPACKET).
zygote -> host, once at start: JSON {"ready": true, "platform": {...}, "layers": [...]}.

Spares: the fork server keeps SPARES workers forked ahead of demand, each
born with its own channel socketpair and output memfd (the fork server keeps
the host's ends). A spare isolates itself as far as it can without its run's
limits -- every layer but the run's RLIMIT_AS and RLIMIT_CPU, seccomp and
Landlock included -- and warms up. A request goes to the oldest spare: the
fork server sizes its output memfd, writes it the limits over its line (plain
bytes: the spare's seccomp filter already refuses descriptor passing), hands
the host's ends of its channel and memfd to the host, and forks a
replacement. A spare serves one run and exits; none is ever reused.

Status socket, zygote -> host: b"P" + pid with two descriptors attached (the
host's end of the worker's channel, the output memfd) once a worker is
assigned, b"X" + wait status once it is reaped. Host -> zygote: b"k" (kill the worker), or
closing the socket (same: the host gave up, so the worker must not outlive
it). When the control socket closes (the host exited), every worker is killed
and the fork server exits.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import selectors
import shutil
import signal
import socket
import struct
import sys
import tempfile
from dataclasses import dataclass
from typing import Final

from sandbox import isolation, policy, worker
from sandbox.modules import CuratedModule, build_modules
from sandbox.output import buffer_size

STATUS: Final = struct.Struct("=ci")
MAX_REQUEST_BYTES: Final = 4096
# Workers kept forked ahead of demand: two cover a burst on a 2-core machine
# while the fork server forks the replacements.
SPARES: Final = 2

# Modules that allowed modules import lazily on first use; imported here so no
# worker needs to read them from disk (Landlock allows reads of the stdlib,
# but a lazy import costs a worker milliseconds).
_LAZY_IMPORTS: Final = ("_strptime", "encodings.idna", "encodings.latin_1", "encodings.ascii", "unicodedata")


@dataclass
class _Worker:
    status: socket.socket | None
    workdir: str
    line: socket.socket | None = None  # to a spare that has no run yet
    channel: socket.socket | None = None  # the host's end, until handed to the host
    output: int = -1  # the output memfd, until handed to the host


class Zygote:
    def __init__(self, control: socket.socket) -> None:
        self.control = control
        self.platform = isolation.probe()
        self.prepared = isolation.prepare(self.platform)
        self.curated: dict[str, CuratedModule] = build_modules()
        for name in _LAZY_IMPORTS:
            with contextlib.suppress(ImportError):
                __import__(name)
        self.workers: dict[int, _Worker] = {}
        self.spares: list[int] = []
        self.selector = selectors.DefaultSelector()
        self.wake_r, self.wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)

    def serve(self) -> None:
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self.wake_w)
        self.selector.register(self.control, selectors.EVENT_READ, "control")
        self.selector.register(self.wake_r, selectors.EVENT_READ, "sigchld")
        gc.freeze()  # keep the imported heap shared with the workers (copy-on-write)
        ready = {"ready": True, "platform": self.platform.as_dict(), "layers": self.platform.layers()}
        self._refill()
        self.control.send(json.dumps(ready).encode())
        while True:
            for key, _ in self.selector.select():
                if key.data == "control":
                    self._on_request()
                elif key.data == "sigchld":
                    self._reap()
                else:
                    self._on_status(key.data)

    def _on_request(self) -> None:
        try:
            message, fds, _, _ = socket.recv_fds(self.control, MAX_REQUEST_BYTES, 1)
        except OSError:
            message, fds = b"", []
        if not message:
            self._shutdown()
        if len(fds) != 1:
            for fd in fds:
                os.close(fd)
            return
        self._assign(message, fds[0])
        self._refill()

    def _refill(self) -> None:
        while len(self.spares) < SPARES:
            self.spares.append(self._fork_spare())

    def _fork_spare(self) -> int:
        workdir = tempfile.mkdtemp(prefix="sandbox-run-")
        if self.platform.drop_user:
            os.chown(workdir, policy.WORKER_UID, policy.WORKER_GID)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        channel_host, channel_worker = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        output = os.memfd_create("sandbox-output", os.MFD_CLOEXEC)
        pid = os.fork()
        if pid == 0:
            try:
                ours.close()
                channel_host.close()
                worker.spare_main(
                    self.prepared, self.curated, theirs.detach(), channel_worker.detach(), output, workdir
                )
            finally:
                os._exit(worker.EXIT_SETUP_FAILED)
        theirs.close()
        channel_worker.close()
        self.workers[pid] = _Worker(None, workdir, ours, channel_host, output)
        return pid

    def _assign(self, limits: bytes, status_fd: int) -> None:
        """Hand one run to the oldest spare, then give the host its pid and its
        ends of the spare's channel and output memfd.

        The spare goes first (measured faster): it applies its last limits
        while the host sets up its end of the channel.
        """
        status = socket.socket(fileno=status_fd)
        pid = self.spares.pop(0) if self.spares else self._fork_spare()
        entry = self.workers[pid]
        line, entry.line, entry.status = entry.line, None, status
        channel, entry.channel = entry.channel, None
        output, entry.output = entry.output, -1
        self.selector.register(status, selectors.EVENT_READ, pid)
        try:
            if line is None or channel is None or output < 0:
                raise OSError("not a spare")  # never hand a second run to a worker
            os.ftruncate(output, buffer_size(int(json.loads(limits)["output_bytes"])))
            line.send(limits)
            socket.send_fds(status, [STATUS.pack(b"P", pid)], [channel.fileno(), output])
        except (OSError, ValueError, KeyError, TypeError):
            # The host sees no channel (or a closed one) and reports the failure.
            _kill(pid)
            self._send_status(pid, b"P", pid)
        finally:
            if channel is not None:
                channel.close()
            if output >= 0:
                os.close(output)
            if line is not None:
                line.close()

    def _send_status(self, pid: int, kind: bytes, value: int) -> None:
        entry = self.workers.get(pid)
        if entry is not None and entry.status is not None:
            try:
                entry.status.send(STATUS.pack(kind, value))
            except OSError:
                self._drop_status(entry)

    def _drop_status(self, entry: _Worker) -> None:
        if entry.status is not None:
            self.selector.unregister(entry.status)
            entry.status.close()
            entry.status = None

    def _on_status(self, pid: int) -> None:
        entry = self.workers.get(pid)
        if entry is None or entry.status is None:
            return
        try:
            data = entry.status.recv(16)
        except OSError:
            data = b""
        _kill(pid)  # b"k" or the host closed the socket: either way the worker goes
        if not data:
            self._drop_status(entry)

    def _reap(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while os.read(self.wake_r, 512):
                pass
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            entry = self.workers.pop(pid, None)
            if entry is None:
                continue
            if pid in self.spares:  # a spare died before its run (killed from outside)
                self.spares.remove(pid)
            if entry.line is not None:
                entry.line.close()
            if entry.channel is not None:
                entry.channel.close()
            if entry.output >= 0:
                os.close(entry.output)
            if entry.status is not None:
                self.workers[pid] = entry
                self._send_status(pid, b"X", status)
                self._drop_status(entry)
                del self.workers[pid]
            shutil.rmtree(entry.workdir, ignore_errors=True)

    def _shutdown(self) -> None:
        for pid, entry in self.workers.items():
            _kill(pid)
            shutil.rmtree(entry.workdir, ignore_errors=True)
        os._exit(0)


def _kill(pid: int) -> None:
    """Kill the worker's process group (it called setsid) and the worker itself."""
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(pid, signal.SIGKILL)


def main(argv: list[str]) -> None:
    control = socket.socket(fileno=int(argv[0]))
    control.set_inheritable(False)
    Zygote(control).serve()


if __name__ == "__main__":
    main(sys.argv[1:])
