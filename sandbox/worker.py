"""The worker: one execution in a process forked from the fork server, then exit.

`sandbox.zygote` has already imported everything below (RestrictedPython, the
compiler, the guards, the curated modules), so a worker starts with no import
and no interpreter start-up. The fork server keeps a spare worker or two
forked ahead of demand; a spare has run nothing but a warm-up and serves
exactly one execution. Order matters:

1. as a spare (`spare_main`): own session, every fd closed but its line to the
   fork server, its own new network namespace, empty cwd, uid dropped
   (`isolation.enter_spare`); then a warm-up run of a fixed snippet, so the
   copy-on-write page faults of the compiler happen before a run waits on them;
2. when handed a run: its channel and output buffer arrive, the line to the
   fork server is closed, then rlimits, Landlock and seccomp
   (`isolation.lock_down`) -- all *before* the code is read or compiled;
3. read the start message, compile (limits already bind the compiler), run;
4. send the done message and `_exit` (no atexit handlers, no flushing of the
   fork server's inherited state).
"""

from __future__ import annotations

import gc
import json
import mmap
import os
import socket
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
    channel: Channel, curated: dict[str, CuratedModule], output: CappedOutput, limits: dict[str, int]
) -> dict[str, Any]:
    """Handle the start message and build the done message."""
    start = channel.receive()
    sys.setrecursionlimit(limits["recursion_depth"])
    compiled = compile_code(str(start["code"]), curated.keys(), limits["max_ast_depth"])
    value: Any = None
    error: ErrorInfo | None
    if isinstance(compiled, ErrorInfo):
        error = compiled
    else:
        namespaces = {ns: ToolNamespace(ns, tools, channel) for ns, tools in start["tools"].items()}
        sandbox_builtins = {"parallel": Parallel(channel)}
        namespace = build_globals(
            build_builtins(make_importer(curated), sandbox_builtins), output, namespaces
        )
        value, error = execute(compiled, namespace, limits["result_bytes"], limits)
    error_json = None if error is None else {"type": error.type, "message": error.message}
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
    prepared: isolation.Prepared, curated: dict[str, CuratedModule], line: int, workdir: str
) -> NoReturn:
    """Entry point of a freshly forked spare worker; never returns."""
    try:
        isolation.enter_spare(prepared, {line}, workdir)
        warm_up(curated)
        with socket.socket(fileno=line) as waiting:
            message, fds, _, _ = socket.recv_fds(waiting, 4096, 2)
        if len(fds) != 2:
            os._exit(EXIT_SETUP_FAILED)  # the fork server closed the line: not needed
        limits = json.loads(message)
        channel_fd, output_fd = fds
        shared = mmap.mmap(output_fd, buffer_size(limits["output_bytes"]))
        os.close(output_fd)
        isolation.lock_down(prepared, limits)
    except BaseException:  # noqa: BLE001 - a layer that should apply did not: run nothing
        os._exit(EXIT_SETUP_FAILED)
    channel = Channel(channel_fd, limits["max_concurrent_tool_calls"])
    channel.send(serve(channel, curated, CappedOutput(limits["output_bytes"], shared), limits))
    os._exit(EXIT_OK)
