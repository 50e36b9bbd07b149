"""Issue 12, "done when": a model that knows only what search told it writes code that works.

For each of the five benchmark tasks (bench/tasks.py, a to e) this test plays the
model against a real portal over HTTP: it searches (the task's own queries, plus
a listing the task's code needs), reads the answer, asks for the whole contract
of each tool it calls whose result shape the brief answer cut short (``...``), and
then runs the task's program. Every tool the program calls and every field name
it reads must have appeared in that run's search output, and the program must
succeed. A field read from a free-form map (``annotations["gitlab.com/project-slug"]``)
must appear in the output too, in the tool's doc.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator

import pytest
from portal_testing import RunningPortal, demo_servers, mcp_session, running_portal

from bench.tasks import TASKS, Task

pytestmark = pytest.mark.anyio

NAMESPACES = ("gitlab", "jira", "sentry", "elasticsearch", "backstage")
# Task f needs a real Prometheus scraping for half a minute; the other five run on the fakes.
FIVE = [task for task in TASKS if set(task.needs) <= set(NAMESPACES)]
# What a model would also search for: the programs of tasks c and e start from the list of projects.
EXTRA_SEARCHES = {"c": ["list all projects"], "e": ["list all projects"]}
_SHAPE_LINE = re.compile(r"^(\w+)(?: \(observed\))? = \{(.*)\}$")


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPortal]:
    with (
        demo_servers(*NAMESPACES) as servers,
        running_portal(tmp_path_factory.mktemp("model"), {"servers": servers}) as running,
    ):
        yield running


def tools_called(code: str) -> set[str]:
    """``namespace.tool`` of every call in the program."""
    tree = ast.parse(code)
    return {
        ast.unparse(node.func)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in NAMESPACES
    }


def keys_read(code: str) -> set[str]:
    """Every constant key the program reads: ``x["key"]`` and ``x.get("key")``."""
    keys = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            keys.add(node.slice.value)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            keys.add(node.args[0].value)
    return {key for key in keys if isinstance(key, str)}


def shape_fields(text: str) -> set[str]:
    """Field names in the answer's shape lines (``Name = {a: int, b?: str, ...}``)."""
    fields = set()
    for line in text.splitlines():
        match = _SHAPE_LINE.match(line.strip())
        if match:
            fields |= set(re.findall(r"(?:^|, )(\w+)\??: ", match.group(2)))
    return fields


def needs_contract(text: str, tool: str) -> bool:
    """Whether the brief answer left out part of ``tool``'s result: a shape cut to ``...`` or not shown."""
    signature = next((line for line in text.splitlines() if line.startswith(f"{tool}(")), "")
    returned = set(re.findall(r"[A-Z]\w*", signature.split(") -> ", 1)[-1].split("  # ", 1)[0]))
    shapes = {m.group(1): m.group(2) for m in map(_SHAPE_LINE.match, text.splitlines()) if m}
    return any(name not in shapes or shapes[name].endswith("...") for name in returned - {"Literal"})


async def search(client: object, **arguments: object) -> str:
    result = await client.call_tool("portal_codemode_search", arguments)  # type: ignore[attr-defined]
    assert not result.is_error, result
    return result.content[0].text


@pytest.mark.parametrize("task", FIVE, ids=[task.key for task in FIVE])
async def test_a_model_writes_working_code_from_field_names_search_showed_it(
    portal: RunningPortal, task: Task
) -> None:
    assert len(FIVE) == 5
    async with mcp_session(portal) as client:
        answers = [await search(client, query=q) for q in [*task.searches, *EXTRA_SEARCHES.get(task.key, [])]]
        brief = "\n".join(answers)
        called = tools_called(task.code)
        unseen = {tool for tool in called if f"\n{tool}(" not in f"\n{brief}"}
        assert not unseen, f"task {task.key} calls tools search never showed: {unseen}"
        # Like a careful model: the whole contract of each tool whose result shape was cut short.
        details = [await search(client, query=tool) for tool in sorted(called) if needs_contract(brief, tool)]
        seen = "\n".join([brief, *details])
        fields = shape_fields(seen)
        unknown = {
            key
            for key in keys_read(task.code)
            if (key not in fields if key.isidentifier() else key not in seen)
        }
        assert not unknown, f"task {task.key} reads fields search never showed: {unknown}"
        result = await client.call_tool("portal_codemode_execute", {"code": task.code})
    answer = json.loads(result.content[0].text)
    assert answer["ok"] is True, answer
    assert answer["value"], answer
