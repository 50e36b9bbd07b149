"""`python -m sandbox run FILE`: one JSON object, exit 0 unless the sandbox cannot run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sandbox", "run", *args], capture_output=True, text=True, timeout=60
    )


def test_cli_prints_the_result_as_one_json_object(tmp_path: Path) -> None:
    script = tmp_path / "ok.py"
    script.write_text("print('hi')\n6 * 7\n")
    done = run_cli(str(script), "--json")
    assert done.returncode == 0
    assert json.loads(done.stdout) == {"ok": True, "value": 42, "stdout": "hi\n", "error": None}


def test_cli_exits_zero_when_the_code_fails(tmp_path: Path) -> None:
    script = tmp_path / "bad.py"
    script.write_text("1/0\n")
    done = run_cli(str(script))
    assert done.returncode == 0
    assert json.loads(done.stdout)["error"]["type"] == "ZeroDivisionError"


def test_cli_exits_non_zero_for_a_missing_file(tmp_path: Path) -> None:
    done = run_cli(str(tmp_path / "missing.py"))
    assert done.returncode != 0 and done.stdout == ""
