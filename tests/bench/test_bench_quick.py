"""Keep the benchmark scripts working: run ``python -m bench --quick`` into a temp file.

No thresholds are asserted (this machine's speed is not the code's); only that every
benchmark ran and reported its table.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = (
    "## 1. Context cost of the tool list",
    "## 2. Search",
    "## 3. Sandbox start-up",
    "## 4. Execute end to end over Streamable HTTP",
    "## 5. Task cost in model tokens",
    "## 6. Load: concurrent sessions against one portal",
    "## 7. Search answers with result shapes",
    "## 8. Direct-mode overhead against the upstream itself",
)


@pytest.mark.timeout(180)
def test_quick_benchmarks_write_every_table(tmp_path: Path) -> None:
    output = tmp_path / "benchmarks.md"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    report = output.read_text(encoding="utf-8")
    assert report.startswith("# Benchmarks")
    for line in ("- Machine:", "- Date:", "- Commit:", "make bench"):
        assert line in report
    for heading in SECTIONS:
        assert heading in report
        table = report.split(heading, 1)[1].split("\n## ", 1)[0]
        rows = [line for line in table.splitlines() if line.startswith("| ")]
        assert len(rows) >= 3, f"{heading}: header and at least two rows expected"
    tasks = report.split(SECTIONS[4], 1)[1].split("\n## ", 1)[0]
    assert "| **Total** |" in tasks and "Direct / Code Mode" in tasks
    load = report.split(SECTIONS[5], 1)[1].split("\n## ", 1)[0]
    for measure in ("Throughput", "Latency p50", "Latency p99", "Errors", "Audit records", "Peak RSS"):
        assert f"| {measure}" in load
    assert "| 10 concurrent calls inside code (`parallel`) |" in report
    assert (tmp_path / "context-tokens.png").stat().st_size > 1000
