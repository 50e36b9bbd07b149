"""`python -m sandbox run FILE [--json]` and `python -m sandbox doctor [--json]`.

`run` runs a file in the sandbox, with no tools, and prints one JSON object
{"ok", "value", "stdout", "error"}. The exit status is 0 whether or not the
code failed (the failure is in the JSON); it is non-zero only when the sandbox
itself could not run: 2 if FILE cannot be read, 3 if no worker could be started.

`doctor` starts the fork server, runs a trivial program through it and prints
which isolation layers this machine gives every worker (exit 3 if none can run).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import anyio

from sandbox.diagnostics import doctor_report
from sandbox.errors import SandboxUnavailable
from sandbox.host import run

EXIT_UNREADABLE = 2
EXIT_UNAVAILABLE = 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run_cmd = commands.add_parser(
        "run",
        help="run FILE and print the result as one JSON object",
        description=(
            "Run FILE with no tools and print one JSON object "
            '{"ok": bool, "value": ..., "stdout": str, "error": {"type", "message"} | null}, '
            "indented unless --json is given. Exit status 0 even when the code fails; "
            f"{EXIT_UNREADABLE} if FILE cannot be read, {EXIT_UNAVAILABLE} if the sandbox cannot start."
        ),
    )
    run_cmd.add_argument("file", type=Path, help="Python file to run")
    run_cmd.add_argument("--json", action="store_true", help="print compact JSON on one line")
    doctor_cmd = commands.add_parser("doctor", help="print which isolation layers are active on this machine")
    doctor_cmd.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def _doctor(as_json: bool) -> int:
    try:
        report = doctor_report()
    except SandboxUnavailable as exc:
        print(f"sandbox unavailable: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    if as_json:
        print(json.dumps(report))
        return 0
    print(
        f"fork server pid {report['forkserver_pid']}; trivial run ok={report['probe_ok']} "
        f"in {report['probe_ms']:.1f} ms"
    )
    for layer in report["layers"]:
        mark = "active " if layer["active"] else "MISSING"
        print(f"  {mark}  {layer['name']:<18} {layer['detail']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "doctor":
        return _doctor(args.json)
    try:
        code = args.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"cannot read {args.file}: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    try:
        result = anyio.run(run, code)
    except SandboxUnavailable as exc:
        print(f"sandbox unavailable: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    print(json.dumps(result.to_json(), indent=None if args.json else 2, ensure_ascii=False))
    return 0
