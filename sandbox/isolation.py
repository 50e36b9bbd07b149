"""The operating-system layers around each worker, as `sandbox.policy` states them.

The fork server calls `probe()` once to learn what this machine provides and
`prepare()` to build what every worker reuses (the seccomp program, the
Landlock ruleset). Each forked spare worker then calls `enter_spare()` and
`lock_spare()` (every layer that does not depend on the run) before it waits
for a run, and `lock_down()` (the run's own rlimits) once the run's limits
arrive, before it reads the code. A layer the machine provides is mandatory: if it fails to apply, the
worker exits before running anything (reported as SandboxCrashed). Only a
layer the machine cannot provide is skipped, and `python -m sandbox doctor`
says so.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import sysconfig
from dataclasses import asdict, dataclass
from typing import Any, Final

from sandbox import landlock, policy, seccomp

_libc = ctypes.CDLL(None, use_errno=True)
_CLONE_NEWNET: Final = 0x40000000
_CLONE_NEWUSER: Final = 0x10000000
_PR_SET_PDEATHSIG: Final = 1
_PR_SET_DUMPABLE: Final = 4

# Layers every worker has on any Linux machine.
BASE_LAYERS: Final = (
    "restricted-python",
    "fresh-process",
    "empty-environment",
    "closed-fds",
    "empty-cwd",
    "rlimits",
)


@dataclass(frozen=True)
class Platform:
    """What this machine lets the sandbox use (probed once per fork server)."""

    netns: bool
    drop_user: bool
    seccomp: bool
    landlock_abi: int

    def layers(self) -> tuple[str, ...]:
        optional = {
            "netns": self.netns,
            "user-nobody": self.drop_user,
            "seccomp": self.seccomp,
            f"landlock-abi{self.landlock_abi}": self.landlock_abi > 0,
        }
        return BASE_LAYERS + tuple(name for name, on in optional.items() if on)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Prepared:
    """Built once in the fork server, inherited by every worker."""

    platform: Platform
    seccomp_program: bytes
    landlock_fd: int


def _netns_flags() -> int:
    return _CLONE_NEWNET if os.geteuid() == 0 else _CLONE_NEWUSER | _CLONE_NEWNET


def _probe_netns() -> bool:
    """Try unshare in a throwaway child; it needs CAP_SYS_ADMIN or user namespaces."""
    pid = os.fork()
    if pid == 0:
        os._exit(0 if _libc.unshare(_netns_flags()) == 0 else 1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def probe() -> Platform:
    return Platform(
        netns=_probe_netns(),
        drop_user=os.geteuid() == 0,
        seccomp=seccomp.supported(),
        landlock_abi=landlock.abi_version(),
    )


def prepare(platform: Platform) -> Prepared:
    """Build the shared pieces; with NETWORK_NAMESPACE == "server", enter the namespace now."""
    if platform.netns and policy.NETWORK_NAMESPACE == "server":
        _unshare_net()
    program = seccomp.build(frozenset(policy.SECCOMP_DENIED_SYSCALLS)) if platform.seccomp else b""
    readable = [sysconfig.get_paths()[name] for name in policy.LANDLOCK_READABLE_PATHS]
    fd = landlock.make_ruleset(platform.landlock_abi, readable) if platform.landlock_abi else -1
    return Prepared(platform, program, fd)


def _unshare_net() -> None:
    if _libc.unshare(_netns_flags()) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET) failed")


def _set_limit(kind: int, soft: int, hard: int | None = None) -> None:
    """Lower the soft and hard limits (never above the current hard limit)."""
    hard = soft if hard is None else hard
    _, current = resource.getrlimit(kind)
    if current != resource.RLIM_INFINITY:
        soft, hard = min(soft, current), min(hard, current)
    resource.setrlimit(kind, (soft, hard))


def apply_rlimits(limits: dict[str, int], which: str = "all") -> None:
    """Set the rlimits the policy lists; `limits` holds the Limits fields they name.

    `which`: "all", "fixed" (those with a number in the policy, set by a spare
    before its run arrives) or "run" (those naming a Limits field).
    """
    for name, source in policy.RLIMITS.items():
        per_run = isinstance(source, str)
        if (which == "fixed" and per_run) or (which == "run" and not per_run):
            continue
        value = limits[source] if isinstance(source, str) else int(source)  # type: ignore[call-overload]
        # RLIMIT_CPU: hard 1 s above soft, so the kernel first sends SIGXCPU
        # (recognisable) rather than an anonymous SIGKILL.
        hard = value + 1 if name == "RLIMIT_CPU" else value
        _set_limit(getattr(resource, name), value, hard)


def close_fds(keep: set[int]) -> None:
    """Point 0-2 at /dev/null and close every other descriptor not in `keep`."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        if devnull != fd:
            os.dup2(devnull, fd)
    lowest = 3  # devnull itself is closed by the ranges below
    for fd in sorted(keep):
        if fd >= lowest:
            os.closerange(lowest, fd)
            lowest = fd + 1
    os.closerange(lowest, 1 << 20)


def _drop_user() -> None:
    os.setgroups([])
    os.setresgid(policy.WORKER_GID, policy.WORKER_GID, policy.WORKER_GID)
    os.setresuid(policy.WORKER_UID, policy.WORKER_UID, policy.WORKER_UID)


def enter_spare(prepared: Prepared, keep: set[int], workdir: str) -> None:
    """The layers that do not depend on the run: applied by a spare worker as soon
    as it is forked, before it waits for its run. Raise if one fails."""
    parent = os.getppid()
    os.setsid()  # own process group, killed as one
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # dies with the fork server
    if os.getppid() != parent:  # the fork server died before the line above
        os._exit(1)
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    close_fds(keep | ({prepared.landlock_fd} if prepared.landlock_fd >= 0 else set()))
    if prepared.platform.netns and policy.NETWORK_NAMESPACE == "execution":
        _unshare_net()  # its own namespace; before the uid drop, which loses the capability
    os.chdir(workdir)
    if prepared.platform.drop_user:
        _drop_user()
    _libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)  # no ptrace or /proc/pid/mem by same-uid peers


def lock_spare(prepared: Prepared) -> None:
    """The fixed rlimits, Landlock and seccomp: applied by a spare after its warm-up,
    before it waits for its run (installing the seccomp filter alone costs the
    kernel about half a millisecond, so it is paid ahead of demand). From here
    on the spare can only read the limits from its line: the filter refuses
    recvmsg, so no descriptor can reach it any more."""
    apply_rlimits({}, "fixed")
    if prepared.landlock_fd >= 0:
        landlock.restrict(prepared.landlock_fd)
        os.close(prepared.landlock_fd)
    if prepared.platform.seccomp:
        seccomp.install(prepared.seccomp_program)


def lock_down(prepared: Prepared, limits: dict[str, int]) -> None:
    """The run's own rlimits (RLIMIT_AS, RLIMIT_CPU), once its limits are known and
    before its code is read; every other layer is already in force (`lock_spare`)."""
    apply_rlimits(limits, "run")
