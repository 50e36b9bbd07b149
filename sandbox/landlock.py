"""Landlock with ctypes: a ruleset allowing only reads beneath a few paths.

The fork server creates the ruleset once (`make_ruleset`); each worker calls
`restrict(fd)` on the inherited descriptor and closes it. Everything the
ruleset handles and no rule grants is denied: writes anywhere, reads outside
the granted paths, TCP bind/connect (ABI 4+), and signals or abstract unix
sockets outside the worker's own domain (ABI 6+).
"""

from __future__ import annotations

import ctypes
import os
import struct
from collections.abc import Iterable
from typing import Final

_libc = ctypes.CDLL(None, use_errno=True)
_SYS_CREATE_RULESET: Final = 444
_SYS_ADD_RULE: Final = 445
_SYS_RESTRICT_SELF: Final = 446
_CREATE_RULESET_VERSION: Final = 1
_RULE_PATH_BENEATH: Final = 1
_PR_SET_NO_NEW_PRIVS: Final = 38
READ_FILE: Final = 1 << 2
READ_DIR: Final = 1 << 3
_PATH_BENEATH: Final = struct.Struct("=Qi")  # packed landlock_path_beneath_attr


def abi_version() -> int:
    """The kernel's Landlock ABI version, or 0 when Landlock is unavailable."""
    version = _libc.syscall(_SYS_CREATE_RULESET, None, 0, _CREATE_RULESET_VERSION)
    return max(int(version), 0)


def _handled_fs(abi: int) -> int:
    rights = (1 << 13) - 1  # ABI 1: execute .. make_sym
    if abi >= 2:
        rights |= 1 << 13  # refer
    if abi >= 3:
        rights |= 1 << 14  # truncate
    if abi >= 5:
        rights |= 1 << 15  # ioctl_dev
    return rights


def _ruleset_attr(abi: int) -> bytes:
    handled_net = 0b11 if abi >= 4 else 0  # bind_tcp, connect_tcp
    scoped = 0b11 if abi >= 6 else 0  # abstract unix sockets, signals
    attr = struct.pack("=QQQ", _handled_fs(abi), handled_net, scoped)
    return attr[: 8 if abi < 4 else 16 if abi < 6 else 24]


def make_ruleset(abi: int, readable: Iterable[str]) -> int:
    """A ruleset fd granting READ_FILE|READ_DIR beneath each existing path in `readable`."""
    attr = _ruleset_attr(abi)
    fd = _libc.syscall(_SYS_CREATE_RULESET, attr, len(attr), 0)
    if fd < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    for path in readable:
        if not os.path.isdir(path):
            continue
        parent = os.open(path, os.O_PATH | os.O_CLOEXEC)
        try:
            rule = _PATH_BENEATH.pack(READ_FILE | READ_DIR, parent)
            if _libc.syscall(_SYS_ADD_RULE, fd, _RULE_PATH_BENEATH, rule, 0) != 0:
                raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
        finally:
            os.close(parent)
    return int(fd)


def restrict(ruleset_fd: int) -> None:
    """Enforce the ruleset on the calling process for good."""
    if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS failed")
    if _libc.syscall(_SYS_RESTRICT_SELF, ruleset_fd, 0) != 0:
        raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
