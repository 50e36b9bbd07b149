"""Tools a caller may not use stay hidden: not listed, not suggested, not told apart from unknown ones.

The attacker is a logged-in user in group ``dev``, granted only GitLab's read-only tools,
who probes Code Mode (``print(ns)``, ``dir``, typos, calls) and direct mode (``tools/list``)
for tools that exist but are not theirs: GitLab's write tools and everything of Jira.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.server.auth.middleware.auth_context import auth_context_var
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from portal_testing import demo_servers

from portal.auth import Principal
from portal.bridge import RegistryBridge
from portal.catalog import Catalog
from portal.codemode import CodeMode
from portal.config import PortalConfig
from portal.mcp_server import build_mcp_server
from portal.runtime import PortalRuntime, open_runtime
from sandbox import ToolCallFailed

pytestmark = pytest.mark.anyio

RULES = [{"groups": ["dev"], "tools": ["gitlab.*"], "annotations": {"readOnlyHint": True}}]
ATTACKER = Principal("00000000-0000-4000-8000-0000000000aa", ("dev",))
FORBIDDEN = ["create_issue", "create_merge_request_note"]  # GitLab's write tools
CALL_FORBIDDEN = 'gitlab.create_issue(project="infra/api", title="pwned")'


def config(tmp_path: Path, servers: list[dict], codemode: bool = True) -> PortalConfig:
    return PortalConfig.model_validate(
        {"state_dir": str(tmp_path), "codemode": codemode, "servers": servers, "permissions": RULES}
    )


@asynccontextmanager
async def portal(tmp_path: Path, codemode: bool = True) -> AsyncIterator[PortalRuntime]:
    with demo_servers("gitlab", "jira") as servers:
        async with open_runtime(config(tmp_path, servers, codemode)) as runtime:
            yield runtime


def without(runtime: PortalRuntime, qualified_name: str) -> CodeMode:
    """The same portal for the same caller, where the tool does not exist at all."""
    catalog = Catalog(
        lambda: (
            runtime.registry.version,
            [t for t in runtime.registry.tools() if t.qualified_name != qualified_name],
        )
    )
    return CodeMode(
        runtime.config,
        runtime.registry,
        catalog,
        runtime.metrics,
        runtime.audit,
        runtime.codemode.permissions,
    )


async def run(codemode: CodeMode, code: str) -> dict[str, Any]:
    return json.loads((await codemode.execute(code, ATTACKER)).text)


def names_a_forbidden_tool(text: str) -> list[str]:
    return [name for name in FORBIDDEN if name in text]


async def test_print_and_dir_of_a_namespace_hide_forbidden_tools(tmp_path: Path) -> None:
    code = """
print(gitlab)
try:
    listing = dir(gitlab)
except NameError as error:
    listing = str(error)
[repr(gitlab), str(gitlab), listing, hasattr(gitlab, "create_issue"), getattr(gitlab, "create_issue", None)]
"""
    async with portal(tmp_path) as runtime:
        answer = await run(runtime.codemode, code)
    assert answer["ok"] is True, answer
    shown, text, listing, has, got = answer["value"]
    assert "gitlab.list_projects" in shown or "list_projects" in shown  # the namespace itself is there
    assert names_a_forbidden_tool(answer["stdout"] + shown + text + str(listing)) == []
    assert (has, got) == (False, None)


async def test_forbidden_and_unknown_tools_get_the_same_error(tmp_path: Path) -> None:
    async with portal(tmp_path) as runtime:
        forbidden = await run(runtime.codemode, CALL_FORBIDDEN)
        unknown = await run(without(runtime, "gitlab.create_issue"), CALL_FORBIDDEN)
        # A worker that bypassed its namespace object would reach the host's bridge directly.
        bridges = [
            RegistryBridge(runtime.registry, catalog, ATTACKER, "u", runtime.codemode.may_use)
            for catalog in (runtime.catalog, without(runtime, "gitlab.create_issue")._catalog)
        ]
        refusals = []
        for bridge in bridges:
            with pytest.raises(ToolCallFailed) as refused:
                await bridge.call_tool("gitlab.create_issue", {"project": "infra/api", "title": "pwned"})
            refusals.append(str(refused.value))
    assert forbidden["ok"] is False
    assert forbidden["error"] == unknown["error"]
    assert forbidden["error"]["type"] == "AttributeError"
    assert refusals[0] == refusals[1]
    assert "permission" not in refusals[0] + forbidden["error"]["message"]


async def test_suggestions_never_name_forbidden_tools(tmp_path: Path) -> None:
    probes = {
        "typo": 'gitlab.create_issu(project="infra/api")',
        "close": "gitlab.create_merge_request_not()",
        "far": "gitlab.zzz()",  # a short namespace lists every tool it has
    }
    async with portal(tmp_path) as runtime:
        answers = {name: await run(runtime.codemode, code) for name, code in probes.items()}
    for name, answer in answers.items():
        message = answer["error"]["message"]
        assert answer["error"]["type"] == "AttributeError", (name, answer)
        assert names_a_forbidden_tool(message) == [], (name, message)
    assert "Available tools:" in answers["far"]["error"]["message"]
    assert "list_projects" in answers["far"]["error"]["message"]


@contextmanager
def signed_in(principal: Principal) -> Iterator[None]:
    """The request context the portal's bearer middleware sets for a verified token."""
    token = AccessToken(
        token="t",
        client_id="c",
        scopes=["mcp"],
        subject=principal.user_id,
        claims={"groups": list(principal.groups)},
    )
    reset = auth_context_var.set(AuthenticatedUser(token))
    try:
        yield
    finally:
        auth_context_var.reset(reset)


async def test_direct_mode_tools_list_hides_forbidden_tools(tmp_path: Path) -> None:
    async with portal(tmp_path, codemode=False) as runtime:
        server = build_mcp_server(False, runtime.registry, runtime.catalog, runtime.codemode)
        with signed_in(ATTACKER):
            async with Client(server) as client:
                listed = {tool.name for tool in (await client.list_tools()).tools}
                forbidden = await client.call_tool(
                    "gitlab_create_issue", {"project": "infra/api", "title": "x"}
                )
                unknown = await client.call_tool(
                    "gitlab_no_such_tool", {"project": "infra/api", "title": "x"}
                )
    assert "gitlab_list_projects" in listed
    assert sorted(n for n in listed if n.startswith("jira_") or n.endswith(tuple(FORBIDDEN))) == []
    allowed = {
        f"gitlab_{e.python_name}"
        for e in runtime.catalog.entries()
        if e.namespace == "gitlab" and e.annotations().get("readOnlyHint")
    }
    assert listed == allowed
    assert forbidden.is_error and unknown.is_error
    assert forbidden.content[0].text.replace("gitlab_create_issue", "X") == unknown.content[0].text.replace(
        "gitlab_no_such_tool", "X"
    )


async def test_namespace_with_only_forbidden_tools_is_absent(tmp_path: Path) -> None:
    code = """
found = []
for probe in ("jira", "nosuch"):
    try:
        found.append(repr(jira) if probe == "jira" else repr(nosuch))
    except NameError as error:
        found.append(str(error).replace(probe, "NAME"))
found
"""
    async with portal(tmp_path) as runtime:
        answer = await run(runtime.codemode, code)
        jira_call = await run(runtime.codemode, 'jira.search_issues(jql="project = OPS")')
        nowhere_call = await run(runtime.codemode, 'nosuch.search_issues(jql="project = OPS")')
    assert answer["ok"] is True, answer
    hidden, missing = answer["value"]
    assert hidden == missing == "name 'NAME' is not defined"
    assert jira_call["error"]["type"] == nowhere_call["error"]["type"] == "NameError"
    assert jira_call["error"]["message"].replace("jira", "X") == nowhere_call["error"]["message"].replace(
        "nosuch", "X"
    )
