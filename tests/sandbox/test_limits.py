"""Resource limits: each ends the run with its own error type."""

from __future__ import annotations

import pytest

from sandbox import Limits, run

pytestmark = pytest.mark.anyio


async def test_busy_loop_past_the_wall_time_is_a_timeout() -> None:
    result = await run("while True:\n    pass", limits=Limits(wall_seconds=1, cpu_seconds=10))
    assert result.error is not None and result.error.type == "Timeout"
    assert "wall-time limit" in result.error.message


async def test_busy_loop_past_the_cpu_limit_is_cpu_time_exceeded() -> None:
    result = await run("while True:\n    pass", limits=Limits(wall_seconds=20, cpu_seconds=1))
    assert result.error is not None and result.error.type == "CPUTimeExceeded"


async def test_huge_string_is_memory_limit_exceeded() -> None:
    result = await run("'x' * 10**10", limits=Limits(memory_bytes=256 * 1024 * 1024))
    assert result.error is not None and result.error.type == "MemoryLimitExceeded"


async def test_growing_list_is_memory_limit_exceeded() -> None:
    code = "chunks = []\nwhile True:\n    chunks.append(bytes(10**7))"
    result = await run(code, limits=Limits(memory_bytes=256 * 1024 * 1024))
    assert result.error is not None and result.error.type == "MemoryLimitExceeded"


async def test_deep_recursion_is_recursion_limit_exceeded() -> None:
    result = await run("def f(n):\n    return f(n + 1)\nf(0)")
    assert result.error is not None and result.error.type == "RecursionLimitExceeded"


async def test_oversized_final_value_is_result_too_large() -> None:
    result = await run("'x' * 5000", limits=Limits(result_bytes=1000))
    assert result.error is not None and result.error.type == "ResultTooLarge"
    assert result.value is None


async def test_oversized_code_is_refused_before_running() -> None:
    result = await run("x = 1\n" * 100, limits=Limits(max_code_bytes=50))
    assert result.error is not None and result.error.type == "CodeTooLarge"
