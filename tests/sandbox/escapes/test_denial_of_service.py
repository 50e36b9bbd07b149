"""Denial of service: CPU, memory, output, recursion, result size and compile-time bombs.

Every attack runs under small limits (2 s wall, 1 s CPU, 256 MiB) and, while
it runs, a second client asks for `1+1`: one hostile execution must neither
outlive its limits nor starve the portal's other users.
"""

from __future__ import annotations

import pytest
from escape_corpus import DOS_LIMITS, Payload, assert_stopped, blocked, params, run_beside_a_bystander

from sandbox import Limits

pytestmark = pytest.mark.anyio

CPU = [
    blocked(
        "busy_loop_is_stopped_by_the_cpu_limit",
        "while True: pass",
        "while True:\n    pass",
        "CPUTimeExceeded",
    ),
    blocked(
        "huge_power_is_stopped_by_the_cpu_limit",
        "10**10**10 (big-int arithmetic in C)",
        "10**10**10",
        "CPUTimeExceeded",
    ),
    blocked(
        "catastrophic_regex_backtracking_is_stopped",
        "ReDoS: re.match('(a+)+$', 'a'*40+'b')",
        "import re\nre.match('(a+)+$', 'a' * 40 + 'b')",
        "CPUTimeExceeded",
    ),
    blocked(
        "sum_of_a_huge_range_is_stopped",
        "long C loop: sum(range(10**12))",
        "sum(range(10**12))",
        "CPUTimeExceeded",
    ),
    blocked(
        "catching_everything_cannot_outlive_the_cpu_limit",
        "swallowing BaseException around a busy loop",
        "while True:\n    try:\n        while True:\n            pass\n"
        "    except BaseException:\n        pass",
        "CPUTimeExceeded",
    ),
    blocked(
        "sleeping_is_stopped_by_the_wall_limit",
        "time.sleep(100) uses no CPU",
        "import time\ntime.sleep(100)",
        "Timeout",
    ),
    blocked(
        "endless_printing_is_stopped_by_the_cpu_limit",
        "print in an endless loop",
        "while True:\n    print('spam')",
        "CPUTimeExceeded",
    ),
]

MEMORY = [
    blocked("huge_string_is_a_memory_error", "'x' * 10**10", "'x' * 10**10", "MemoryLimitExceeded"),
    blocked(
        "list_doubling_is_a_memory_error",
        "x = x + x in a loop",
        "x = [0]\nwhile True:\n    x = x + x",
        "MemoryLimitExceeded",
    ),
    blocked(
        "huge_bytes_is_a_memory_error",
        "bytes(10**10), bytearray(10**10)",
        "bytes(10**10)",
        "MemoryLimitExceeded",
    ),
    blocked("huge_list_is_a_memory_error", "[0] * 10**9", "[0] * 10**9", "MemoryLimitExceeded"),
    blocked(
        "growing_chunks_are_a_memory_error",
        "appending 10 MB chunks",
        "chunks = []\nwhile True:\n    chunks.append(bytes(10**7))",
        "MemoryLimitExceeded",
    ),
]

RECURSION_AND_RESULTS = [
    blocked(
        "deep_recursion_is_stopped",
        "unbounded recursion",
        "def f(n):\n    return f(n + 1)\nf(0)",
        "RecursionLimitExceeded",
    ),
    blocked(
        "mutual_recursion_is_stopped",
        "unbounded mutual recursion",
        "def a(n):\n    return b(n)\ndef b(n):\n    return a(n)\na(0)",
        "RecursionLimitExceeded",
    ),
    blocked(
        "deeply_nested_result_is_refused",
        "a result nested 100 000 lists deep",
        "x = []\nfor i in range(100000):\n    x = [x]\nx",
        "ValueTooDeep",
    ),
    blocked(
        "deeply_nested_repr_in_the_result_is_stopped",
        "repr() of a 100 000-deep structure",
        "x = []\nfor i in range(100000):\n    x = [x]\nrepr(x)",
        "RecursionLimitExceeded",
    ),
    blocked("huge_result_is_refused", "a 2 MB final value", "'x' * 2_000_000", "ResultTooLarge"),
    blocked(
        "long_list_result_is_refused", "a million-item final value", "list(range(10**6))", "ResultTooLarge"
    ),
    blocked("int_too_long_to_print_is_refused", "a 5000-digit integer result", "10**5000", "ValueError"),
]

COMPILE_TIME = [
    blocked(
        "deeply_nested_parentheses_are_refused",
        "nesting bomb: 300 parentheses",
        "x = " + "(" * 300 + "1" + ")" * 300,
        "CodeTooComplex",
    ),
    blocked(
        "deeply_nested_brackets_are_refused",
        "nesting bomb: 300 brackets",
        "x = " + "[" * 300 + "]" * 300,
        "CodeTooComplex",
    ),
    blocked(
        "long_not_chain_is_refused",
        "nesting bomb: 20 000 x `not`",
        "x = " + "not " * 20000 + "1",
        "CodeTooComplex",
    ),
    blocked(
        "long_unary_minus_chain_is_refused",
        "nesting bomb: 20 000 x unary minus",
        "x = " + "-" * 20000 + "1",
        "CodeTooComplex",
    ),
    blocked(
        "a_400_term_sum_is_refused_not_a_crash",
        "nesting bomb: 1+1+...+1 (400 terms, left-deep tree)",
        "x = " + "+".join(["1"] * 400),
        "CodeTooComplex",
    ),
    blocked(
        "a_5000_term_sum_is_refused",
        "nesting bomb: 1+1+...+1 (5000 terms)",
        "x = " + "+".join(["1"] * 5000),
        "CodeTooComplex",
    ),
    blocked(
        "deep_indentation_is_refused",
        "nesting bomb: 120 nested if blocks",
        "".join(" " * i + "if 1:\n" for i in range(120)) + " " * 120 + "pass",
        "CodeTooComplex",
    ),
    blocked("ten_megabyte_source_is_refused", "a 10 MB source file", "x = 1\n" * 1_750_000, "CodeTooLarge"),
]


@pytest.mark.parametrize("payload", params(CPU))
async def test_cpu_attacks_end_at_a_limit_without_starving_others(payload: Payload) -> None:
    assert_stopped(await run_beside_a_bystander(payload.code, limits=DOS_LIMITS), payload)


@pytest.mark.parametrize("payload", params(MEMORY))
async def test_memory_attacks_end_at_a_limit_without_starving_others(payload: Payload) -> None:
    assert_stopped(await run_beside_a_bystander(payload.code, limits=DOS_LIMITS), payload)


@pytest.mark.parametrize("payload", params(RECURSION_AND_RESULTS))
async def test_recursion_and_result_attacks_end_at_a_limit(payload: Payload) -> None:
    assert_stopped(await run_beside_a_bystander(payload.code, limits=DOS_LIMITS), payload)


@pytest.mark.parametrize("payload", params(COMPILE_TIME))
async def test_compile_time_bombs_are_refused_before_running(payload: Payload) -> None:
    result = await run_beside_a_bystander(payload.code, limits=DOS_LIMITS, runs_code=False)
    assert_stopped(result, payload)


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("for i in range(100000):\n    print('spam')\n'done'", id="print_in_a_loop"),
        pytest.param("print('x' * 10**7)\n'done'", id="one_huge_print"),
    ],
)
async def test_output_floods_are_cut_at_the_output_limit(code: str) -> None:
    limits = Limits(wall_seconds=2, cpu_seconds=1, memory_bytes=256 * 1024 * 1024, output_bytes=1000)
    result = await run_beside_a_bystander(code, limits=limits)
    assert result.ok and result.value == "done"
    kept, marker = result.stdout.rsplit("\n... [output truncated", 1)
    assert len(kept.encode()) <= 1000 and marker


async def test_output_floods_are_reported_in_limits_hit() -> None:
    limits = Limits(wall_seconds=2, cpu_seconds=1, memory_bytes=256 * 1024 * 1024, output_bytes=1000)
    result = await run_beside_a_bystander("for i in range(100000):\n    print('spam')\n'done'", limits=limits)
    assert result.ok and result.value == "done"
    assert result.limits_hit == ("OutputLimitExceeded",)
