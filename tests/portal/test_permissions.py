"""Permissions: rules from the config decide which tools a caller sees and may call."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from portal_testing import demo_servers

from portal.auth import Principal
from portal.config import PortalConfig
from portal.permissions import PermissionRule, Permissions
from portal.runtime import PortalRuntime, open_runtime

READ_ONLY = {"readOnlyHint": True}
WRITE = {"readOnlyHint": False, "destructiveHint": False}
RULES = [
    PermissionRule(groups=["*"], tools=["*"], annotations={"readOnlyHint": True}),
    PermissionRule(
        groups=["release-managers"], tools=["gitlab.*"], exclude=["gitlab.create_merge_request_note"]
    ),
]


def who(*groups: str) -> Principal:
    return Principal("00000000-0000-4000-8000-000000000000", groups)


@pytest.mark.parametrize(
    ("principal", "name", "annotations", "allowed"),
    [
        (who(), "gitlab.get_job_log", READ_ONLY, True),
        (who(), "gitlab.create_issue", WRITE, False),
        (who("release-managers"), "gitlab.create_issue", WRITE, True),
        (who("release-managers"), "gitlab.create_merge_request_note", WRITE, False),
        (who("release-managers"), "jira.create_issue", WRITE, False),
        (who(), "gitlab.mystery", {}, False),  # no hints: MCP assumes it writes
        (None, "gitlab.get_job_log", READ_ONLY, False),
    ],
)
def test_rules_grant_by_group_glob_exclusion_and_annotation(
    principal: Principal | None, name: str, annotations: dict, allowed: bool
) -> None:
    assert Permissions(RULES).allows(principal, name, annotations) is allowed


def test_without_rules_everyone_may_use_everything() -> None:
    assert Permissions(None).allows(None, "gitlab.create_issue", WRITE) is True
    assert Permissions([]).allows(who("admins"), "gitlab.get_job_log", READ_ONLY) is False


def test_a_rule_with_an_unknown_hint_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="annotations"):
        PortalConfig.model_validate(
            {"permissions": [{"groups": ["*"], "tools": ["*"], "annotations": {"dangerous": True}}]}
        )


@asynccontextmanager
async def portal(tmp_path: Path) -> AsyncIterator[PortalRuntime]:
    """A runtime with the rules and a GitLab server against a fresh fake."""
    with demo_servers("gitlab") as servers:
        rules = [r.model_dump() for r in RULES]
        config = PortalConfig.model_validate(
            {"state_dir": str(tmp_path), "servers": servers, "permissions": rules}
        )
        async with open_runtime(config) as runtime:
            yield runtime


@pytest.mark.anyio
async def test_search_hides_tools_the_caller_cannot_use(tmp_path: Path) -> None:
    async with portal(tmp_path) as runtime:
        developer = [h.entry.name for h in runtime.codemode.search("create an issue", 20, who("dev"))]
        manager = [
            h.entry.name for h in runtime.codemode.search("create an issue", 20, who("release-managers"))
        ]
    assert "gitlab.create_issue" not in developer
    assert "gitlab.list_issues" in developer
    assert "gitlab.create_issue" in manager


@pytest.mark.anyio
async def test_execute_refuses_a_forbidden_call_as_if_the_tool_did_not_exist(tmp_path: Path) -> None:
    code = 'gitlab.create_issue(project="infra/api", title="From the portal")["title"]'
    async with portal(tmp_path) as runtime:
        refused = await runtime.codemode.execute(code, who("dev"))
        granted = await runtime.codemode.execute(code, who("release-managers"))
    refused_answer = json.loads(refused.text)
    assert refused_answer["error"]["type"] == "AttributeError"
    assert "'gitlab' has no tool 'create_issue'" in refused_answer["error"]["message"]
    assert json.loads(granted.text)["value"] == "From the portal"
