"""Issue 12, item 4: one message per failure, naming the tool once, with no SDK or pydantic internals."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from portal_testing import demo_servers

from portal.config import PortalConfig
from portal.runtime import PortalRuntime, open_runtime
from portal.tool_errors import argument_problem, clean_error_text, qualify_tool_names, tool_failure

pytestmark = pytest.mark.anyio

NOISE = ("Error executing tool", "validation error for", "errors.pydantic.dev", "input_value", "[type=")

PYDANTIC = (
    "Error executing tool list_projects: 2 validation errors for list_projectsArguments\n"
    "page\n  Input should be greater than or equal to 1 [type=greater_than_equal, input_value=-1, "
    "input_type=int]\n    For further information visit https://errors.pydantic.dev/2.14/v/greater_than_equal\n"
    "project\n  Field required [type=missing, input_value={}, input_type=dict]\n"
)


def test_a_pydantic_report_becomes_one_line_per_argument() -> None:
    assert clean_error_text(PYDANTIC) == (
        "argument page: Input should be greater than or equal to 1; missing required argument project"
    )


def test_upstream_urls_hosts_and_ports_are_left_out() -> None:
    text = "GET http://10.2.3.4:8443/api/v4/projects failed; retry at 127.0.0.1:9200 or localhost:5000"
    cleaned = clean_error_text(text)
    assert "10.2.3.4" not in cleaned and "8443" not in cleaned and "9200" not in cleaned
    assert "5000" not in cleaned and "http" not in cleaned


def test_the_tool_is_named_once_and_the_signature_shown_for_argument_errors() -> None:
    signature = "gitlab.get_project(project: str) -> Project  # Get one project"
    assert tool_failure("gitlab.get_project", "gitlab.get_project: no project 'x'") == (
        "gitlab.get_project: no project 'x'"
    )
    assert tool_failure("gitlab.get_project", "missing required argument project", signature) == (
        "gitlab.get_project: missing required argument project. "
        "Call it as gitlab.get_project(project: str) -> Project"
    )


def test_a_servers_hint_names_the_tool_as_code_calls_it() -> None:
    names = {"list_projects": "list_projects", "get-sum": "get_sum"}
    text = "no project 'x' (404): list candidates with list_projects(search='x'); or get-sum(a=1)"
    assert qualify_tool_names(text, "gitlab", names) == (
        "no project 'x' (404): list candidates with gitlab.list_projects(search='x'); or gitlab.get_sum(a=1)"
    )
    assert qualify_tool_names("see gitlab.list_projects(search='x')", "gitlab", names) == (
        "see gitlab.list_projects(search='x')"
    )


def test_unknown_and_missing_arguments_are_found_before_the_call() -> None:
    schema = {"type": "object", "properties": {"project": {"type": "string"}}, "required": ["project"]}
    assert argument_problem(schema, {"projekt": "a"}) == "unknown argument projekt"
    assert argument_problem(schema, {}) == "missing required argument project"
    assert argument_problem(schema, {"project": "a"}) is None
    open_schema = {**schema, "additionalProperties": True}
    assert argument_problem(open_schema, {"project": "a", "extra": 1}) is None


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[PortalRuntime]:
    with demo_servers("gitlab") as servers:
        config = PortalConfig.model_validate({"state_dir": str(tmp_path), "servers": servers})
        async with open_runtime(config) as opened:
            yield opened


@pytest.mark.parametrize(
    "code, expected",
    [
        (
            'gitlab.get_project(project="infra/ap")',
            "gitlab.get_project: GitLab has no project 'infra/ap' (404): "
            "list candidates with gitlab.list_projects(",
        ),
        ("gitlab.list_projects(page=-1)", "gitlab.list_projects: argument page: Input should be greater"),
        ("gitlab.get_project()", "gitlab.get_project: missing required argument project. Call it as"),
        ('gitlab.get_project(projekt="a")', "gitlab.get_project: unknown argument projekt. Call it as"),
        (
            "gitlab.get_project(project=1)",
            "gitlab.get_project: argument project: Input should be a valid string",
        ),
    ],
)
async def test_a_failed_call_is_one_actionable_message(
    runtime: PortalRuntime, code: str, expected: str
) -> None:
    outcome = await runtime.codemode.execute(code, await runtime.principal_for("ann@example.com"))
    error = json.loads(outcome.text)["error"]
    assert error["type"] == "ToolError"
    assert error["tool"] == code.split("(")[0]
    assert expected in error["message"]
    assert error["message"].split(". Call it as")[0].count(error["tool"]) == 1  # named once
    assert not any(noise in error["message"] for noise in NOISE)
    assert error["hint"]
