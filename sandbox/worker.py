"""The worker: one execution in a process forked from the fork server, then exit.

`sandbox.zygote` has already imported everything below (RestrictedPython, the
compiler, the guards, the curated modules), so a worker starts with no import
and no interpreter start-up. The fork server keeps a spare worker or two
forked ahead of demand; a spare has run nothing but a warm-up and serves
exactly one execution. Order matters:

1. as a spare (`spare_main`): own session, every fd closed but its line to the
   fork server, its channel and its output memfd, its own new network
   namespace (or the fork server's, see `policy.NETWORK_NAMESPACE`), empty
   cwd, uid dropped (`isolation.enter_spare`); then a warm-up run of a fixed
   snippet, so the copy-on-write page faults of the compiler happen before a
   run waits on them; then the fixed rlimits, Landlock and seccomp
   (`isolation.lock_spare`), and the run-independent part of the code's
   globals is built;
2. when handed a run: its limits arrive as plain bytes on the line (its
   descriptors it had from birth), the output memfd is mapped, the line is
   closed, then the run's RLIMIT_AS and RLIMIT_CPU (`isolation.lock_down`)
   -- all *before* the code is read or compiled;
3. read the start message, compile (limits already bind the compiler), run;
4. send the done message and `_exit` (no atexit handlers, no flushing of the
   fork server's inherited state).
"""

from __future__ import annotations

import gc
import json
import mmap
import os
import sys
from typing import Any, Final, NoReturn

from sandbox import errors, isolation
from sandbox.compiler import CompiledCode, compile_code
from sandbox.convert import ValueTooDeep, to_jsonable
from sandbox.diagnose import describe
from sandbox.environment import build_builtins, build_globals
from sandbox.modules import CuratedModule, make_importer
from sandbox.output import CappedOutput, buffer_size
from sandbox.tools import Channel, Parallel, ToolNamespace
from sandbox.types import ErrorInfo

# Exit statuses the host recognises.
EXIT_OK: Final = 0
EXIT_SETUP_FAILED: Final = 4


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
    compiled: CompiledCode, namespace: dict[str, Any], result_bytes: int, limits: dict[str, int]
) -> tuple[Any, ErrorInfo | None]:
    """Run the code; every exception it raises becomes an ErrorInfo."""
    try:
        exec(compiled.body, namespace)
        value = eval(compiled.final, namespace) if compiled.final is not None else None
        return encode_value(value, result_bytes)
    except BaseException as exc:  # anything the code does is reported, never raised
        return None, describe(exc, limits["memory_bytes"])
    finally:
        namespace.clear()  # free the code's data before building the reply
        gc.collect()


def serve(
    channel: Channel,
    curated: dict[str, CuratedModule],
    output: CappedOutput,
    limits: dict[str, int],
    builtins_table: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Handle the start message and build the done message.

    `builtins_table` is the code's builtins without `parallel`, built ahead
    (by the spare, before its run arrived); it is built here when not given.
    """
    start = channel.receive()
    sys.setrecursionlimit(limits["recursion_depth"])
    compiled = compile_code(str(start["code"]), curated.keys(), limits["max_ast_depth"])
    value: Any = None
    error: ErrorInfo | None
    if isinstance(compiled, ErrorInfo):
        error = compiled
    else:
        namespaces = {ns: ToolNamespace(ns, tools, channel) for ns, tools in start["tools"].items()}
        table = builtins_table if builtins_table is not None else build_builtins(make_importer(curated))
        table["parallel"] = Parallel(channel)
        namespace = build_globals(table, output, namespaces)
        value, error = execute(compiled, namespace, limits["result_bytes"], limits)
    error_json = None if error is None else _error_json(error)
    return {"type": "done", "ok": error is None, "value": value, "error": error_json}


_WARM_UP: Final = "import json\nrows = [{'n': i} for i in range(3)]\nprint(len(rows))\njson.dumps(rows)"


def warm_up(curated: dict[str, CuratedModule]) -> None:
    """Compile and run a fixed snippet, touching what a real run touches."""
    compiled = compile_code(_WARM_UP, curated.keys())
    if isinstance(compiled, CompiledCode):
        output = CappedOutput(1024)
        namespace = build_globals(build_builtins(make_importer(curated)), output, {})
        exec(compiled.body, namespace)
        if compiled.final is not None:
            encode_value(eval(compiled.final, namespace), 1024)
    gc.collect()


def spare_main(
    prepared: isolation.Prepared,
    curated: dict[str, CuratedModule],
    line: int,
    channel_fd: int,
    output_fd: int,
    workdir: str,
) -> NoReturn:
    """Entry point of a freshly forked spare worker; never returns."""
    try:
        isolation.enter_spare(prepared, {line, channel_fd, output_fd}, workdir)
        warm_up(curated)
        isolation.lock_spare(prepared)
        builtins_table = build_builtins(make_importer(curated))
        channel = Channel(channel_fd)
        message = os.read(line, 4096)  # one record: the run's limits (seccomp refuses recvmsg now)
        if not message:
            os._exit(EXIT_SETUP_FAILED)  # the fork server closed the line: not needed
        limits = json.loads(message)
        shared = mmap.mmap(output_fd, buffer_size(limits["output_bytes"]))
        os.close(output_fd)
        os.close(line)
        isolation.lock_down(prepared, limits)
        channel.window = max(1, int(limits["max_concurrent_tool_calls"]))
    except BaseException:  # noqa: BLE001 - a layer that should apply did not: run nothing
        os._exit(EXIT_SETUP_FAILED)
    output = CappedOutput(limits["output_bytes"], shared)
    channel.send(serve(channel, curated, output, limits, builtins_table))
    os._exit(EXIT_OK)


def _error_json(error: ErrorInfo) -> dict[str, Any]:
    found: dict[str, Any] = {"type": error.type, "message": error.message}
    if error.tool:
        found["tool"] = error.tool
    if error.hint:
        found["hint"] = error.hint
    return found
