"""Issue 10, item 4: a failing upstream call with a huge argument does not write a huge log line.

The attack: ``gitlab.get_project(project="x" * 3_000_000)`` failed upstream, and the SDK's
"Tool 'get_project' failed: ..." record carried the whole argument: one 3,000,509-character line.
Records are now cut, with the size and a short digest in place of the rest.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator

import pytest
from portal_testing import RunningPortal, demo_servers, mcp_session, running_portal

from portal.log_safety import MAX_RECORD_CHARS, BoundedRecords

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPortal]:
    with (
        demo_servers("gitlab") as servers,
        running_portal(tmp_path_factory.mktemp("log-flood"), {"servers": servers}) as running,
    ):
        yield running


async def test_a_huge_failing_argument_does_not_flood_the_log(portal: RunningPortal) -> None:
    async with mcp_session(portal) as client:
        result = await client.call_tool(
            "portal_codemode_execute", {"code": 'gitlab.get_project(project="x" * 3_000_000)'}
        )
    answer = json.loads(result.content[0].text)
    assert answer["error"]["type"] == "ToolError"
    lines = portal.log.read_text(errors="replace").splitlines()
    assert any("get_project" in line for line in lines)
    assert max(len(line) for line in lines) < MAX_RECORD_CHARS + 200
    assert "x" * 3000 not in portal.log.read_text(errors="replace")


def test_a_cut_record_names_its_size_and_digest() -> None:
    message = "value " + "y" * 10_000
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "failed: %s", (message,), None)
    BoundedRecords(limit=100).filter(record)
    text = record.getMessage()
    digest = hashlib.sha256(f"failed: {message}".encode()).hexdigest()[:12]
    assert len(text) < 200
    assert text.endswith(f"[cut: {len(message) + 8} characters in all, sha256 {digest}]")
