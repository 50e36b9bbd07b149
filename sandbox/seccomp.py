"""A seccomp-BPF syscall filter built from `policy.SECCOMP_DENIED_SYSCALLS`, with ctypes.

The program: kill the process on a foreign ABI (i386, x32), answer EPERM to
each denied syscall, allow the rest. The fork server builds it once; each
worker installs it as its last set-up step, after which it can never be
removed or loosened (only further filters can be stacked, which can only deny
more).
"""

from __future__ import annotations

import ctypes
import platform
import struct
from typing import Final

# x86_64 numbers, from <asm/unistd_64.h>; a test checks them against the header.
SYSCALLS_X86_64: Final = {
    "socket": 41,
    "connect": 42,
    "accept": 43,
    "sendto": 44,
    "recvfrom": 45,
    "sendmsg": 46,
    "recvmsg": 47,
    "bind": 49,
    "listen": 50,
    "socketpair": 53,
    "clone": 56,
    "fork": 57,
    "vfork": 58,
    "execve": 59,
    "kill": 62,
    "ptrace": 101,
    "syslog": 103,
    "setuid": 105,
    "setgid": 106,
    "setreuid": 113,
    "setgroups": 116,
    "setresuid": 117,
    "mknod": 133,
    "personality": 135,
    "pivot_root": 155,
    "chroot": 161,
    "acct": 163,
    "mount": 165,
    "umount2": 166,
    "swapon": 167,
    "swapoff": 168,
    "reboot": 169,
    "sethostname": 170,
    "setdomainname": 171,
    "iopl": 172,
    "ioperm": 173,
    "init_module": 175,
    "delete_module": 176,
    "quotactl": 179,
    "tkill": 200,
    "tgkill": 234,
    "kexec_load": 246,
    "add_key": 248,
    "request_key": 249,
    "keyctl": 250,
    "mknodat": 259,
    "unshare": 272,
    "accept4": 288,
    "perf_event_open": 298,
    "recvmmsg": 299,
    "name_to_handle_at": 303,
    "open_by_handle_at": 304,
    "sendmmsg": 307,
    "setns": 308,
    "process_vm_readv": 310,
    "process_vm_writev": 311,
    "kcmp": 312,
    "finit_module": 313,
    "memfd_create": 319,
    "bpf": 321,
    "execveat": 322,
    "userfaultfd": 323,
    "pidfd_send_signal": 424,
    "io_uring_setup": 425,
    "open_tree": 428,
    "move_mount": 429,
    "fsopen": 430,
    "fsconfig": 431,
    "fsmount": 432,
    "fspick": 433,
    "pidfd_open": 434,
    "clone3": 435,
    "pidfd_getfd": 438,
    "mount_setattr": 442,
}

_AUDIT_ARCH_X86_64: Final = 0xC000003E
_X32_SYSCALL_BIT: Final = 0x40000000
_PR_SET_NO_NEW_PRIVS: Final = 38
_PR_SET_SECCOMP: Final = 22
_PR_GET_SECCOMP: Final = 21
_SECCOMP_MODE_FILTER: Final = 2
_RET_KILL_PROCESS: Final = 0x80000000
_RET_ERRNO: Final = 0x00050000
_RET_ALLOW: Final = 0x7FFF0000
_EPERM: Final = 1
# BPF opcodes: load word at absolute offset, jump if equal / greater-or-equal, return.
_LD_ABS: Final = 0x20
_JEQ: Final = 0x15
_JGE: Final = 0x35
_RET: Final = 0x06
_INSN: Final = struct.Struct("=HBBI")  # struct sock_filter


class _Fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


_libc = ctypes.CDLL(None, use_errno=True)


def supported() -> bool:
    """True on x86_64 kernels with seccomp filters (PR_GET_SECCOMP answers)."""
    return platform.machine() == "x86_64" and _libc.prctl(_PR_GET_SECCOMP, 0, 0, 0, 0) >= 0


def build(denied: list[str] | frozenset[str]) -> bytes:
    """The BPF program denying `denied` (names) with EPERM."""
    numbers = sorted({SYSCALLS_X86_64[name] for name in denied})
    program = [
        (_LD_ABS, 0, 0, 4),  # seccomp_data.arch
        (_JEQ, 1, 0, _AUDIT_ARCH_X86_64),
        (_RET, 0, 0, _RET_KILL_PROCESS),
        (_LD_ABS, 0, 0, 0),  # seccomp_data.nr
        (_JGE, 0, 1, _X32_SYSCALL_BIT),
        (_RET, 0, 0, _RET_KILL_PROCESS),
    ]
    for number in numbers:
        program += [(_JEQ, 0, 1, number), (_RET, 0, 0, _RET_ERRNO | _EPERM)]
    program.append((_RET, 0, 0, _RET_ALLOW))
    return b"".join(_INSN.pack(*insn) for insn in program)


def install(program: bytes) -> None:
    """Install `program` on the calling (single-threaded) process; raises OSError."""
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _Fprog(len(program) // _INSN.size, ctypes.cast(buffer, ctypes.c_void_p))
    if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS failed")
    if _libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "seccomp filter refused")
