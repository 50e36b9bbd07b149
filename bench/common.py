"""What every benchmark shares: timing, percentiles, and the markdown table it reports."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

__all__ = ["Section", "fmt_ms", "percentile", "ratio", "time_async", "time_sync"]


@dataclass(frozen=True)
class Section:
    """One benchmark's part of the report: a heading, a table and what it means."""

    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    notes: str
    extra: str = ""  # markdown placed between the table and the notes (a plot link)
    figures: dict[str, float] = field(default_factory=dict)  # headline numbers for the console

    def markdown(self) -> str:
        lines = [f"## {self.title}", "", "| " + " | ".join(self.header) + " |"]
        lines.append("|" + "|".join("---" for _ in self.header) + "|")
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        parts = ["\n".join(lines)]
        if self.extra:
            parts.append(self.extra)
        parts.append(self.notes.strip())
        return "\n\n".join(parts) + "\n"


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between the closest ranks."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def fmt_ms(value: float) -> str:
    if value >= 100:
        return f"{value:.0f} ms"
    if value >= 10:
        return f"{value:.1f} ms"
    return f"{value:.2f} ms"


def ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.2f}x" if denominator > 0 else "-"


def time_sync(work: Callable[[], object], runs: int) -> list[float]:
    """Milliseconds of each of ``runs`` calls of ``work``."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def time_async(work: Callable[[], Awaitable[object]], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await work()
        samples.append((time.perf_counter() - started) * 1000)
    return samples
