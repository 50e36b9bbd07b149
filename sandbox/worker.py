"""The worker process: one execution, then exit.

Started by the host as `python -I -m sandbox.worker CPU_SECONDS MEMORY_BYTES`
with an empty environment, in an empty temporary directory. Order matters:

1. import everything the code may use (imports need memory and files);
2. move the protocol pipes off fds 0/1 and point 0/1/2 at /dev/null, so a
   stray write from any library can never corrupt the protocol;
3. apply resource limits, *before* the code is read or compiled;
4. read the start message, compile, run, send the done message, exit.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import sys
from typing import Any

from sandbox import errors, policy
from sandbox.compiler import CompiledCode, compile_code
from sandbox.convert import ValueTooDeep, to_jsonable
from sandbox.diagnose import describe
from sandbox.environment import build_builtins, build_globals
from sandbox.modules import build_modules, make_importer
from sandbox.output import CappedOutput
from sandbox.tools import Channel, ToolNamespace
from sandbox.types import ErrorInfo


def claim_pipes() -> Channel:
    """Keep private copies of the pipes and blank fds 0, 1 and 2."""
    reader = os.fdopen(os.dup(0), "rb")
    writer = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    return Channel(reader, writer)


def _set_limit(kind: int, soft: int, hard: int | None = None) -> None:
    """Lower the soft and hard limits (never above the current hard limit)."""
    hard = soft if hard is None else hard
    _, current = resource.getrlimit(kind)
    if current != resource.RLIM_INFINITY:
        soft, hard = min(soft, current), min(hard, current)
    resource.setrlimit(kind, (soft, hard))


def apply_limits(cpu_seconds: int, memory_bytes: int) -> None:
    """Bound what the code can consume. Hard limits stop it raising them back.

    RLIMIT_CPU delivers SIGXCPU (default action: terminate), which the host
    reports as CPUTimeExceeded. RLIMIT_NPROC counts per uid and does not bind
    for root (CAP_SYS_RESOURCE); code has no way to spawn processes anyway, and
    a later hardening step adds seccomp/namespaces.
    """
    # Hard one second above soft: at the soft limit the kernel sends SIGXCPU
    # (recognisable); at the hard limit it would send an anonymous SIGKILL.
    _set_limit(resource.RLIMIT_CPU, cpu_seconds, cpu_seconds + 1)
    _set_limit(resource.RLIMIT_AS, memory_bytes)
    _set_limit(resource.RLIMIT_NOFILE, policy.MAX_OPEN_FILES)
    _set_limit(resource.RLIMIT_NPROC, 0)
    _set_limit(resource.RLIMIT_FSIZE, 0)
    _set_limit(resource.RLIMIT_CORE, 0)
    sys.setrecursionlimit(policy.RECURSION_LIMIT)


def encode_value(value: Any, result_bytes: int) -> tuple[Any, ErrorInfo | None]:
    """The final value as JSON data, or ResultTooLarge."""
    try:
        data = to_jsonable(value)
        size = len(json.dumps(data, ensure_ascii=False, allow_nan=False).encode("utf-8", "surrogatepass"))
    except (ValueError, ValueTooDeep) as exc:  # e.g. an int too long to print, or absurd nesting
        return None, ErrorInfo(
            type(exc).__name__,
            "The final value cannot be converted to JSON: return simpler data "
            "(str, numbers under 4300 digits, lists and dicts nested less than 100 deep).",
        )
    if size > result_bytes:
        return None, ErrorInfo(
            errors.RESULT_TOO_LARGE,
            f"The final value is {size} bytes as JSON, over the {result_bytes} byte limit: "
            "return a summary instead (counts, the first items, selected fields).",
        )
    return data, None


def execute(
    compiled: CompiledCode, namespace: dict[str, Any], result_bytes: int, memory: int
) -> tuple[Any, ErrorInfo | None]:
    """Run the code; every exception it raises becomes an ErrorInfo."""
    try:
        exec(compiled.body, namespace)
        value = eval(compiled.final, namespace) if compiled.final is not None else None
        return encode_value(value, result_bytes)
    except BaseException as exc:  # anything the code does is reported, never raised
        return None, describe(exc, memory)
    finally:
        namespace.clear()  # free the code's data before building the reply
        gc.collect()


def serve(channel: Channel, curated: dict[str, Any], memory: int) -> dict[str, Any]:
    """Handle the start message and build the done message."""
    start = channel.receive()
    output = CappedOutput(int(start["output_bytes"]))
    compiled = compile_code(str(start["code"]), curated.keys())
    value: Any = None
    error: ErrorInfo | None = None
    if isinstance(compiled, ErrorInfo):
        error = compiled
    else:
        namespaces = {ns: ToolNamespace(ns, tools, channel) for ns, tools in start["tools"].items()}
        namespace = build_globals(build_builtins(make_importer(curated)), output, namespaces)
        value, error = execute(compiled, namespace, int(start["result_bytes"]), memory)
    error_json = None if error is None else {"type": error.type, "message": error.message}
    return {"type": "done", "ok": error is None, "value": value, "stdout": output.text(), "error": error_json}


def main(argv: list[str]) -> int:
    cpu_seconds, memory_bytes = int(argv[0]), int(argv[1])
    curated = build_modules()
    channel = claim_pipes()
    apply_limits(cpu_seconds, memory_bytes)
    channel.send(serve(channel, curated, memory_bytes))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
