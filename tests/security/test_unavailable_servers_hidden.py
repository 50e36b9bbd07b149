"""Issue 10, item 3: search's "# unavailable now" line names only servers the caller could use.

A failed server lists no tools, so the line used to name every failed server to everyone,
telling a caller of servers outside their rights.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from portal_testing import demo_servers

from portal.auth import Principal
from portal.config import PortalConfig
from portal.permissions import PermissionRule, Permissions
from portal.runtime import open_runtime

pytestmark = pytest.mark.anyio

RULES = [
    {"groups": ["dev"], "tools": ["gitlab.*"]},
    {"groups": ["sre"], "tools": ["gitlab.*", "ops.*"]},
]
BROKEN = {"namespace": "ops", "transport": {"type": "stdio", "command": "/nonexistent/mcp-server"}}


async def test_a_failed_server_the_caller_cannot_use_is_not_named(tmp_path: Path) -> None:
    with demo_servers("gitlab") as servers:
        config = PortalConfig.model_validate(
            {"state_dir": str(tmp_path), "servers": [*servers, BROKEN], "permissions": RULES}
        )
        async with open_runtime(config) as runtime:
            dev = runtime.codemode.search_text("list projects", 3, Principal("u-dev", ("dev",)))
            sre = runtime.codemode.search_text("list projects", 3, Principal("u-sre", ("sre",)))
    assert "gitlab.list_projects" in dev
    assert "ops" not in dev
    assert "# unavailable now: ops" in sre


def test_a_namespace_is_reachable_only_through_a_rule_for_it() -> None:
    permissions = Permissions([PermissionRule.model_validate(rule) for rule in RULES])
    dev, sre = Principal("a", ("dev",)), Principal("b", ("sre",))
    assert not permissions.may_reach_namespace(dev, "ops")
    assert permissions.may_reach_namespace(sre, "ops")
    assert not permissions.may_reach_namespace(None, "gitlab")
    assert Permissions(None).may_reach_namespace(None, "ops")
