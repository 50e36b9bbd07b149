"""What model-written code may use: the whole sandbox policy as frozen data.

Everything not listed here is denied. Each deliberate exclusion carries the
reason next to it, so a reviewer can judge the policy without reading code.
The worker turns this data into builtins and curated module namespaces
(`sandbox.guards`, `sandbox.modules`); nothing else decides what code can reach.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, TypeVar

_L = TypeVar("_L")

# --- Builtins --------------------------------------------------------------

# Plain builtins handed to the code unchanged. All are pure functions or types
# whose public attributes lead nowhere dangerous once `_`-names are guarded.
ALLOWED_BUILTINS: Final = frozenset(
    {
        "None",
        "False",
        "True",
        "Ellipsis",
        "NotImplemented",
        "abs",
        "all",
        "any",
        "ascii",
        "bin",
        "bool",
        "bytes",
        "callable",
        "chr",
        "classmethod",
        "complex",
        "dict",
        "divmod",
        "enumerate",
        "filter",
        "float",
        "frozenset",
        "hash",
        "hex",
        "id",
        "int",
        "isinstance",
        "issubclass",
        "iter",
        "len",
        "list",
        "map",
        "max",
        "min",
        "next",
        "oct",
        "ord",
        "pow",
        "property",
        "range",
        "repr",
        "reversed",
        "round",
        "set",
        "slice",
        "sorted",
        "staticmethod",
        "str",
        "sum",
        "tuple",
        "zip",
        # Needed by the `class` statement; RestrictedPython rewrites classes to use
        # our `__metaclass__`, so user classes are recognisable by the write guard.
        "__build_class__",
    }
)

# Exceptions code may raise and catch. BaseException subclasses that steer the
# interpreter (KeyboardInterrupt, SystemExit, GeneratorExit) are left out: code
# has no reason to raise them and they would only muddle error reporting.
ALLOWED_EXCEPTIONS: Final = frozenset(
    {
        "ArithmeticError",
        "AssertionError",
        "AttributeError",
        "BaseException",
        "Exception",
        "FloatingPointError",
        "ImportError",
        "IndexError",
        "KeyError",
        "LookupError",
        "MemoryError",
        "ModuleNotFoundError",
        "NameError",
        "NotImplementedError",
        "OverflowError",
        "RecursionError",
        "RuntimeError",
        "StopIteration",
        "TimeoutError",
        "TypeError",
        "UnicodeDecodeError",
        "UnicodeEncodeError",
        "UnicodeError",
        "ValueError",
        "ZeroDivisionError",
    }
)

# Builtins the sandbox adds: the exception tool calls raise, and `parallel`
# (concurrent tool calls; see `sandbox.tools`). Neither holds anything of the host.
SANDBOX_BUILTINS: Final = frozenset({"ToolError", "parallel"})

# Builtins replaced by guarded versions in `sandbox.guards` (same name, checked).
# `type` is the one-argument form only: `type(x) is int` works, while `type(name, bases, dict)`
# (which builds a class from a dict, dunder keys included, past the compile-time name check) and
# `type(SomeClass)` (the metaclass itself, which can do the same) are refused with a message.
GUARDED_BUILTINS: Final = frozenset({"getattr", "hasattr", "setattr", "delattr", "__import__", "type"})

# Deliberately absent builtins, with the reason shown to the model when its
# code trips over one (a NameError then says why, not just "not defined").
EXCLUDED_BUILTINS: Final = MappingProxyType(
    {
        "open": "there is no file system access; fetch data through the tools",
        "input": "there is no interactive input",
        "eval": "code cannot create new code",
        "exec": "code cannot create new code",
        "compile": "code cannot create new code",
        "globals": "the interpreter's namespaces are not reachable",
        "locals": "the interpreter's namespaces are not reachable",
        "vars": "the interpreter's namespaces are not reachable",
        "dir": "introspection is not available; read the tool descriptions instead",
        "object": "plain `class Name:` needs no base; object exposes every class in the process",
        "super": "calling dunder methods of parents is not allowed in the sandbox",
        "memoryview": "raw memory access is not needed for data work",
        "breakpoint": "there is no debugger",
        "help": "there is no interactive help",
        "exit": "end the code by letting it finish; the last expression is the result",
        "quit": "end the code by letting it finish; the last expression is the result",
        "format": "format specs can read attributes; use f-strings or %-formatting",
        "aiter": "async code is not supported",
        "anext": "async code is not supported",
    }
)

# --- Attributes ------------------------------------------------------------

# Every name starting with "_" is denied, at compile time by RestrictedPython
# and at run time by `sandbox.guards` (getattr(x, "__class__")). On top of that,
# these public names are denied on every object, by the runtime guard, so
# `getattr(gen, "gi_frame")` fails exactly like `gen.gi_frame`.
FORBIDDEN_ATTRIBUTES: Final = frozenset(
    {
        # str.format/format_map walk attributes from the format string: "{0.__class__}";
        # denied on every object, since wrappers (collections.UserString) forward to them.
        "format",
        "format_map",
        # Tracebacks and frames: a frame's f_globals/f_builtins are the worker's
        # real namespaces, f_back climbs into the worker's own code.
        "tb_frame",
        "tb_next",
        "tb_lasti",
        "f_back",
        "f_builtins",
        "f_code",
        "f_globals",
        "f_locals",
        "f_trace",
        "f_lasti",
        # Code objects: co_code and co_consts expose bytecode and constants of
        # other functions, the raw material to build new code.
        "co_code",
        "co_consts",
        "co_names",
        "co_filename",
        # Generator, coroutine and async-generator internals: each leads to a
        # live frame (gi_frame -> f_back -> the worker's globals).
        "gi_frame",
        "gi_code",
        "gi_yieldfrom",
        "gi_running",
        "gi_suspended",
        "cr_await",
        "cr_frame",
        "cr_code",
        "cr_origin",
        "cr_running",
        "cr_suspended",
        "ag_await",
        "ag_frame",
        "ag_code",
        "ag_running",
        # Climbs from any class to `object` and from there to every class loaded.
        "mro",
    }
)

# --- Syntax ----------------------------------------------------------------

# Constructs refused at compile time (RestrictedCode) on top of what
# RestrictedPython refuses itself. Each key is an `ast` node class name.
DENIED_SYNTAX: Final = MappingProxyType(
    {
        # Class patterns read attributes with the real getattr, past the guard:
        # `case object(__class__=c)` would hand out any object's class.
        "Match": "match statements are not supported; use if/elif",
        # except* handling bypassed RestrictedPython's checks (CVE-2025-22153).
        "TryStar": "try/except* is not supported; use try/except",
        # Delegation to an arbitrary iterator keeps a second frame alive whose
        # internals the guard would have to follow; a loop does the same job.
        "YieldFrom": "yield from is not supported; use `for x in it: yield x`",
        # No event loop runs in the sandbox; parallel() is the way to overlap calls.
        "AsyncFunctionDef": "async code is not supported; use parallel() for concurrent tool calls",
        "Await": "async code is not supported; use parallel() for concurrent tool calls",
        "AsyncFor": "async code is not supported; use a plain for loop",
        "AsyncWith": "async code is not supported",
        # Rebinding module or enclosing names from inner scopes hides data flow
        # from the reviewer and from the name checks; return values instead.
        "Global": "global is not supported; return values from functions instead",
        "Nonlocal": "nonlocal is not supported; return values from functions instead",
    }
)

# A walrus inside a comprehension binds in the enclosing scope, a leak of the
# comprehension's hidden scope that nothing in data work needs.
DENY_WALRUS_IN_COMPREHENSIONS: Final = True

# `class C(metaclass=...)` or other class keywords would replace the
# UserClass metaclass the write guard relies on.
DENY_CLASS_KEYWORDS: Final = True

# --- Modules ---------------------------------------------------------------

# Allowed imports. Code never receives the real module: it receives a curated,
# read-only namespace of the module's public, non-module members, because real
# module attributes lead to other modules (`re.enum`, `uuid.os`, `json.decoder`).
# `None` means "every public name (from __all__, else dir()) minus exclusions";
# a frozenset lists the only names exposed.
ALLOWED_MODULES: Final = MappingProxyType(
    {
        "json": None,
        "re": None,
        "math": None,
        "datetime": None,
        "collections": None,
        "itertools": None,
        "functools": None,
        "statistics": None,
        "string": None,
        "textwrap": None,
        "random": None,
        "decimal": None,
        "fractions": None,
        "operator": None,
        "heapq": None,
        "bisect": None,
        # Clocks and sleep only (sleep counts against the wall-time limit);
        # the process-/thread-clock and tz-setting functions are not needed.
        "time": frozenset(
            {
                "time",
                "time_ns",
                "monotonic",
                "monotonic_ns",
                "perf_counter",
                "perf_counter_ns",
                "sleep",
                "gmtime",
                "localtime",
                "mktime",
                "strftime",
                "strptime",
                "struct_time",
                "asctime",
                "ctime",
            }
        ),
        "base64": None,
        "hashlib": None,
        # uuid1/getnode read the host's MAC address and may spawn `ip`/`ifconfig`.
        "uuid": frozenset(
            {
                "UUID",
                "uuid3",
                "uuid4",
                "uuid5",
                "NAMESPACE_DNS",
                "NAMESPACE_URL",
                "NAMESPACE_OID",
                "NAMESPACE_X500",
            }
        ),
        "difflib": None,
        "urllib.parse": None,
    }
)

# Members removed from otherwise fully exposed modules, with the reason.
EXCLUDED_MODULE_MEMBERS: Final = MappingProxyType(
    {
        # Formatter.get_field walks attributes from a format string, like str.format.
        "string": frozenset({"Formatter"}),
        # attrgetter/methodcaller read and call attributes by name with the real
        # getattr, bypassing the guard (attrgetter("__class__")); setitem/delitem
        # write into any object, bypassing the write guard.
        "operator": frozenset({"attrgetter", "methodcaller", "setitem", "delitem"}),
        # update_wrapper/wraps copy arbitrary (dunder) attributes with the real
        # getattr/setattr, bypassing both guards.
        "functools": frozenset({"update_wrapper", "wraps"}),
        # Reads files; there is no file system to read.
        "hashlib": frozenset({"file_digest"}),
    }
)

# --- Limits ----------------------------------------------------------------


@dataclass(frozen=True)
class LimitRule:
    """One limit: its default, the highest value any config may set, and why.

    A FIXED limit protects the sandbox itself (the C stack, the compiler, the
    host's event loop): its default is also its ceiling, so configuration may
    lower it but never raise it. A tunable limit is a budget the operator may
    move in both directions, up to its ceiling.
    """

    default: float
    ceiling: float
    fixed: bool
    why: str


MiB: Final = 1024 * 1024

LIMITS: Final = MappingProxyType(
    {
        "wall_seconds": LimitRule(30.0, 600.0, False, "the host kills the worker; bounds a stuck run"),
        "cpu_seconds": LimitRule(10, 600, False, "RLIMIT_CPU; bounds busy loops cheaper than the wall clock"),
        "memory_bytes": LimitRule(512 * MiB, 8192 * MiB, False, "RLIMIT_AS; bounds one run's memory"),
        "output_bytes": LimitRule(64 * 1024, 16 * MiB, False, "printed text kept; the rest is cut"),
        # Below the protocol's 16 MiB frame, so a full result always fits one frame.
        "result_bytes": LimitRule(1 * MiB, 8 * MiB, False, "JSON size of the final value"),
        "max_tool_calls": LimitRule(200, 10_000, False, "calls per run, counted by the host"),
        # Each concurrent call is a task in the host's event loop: a ceiling,
        # so no config lets one run flood the upstream systems.
        "max_concurrent_tool_calls": LimitRule(8, 8, True, "calls in flight at once in parallel()"),
        # Python frames sit on the C stack; deeper recursion risks a hard crash.
        "recursion_depth": LimitRule(600, 600, True, "Python call depth inside the code"),
        # Source is compiled inside the worker, but parsing and RestrictedPython's
        # transformer scale with size; code this long is a data dump, not a program.
        "max_code_bytes": LimitRule(100_000, 100_000, True, "UTF-8 size of the source"),
        # RestrictedPython's transformer and CPython's compiler recurse per
        # AST level; a ceiling keeps both far from their own recursion limits.
        "max_ast_depth": LimitRule(100, 100, True, "nesting depth of the parsed code"),
    }
)


def check_limits(limits: Any) -> None:
    """Raise ValueError if any field of `limits` is not positive or above its ceiling."""
    for name, rule in LIMITS.items():
        _check_one(name, getattr(limits, name), rule)


def tighten(limits: _L, **overrides: float) -> _L:
    """Apply a group's overrides to `limits`, refusing any that break the policy.

    Tunable limits may move either way up to their ceiling; a FIXED limit may
    only go down. Raises ValueError naming the limit and the allowed maximum.
    """
    for name, value in overrides.items():
        rule = LIMITS.get(name)
        if rule is None:
            raise ValueError(f"unknown sandbox limit {name!r}; known limits: {', '.join(LIMITS)}")
        _check_one(name, value, rule)
    return dataclasses.replace(limits, **overrides)  # type: ignore[type-var]


def _check_one(name: str, value: Any, rule: LimitRule) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"sandbox limit {name} must be a positive number, got {value!r}")
    if value > rule.ceiling and rule.fixed:
        raise ValueError(
            f"sandbox limit {name} is FIXED at {rule.ceiling:g} by the sandbox policy "
            f"({rule.why}): a config may lower it but not raise it to {value:g}"
        )
    if value > rule.ceiling:
        raise ValueError(f"sandbox limit {name} may be at most {rule.ceiling:g}, got {value:g}")


# --- Interpreter -----------------------------------------------------------

# Filename given to compiled code; tracebacks are filtered to frames from it
# so messages cite the model's line numbers and never host paths.
CODE_FILENAME: Final = "<code>"

# Kept for callers of the old constant; the limit lives in LIMITS.
RECURSION_LIMIT: Final = int(LIMITS["recursion_depth"].default)

# --- Operating system: what the worker process may do ----------------------

# Open files the worker may hold: fds 0-2 (all /dev/null, so a stray write by
# any library cannot reach the protocol), its channel to the host, the memfd
# holding its output (kept open by Python's mmap), and a margin.
# Every other descriptor, including the fork server's, is closed before code runs.
MAX_OPEN_FILES: Final = 16

# Resource limits set in every worker (soft = hard, except RLIMIT_CPU whose hard
# limit sits 1 s higher so the kernel first sends a recognisable SIGXCPU).
# A string value names the Limits field that sets it.
RLIMITS: Final = MappingProxyType(
    {
        "RLIMIT_AS": "memory_bytes",  # MemoryError instead of the host's OOM killer
        "RLIMIT_CPU": "cpu_seconds",  # SIGXCPU -> CPUTimeExceeded
        "RLIMIT_NOFILE": MAX_OPEN_FILES,  # no descriptor hoarding
        "RLIMIT_NPROC": 0,  # no new processes or threads (binds once root is dropped)
        "RLIMIT_FSIZE": 0,  # no file can be written, even if one were opened
        "RLIMIT_CORE": 0,  # a crash leaves no core file holding the worker's memory
        "RLIMIT_MEMLOCK": 0,  # no pinning of memory the host may need
        "RLIMIT_MSGQUEUE": 0,  # no POSIX message queues (a channel to other processes)
    }
)

# A worker started as root drops to this uid/gid (and no supplementary
# groups) after entering its namespace and before code runs: then it cannot
# signal or ptrace the host's processes or read root-only files.
WORKER_UID: Final = 65534
WORKER_GID: Final = 65534

# Each worker enters a new, empty network namespace (only a downed loopback):
# no sockets reach anything even if one could be made. "execution" gives every
# run its own namespace; "server" makes the fork server enter one namespace
# that all its workers share. Both mean no network at all. The shared one is
# not as closed between runs: workers of different runs sit in one namespace,
# so two of them could in principle reach each other over its abstract unix
# sockets (or its loopback, were it up; raising it needs CAP_NET_ADMIN, which
# a worker that dropped to nobody lacks) -- if both could make a socket, which
# the seccomp filter refuses (socket/socketpair answer EPERM, tested in
# tests/sandbox/test_forkserver.py) and Landlock ABI 6+ scopes abstract unix
# sockets to the worker's own domain. "execution" is kept: each spare enters
# its namespace before its run is known, so the ~0.3-1 ms of kernel work per
# namespace is off the run's critical path (it only costs background CPU).
NETWORK_NAMESPACE: Final = "execution"

# Syscalls refused (EPERM) by the worker's seccomp filter, installed just
# before the code is compiled. The filter also kills the process on any
# syscall from a foreign ABI (i386 / x32), which would sidestep the numbers.
SECCOMP_DENIED_SYSCALLS: Final = MappingProxyType(
    {
        # Network: the worker's only channel is the descriptor it inherited.
        "socket": "no new sockets",
        "socketpair": "no new sockets",
        "connect": "no outbound connections",
        "bind": "no listening",
        "listen": "no listening",
        "accept": "no listening",
        "accept4": "no listening",
        # Message calls can carry descriptors (SCM_RIGHTS); the worker speaks with read/write.
        "sendto": "read/write only",
        "recvfrom": "read/write only",
        "sendmsg": "no descriptor passing",
        "recvmsg": "no descriptor passing",
        "sendmmsg": "no descriptor passing",
        "recvmmsg": "no descriptor passing",
        # Processes: one run is one single-threaded process.
        "clone": "no processes or threads",
        "clone3": "no processes or threads",
        "fork": "no processes",
        "vfork": "no processes",
        "execve": "no other programs",
        "execveat": "no other programs",
        # Other processes: nothing to signal, trace or read.
        "kill": "no signals to other processes",
        "tkill": "no signals",
        "tgkill": "no signals",
        "pidfd_open": "no handles on processes",
        "pidfd_send_signal": "no signals",
        "pidfd_getfd": "no stealing descriptors",
        "ptrace": "no tracing",
        "process_vm_readv": "no foreign memory",
        "process_vm_writev": "no foreign memory",
        "kcmp": "no probing other processes",
        # Namespaces, mounts and identity: the isolation must stay as set up.
        "unshare": "isolation is fixed",
        "setns": "isolation is fixed",
        "mount": "no mounts",
        "umount2": "no mounts",
        "mount_setattr": "no mounts",
        "pivot_root": "no mounts",
        "chroot": "no mounts",
        "open_tree": "no mounts",
        "move_mount": "no mounts",
        "fsopen": "no mounts",
        "fsconfig": "no mounts",
        "fsmount": "no mounts",
        "fspick": "no mounts",
        "setuid": "identity is fixed",
        "setgid": "identity is fixed",
        "setreuid": "identity is fixed",
        "setresuid": "identity is fixed",
        "setgroups": "identity is fixed",
        # Kernel attack surface no data work needs.
        "bpf": "kernel surface",
        "perf_event_open": "kernel surface",
        "userfaultfd": "kernel surface",
        "io_uring_setup": "bypasses syscall filtering",
        "keyctl": "kernel keyrings",
        "add_key": "kernel keyrings",
        "request_key": "kernel keyrings",
        "memfd_create": "no anonymous files",
        "name_to_handle_at": "file handles",
        "open_by_handle_at": "escapes path checks",
        "mknod": "no device files",
        "mknodat": "no device files",
        "personality": "ABI switching",
        "kexec_load": "system control",
        "init_module": "system control",
        "finit_module": "system control",
        "delete_module": "system control",
        "reboot": "system control",
        "swapon": "system control",
        "swapoff": "system control",
        "sethostname": "system control",
        "setdomainname": "system control",
        "iopl": "system control",
        "ioperm": "system control",
        "acct": "system control",
        "quotactl": "system control",
        "syslog": "kernel log",
    }
)

# Landlock: the worker may only read (files and directories) beneath these
# sysconfig paths, the standard library, for imports that modules make lazily
# (`encodings.*`); no writes anywhere, nothing else readable (not the project
# tree, not /etc, not /proc). With ABI 6+ the worker also may not signal
# processes outside its domain or reach abstract unix sockets.
LANDLOCK_READABLE_PATHS: Final = ("stdlib", "platstdlib")
