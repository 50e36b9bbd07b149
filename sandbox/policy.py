"""What model-written code may use: the whole sandbox policy as frozen data.

Everything not listed here is denied. Each deliberate exclusion carries the
reason next to it, so a reviewer can judge the policy without reading code.
The worker turns this data into builtins and curated module namespaces
(`sandbox.guards`, `sandbox.modules`); nothing else decides what code can reach.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

# --- Builtins --------------------------------------------------------------

# Plain builtins handed to the code unchanged. All are pure functions or types
# whose public attributes lead nowhere dangerous once `_`-names are guarded.
ALLOWED_BUILTINS: Final = frozenset(
    {
        "None", "False", "True", "Ellipsis", "NotImplemented",
        "abs", "all", "any", "ascii", "bin", "bool", "bytes", "callable", "chr",
        "classmethod", "complex", "dict", "divmod", "enumerate", "filter", "float",
        "frozenset", "hash", "hex", "id", "int", "isinstance", "issubclass", "iter",
        "len", "list", "map", "max", "min", "next", "oct", "ord", "pow", "property",
        "range", "repr", "reversed", "round", "set", "slice", "sorted", "staticmethod",
        "str", "sum", "tuple", "zip",
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
        "ArithmeticError", "AssertionError", "AttributeError", "BaseException",
        "Exception", "FloatingPointError", "ImportError", "IndexError", "KeyError",
        "LookupError", "MemoryError", "ModuleNotFoundError", "NameError",
        "NotImplementedError", "OverflowError", "RecursionError", "RuntimeError",
        "StopIteration", "TimeoutError", "TypeError", "UnicodeDecodeError",
        "UnicodeEncodeError", "UnicodeError", "ValueError", "ZeroDivisionError",
    }
)

# Builtins replaced by guarded versions in `sandbox.guards` (same name, checked).
GUARDED_BUILTINS: Final = frozenset({"getattr", "hasattr", "setattr", "delattr", "__import__"})

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
        "type": "type() builds classes from arbitrary dicts; use isinstance() to check types",
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

# Attribute names denied on every object, on top of any name starting with "_".
# `format`/`format_map` on str reach attributes through "{0.__class__}" specs.
# The rest are frame/code/generator internals that lead to the worker's globals.
FORBIDDEN_ATTRIBUTES: Final = frozenset(
    {
        "format", "format_map",
        "tb_frame", "tb_next", "f_back", "f_builtins", "f_code", "f_globals",
        "f_locals", "f_trace", "co_code", "gi_frame", "gi_code", "gi_yieldfrom",
        "cr_await", "cr_frame", "cr_code", "cr_origin", "ag_await", "ag_frame", "ag_code",
        "mro",  # climbs from any class to `object`; nothing in data work needs it
    }
)
# Only str (and its subclasses) lose format/format_map; other objects with a
# method of that name (none in the allowed modules) would be over-blocked.
STR_ONLY_ATTRIBUTES: Final = frozenset({"format", "format_map"})

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
                "time", "time_ns", "monotonic", "monotonic_ns", "perf_counter",
                "perf_counter_ns", "sleep", "gmtime", "localtime", "mktime",
                "strftime", "strptime", "struct_time", "asctime", "ctime",
            }
        ),
        "base64": None,
        "hashlib": None,
        # uuid1/getnode read the host's MAC address and may spawn `ip`/`ifconfig`.
        "uuid": frozenset(
            {"UUID", "uuid3", "uuid4", "uuid5", "NAMESPACE_DNS", "NAMESPACE_URL",
             "NAMESPACE_OID", "NAMESPACE_X500"}
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

# --- Interpreter -----------------------------------------------------------

# Deep enough for ordinary recursive helpers, shallow enough to fail fast and
# well inside the C stack.
RECURSION_LIMIT: Final = 600

# Open files the worker may hold: its two pipe ends, /dev/null and a margin.
MAX_OPEN_FILES: Final = 16

# Filename given to compiled code; tracebacks are filtered to frames from it
# so messages cite the model's line numbers and never host paths.
CODE_FILENAME: Final = "<code>"
