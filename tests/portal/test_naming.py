"""portal/naming.py: every upstream name becomes a Python name code can type, and maps back."""

from __future__ import annotations

import ast
import itertools
import json
from pathlib import Path

import mcp_types as types
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.auth import Principal
from portal.catalog import Catalog
from portal.config import ConfigError, PortalConfig, load_config
from portal.naming import Kind, NameTable, namespace_for, namespace_problem, python_name, usable
from portal.permissions import PermissionRule, Permissions
from portal.registry import UpstreamTool
from portal.runtime import open_runtime
from portal.signatures import one_line_doc, render_signature
from sandbox import policy
from sandbox.compiler import CompiledCode, compile_code
from sandbox.environment import build_builtins, build_globals
from sandbox.modules import build_modules
from sandbox.output import CappedOutput


@pytest.mark.parametrize(
    ("upstream", "python"),
    [
        ("get-sum", "get_sum"),
        ("API-get-self", "API_get_self"),
        ("hubspot-list-objects", "hubspot_list_objects"),
        ("files/read", "files_read"),
        ("repo.list branches", "repo_list_branches"),
        ("2fa-verify", "tool_2fa_verify"),
        ("class", "class_"),
        ("café", "cafe"),
        ("搜索", "u641c_u7d22"),
        ("_private", "private"),
        ("format", "format_"),  # the sandbox denies .format on every object
        ("---", "tool"),
    ],
)
def test_upstream_tool_names_map_to_python_identifiers(upstream: str, python: str) -> None:
    assert python_name(upstream, Kind.TOOL) == python


@pytest.mark.parametrize("name", ["list_projects", "getUser", "list", "sum", "print", "match"])
def test_a_tool_name_code_can_already_call_is_kept_as_it_is(name: str) -> None:
    assert python_name(name, Kind.TOOL) == name


@pytest.mark.parametrize(
    ("upstream", "python"),
    [
        ("user-id", "user_id"),
        ("$filter", "filter"),
        ("class", "class_"),
        ("@type", "type"),
        ("1st", "param_1st"),
    ],
)
def test_parameter_names_map_to_keyword_names(upstream: str, python: str) -> None:
    assert python_name(upstream, Kind.PARAMETER) == python


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40), st.sampled_from(list(Kind)))
def test_any_name_maps_to_one_that_sandboxed_code_can_use(name: str, kind: Kind) -> None:
    mapped = python_name(name, kind)
    assert usable(mapped, kind) and mapped.isascii()
    code = {
        Kind.NAMESPACE: f"{mapped}.tool(a=1)",
        Kind.TOOL: f"ns.{mapped}(a=1)",
        Kind.PARAMETER: f"ns.tool({mapped}=1)",
    }[kind]
    assert isinstance(compile_code(code, ()), CompiledCode), code


def test_names_that_collide_after_mapping_are_resolved_by_sorted_original_name() -> None:
    names = ["get.sum", "get-sum", "get_sum", "get sum"]
    tables = [NameTable(order, Kind.TOOL, "everything") for order in itertools.permutations(names)]
    mappings = {tuple(sorted(table.items())) for table in tables}
    assert mappings == {
        (("get sum", "get_sum_2"), ("get-sum", "get_sum_3"), ("get.sum", "get_sum_4"), ("get_sum", "get_sum"))
    }
    (collision,) = tables[0].collisions
    assert collision.python_name == "get_sum"
    assert collision.originals == ("get_sum", "get sum", "get-sum", "get.sum")
    assert "everything" in collision.describe() and "'get-sum' -> get_sum_3" in collision.describe()


def test_a_suffix_never_takes_a_name_another_tool_maps_to() -> None:
    table = NameTable(["a-b", "a_b", "a-b-2"], Kind.TOOL)
    assert dict(table.items()) == {"a_b": "a_b", "a-b": "a_b_3", "a-b-2": "a_b_2"}


def test_the_mapping_is_reversible_within_its_table() -> None:
    table = NameTable(["get-sum", "get.sum", "echo", "class"], Kind.TOOL)
    for original, python in table.items():
        assert table.original(python) == original
    assert table.original("nonexistent") is None
    assert len({python for _, python in table.items()}) == 4


def test_keyword_arguments_map_back_to_the_upstream_property_names() -> None:
    table = NameTable(["user-id", "$filter", "limit"], Kind.PARAMETER)
    sent = table.to_original({"user_id": "u1", "filter": "x eq 1", "limit": 3, "other": True})
    assert sent == {"user-id": "u1", "$filter": "x eq 1", "limit": 3, "other": True}


@pytest.mark.parametrize(
    "namespace",
    [
        "parallel",
        "ToolError",
        "len",
        "sum",
        "re",
        "json",
        "datetime",
        "class",
        "print",
        "getattr",
        "open",
        "x__roles__",
    ],
)
def test_a_namespace_that_would_hide_a_name_the_code_needs_is_refused(namespace: str) -> None:
    assert namespace_problem(namespace) is not None


def test_every_name_the_sandbox_puts_in_scope_is_refused_as_a_namespace() -> None:
    builtins_table = build_builtins(lambda *args, **kwargs: None)
    scope = build_globals(builtins_table, CappedOutput(1024), {})  # what sandbox/worker.py runs code in
    in_scope = set(scope) | set(builtins_table) | policy.SANDBOX_BUILTINS | set(policy.EXCLUDED_BUILTINS)
    in_scope |= {name.partition(".")[0] for name in build_modules()}  # what `import` binds
    assert [name for name in sorted(in_scope) if namespace_problem(name) is None] == []


@pytest.mark.parametrize(
    ("server", "namespace"),
    [
        ("@modelcontextprotocol/server-everything", "everything"),
        ("mcp-server-sequential-thinking", "sequential_thinking"),
        ("Notion API", "notion_api"),
        ("parallel", "parallel_"),
        ("json", "json_"),
        ("42", "server_42"),
    ],
)
def test_a_namespace_derived_from_a_server_name_is_usable(server: str, namespace: str) -> None:
    assert namespace_for(server) == namespace
    assert namespace_problem(namespace) is None


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "portal.yaml"
    path.write_text(text)
    return path


def test_namespace_parallel_is_refused_when_the_config_loads(tmp_path: Path) -> None:
    path = write(tmp_path, "servers:\n  - namespace: parallel\n    transport: {type: stdio, command: x}\n")
    with pytest.raises(ConfigError) as refused:
        load_config(path, environ={})
    assert "servers.0.namespace" in str(refused.value)
    assert "'parallel' is reserved" in str(refused.value)
    assert "for example 'parallel_'" in str(refused.value)


@pytest.mark.parametrize("namespace", ["len", "sum", "re"])
def test_a_namespace_shadowing_a_builtin_or_module_is_refused_when_the_config_loads(
    tmp_path: Path, namespace: str
) -> None:
    text = f"servers:\n  - namespace: {namespace}\n    transport: {{type: stdio, command: x}}\n"
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=f"namespace '{namespace}' is reserved"):
        load_config(path, environ={})


DIRECT_PAIR = """
codemode: {codemode}
servers:
  - namespace: a
    transport: {{type: stdio, command: x}}
  - namespace: other
    transport: {{type: stdio, command: y}}
  - namespace: a_b
    transport: {{type: stdio, command: z}}
"""


def test_direct_mode_namespaces_whose_tool_names_can_collide_are_refused_naming_both(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        load_config(write(tmp_path, DIRECT_PAIR.format(codemode="false")), environ={})
    message = str(refused.value)
    assert "servers.0 (namespace 'a') and servers.2 (namespace 'a_b')" in message
    assert "both 'a_b_x'" in message


def test_in_code_mode_the_same_namespaces_are_fine(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, DIRECT_PAIR.format(codemode="true")), environ={})
    assert [s.namespace for s in config.servers] == ["a", "other", "a_b"]


def test_a_namespace_declared_twice_names_both_places(tmp_path: Path) -> None:
    text = "servers:\n" + "  - namespace: a\n    transport: {type: stdio, command: x}\n" * 2
    with pytest.raises(ConfigError, match=r"declared twice: servers.0 and servers.1"):
        load_config(write(tmp_path, text), environ={})


def tool(name: str, properties: dict | None = None, description: str = "", required: list | None = None):
    schema = {"type": "object", "properties": properties or {}, "required": required or []}
    return types.Tool(name=name, description=description, input_schema=schema)


def catalog_of(*tools: tuple[str, types.Tool]) -> Catalog:
    listed = [UpstreamTool(namespace, t) for namespace, t in tools]
    return Catalog(lambda: (1, listed))


def test_the_catalog_shows_python_names_and_keeps_the_upstream_name_for_the_call() -> None:
    catalog = catalog_of(
        (
            "everything",
            tool("get-sum", {"a": {"type": "number"}, "b": {"type": "number"}}, required=["a", "b"]),
        ),
        ("everything", tool("echo")),
    )
    entry = catalog.get("everything.get_sum")
    assert entry is not None
    assert (entry.name, entry.original_name, entry.tool.name) == (
        "everything.get_sum",
        "everything.get-sum",
        "get-sum",
    )
    assert entry.signature == "everything.get_sum(a: float, b: float) -> Any"
    assert catalog.get("everything.get-sum") is None
    assert [hit.entry.name for hit in catalog.search("sum of two numbers", 1)] == ["everything.get_sum"]


def test_the_catalog_reports_tools_and_parameters_that_collided() -> None:
    catalog = catalog_of(
        ("x", tool("list-items")),
        ("x", tool("list_items")),
        ("x", tool("find", {"user-id": {"type": "string"}, "user_id": {"type": "string"}})),
        ("y", tool("list-items")),  # another namespace: no collision
    )
    assert [e.name for e in catalog.entries()] == ["x.list_items_2", "x.list_items", "x.find", "y.list_items"]
    described = [c.describe() for c in catalog.collisions()]
    assert described == [
        "x: 'list_items' -> list_items, 'list-items' -> list_items_2",
        "x.find parameters: 'user_id' -> user_id, 'user-id' -> user_id_2",
    ]
    find = catalog.get("x.find")
    assert find is not None
    assert find.upstream_arguments({"user_id": 1, "user_id_2": 2}) == {"user_id": 1, "user-id": 2}


def test_a_signature_with_odd_names_is_valid_python_for_the_name_shown() -> None:
    odd = tool(
        "API-post-search",
        {
            "$filter": {"type": "string"},
            "user-id": {"type": "string"},
            "class": {"enum": [True, None, "x"]},
            "sort": {"type": "object", "default": {"a-b": [1, None, False]}},
        },
        required=["user-id"],
    )
    signature = render_signature("notion", odd, with_doc=False)
    assert signature.startswith("notion.API_post_search(user_id: str, filter: str = None, class_:")
    parameters = signature[len("notion.API_post_search(") :]
    ast.parse(f"def API_post_search({parameters}: ...")


def test_the_one_line_doc_leaves_out_generated_error_sections() -> None:
    assert one_line_doc("Retrieve your token's bot user\nError Responses:\n400: Bad request") == (
        "Retrieve your token's bot user"
    )
    assert one_line_doc("Search pages. Error Responses: 400: Bad request") == "Search pages"
    assert one_line_doc("Query objects\nArgs:\n  q: the query") == "Query objects"
    assert one_line_doc("## List objects\nReturns every object") == "List objects"
    assert one_line_doc("Returns the sum of two numbers") == "Returns the sum of two numbers"


ODD = {"namespace": "odd", "transport": {"type": "module", "module": "odd_names_server"}}


@pytest.mark.anyio
async def test_code_calls_python_names_and_the_upstream_receives_its_own_names(tmp_path: Path) -> None:
    code = 'odd.API_get_self(user_id_2="u1", filter="status eq 1", class_="c", user_id=7)'
    config = PortalConfig.model_validate({"state_dir": str(tmp_path), "servers": [ODD]})
    async with open_runtime(config) as runtime:
        answer = json.loads((await runtime.codemode.execute(code, None)).text)
        missing = json.loads((await runtime.codemode.execute("odd.cafe(filter='x')", None)).text)
        names = sorted(e.name for e in runtime.catalog.entries())
    assert answer["value"] == {
        "tool": "API-get-self",
        "arguments": {"user-id": "u1", "$filter": "status eq 1", "class": "c", "user_id": 7},
    }
    assert "missing required argument user_id_2" in missing["error"]["message"]
    assert "Call it as odd.cafe(user_id_2: str, filter: str = None" in missing["error"]["message"]
    assert names == [
        "odd.API_get_self",
        "odd.cafe",
        "odd.class_",
        "odd.list_objects",
        "odd.list_objects_2",
        "odd.list_objects_3",
        "odd.tool_2fa_verify",
    ]


def test_a_permission_rule_matches_a_tool_by_its_python_or_its_upstream_name() -> None:
    who = Principal("00000000-0000-4000-8000-000000000000", ("dev",))
    by_upstream = Permissions([PermissionRule(groups=["dev"], tools=["everything.get-sum"])])
    excluded = Permissions([PermissionRule(groups=["dev"], tools=["everything.*"], exclude=["*.get-*"])])
    aliases = ("everything.get-sum",)
    assert by_upstream.allows(who, "everything.get_sum", {}, aliases) is True
    assert (
        excluded.allows(who, "everything.get_sum", {}, aliases) is False
    )  # an exclusion on either name wins
    assert excluded.allows(who, "everything.echo", {}) is True
