"""Secrets on the host stay on the host: its environment, its files, the tools' closures.

The host process holds a secret in its environment and in a file whose path
the payload knows; each payload tries one route to them. Whatever the code
manages, the secret must not appear anywhere in the result (value, printed
output or error message). The last test starts a real host process
(`python -m sandbox run`) whose *initial* environment holds the secret, so
`/proc/<host pid>/environ` really contains it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from sandbox import ExecutionResult, run

pytestmark = pytest.mark.anyio

SECRET = "s3cr3t-portal-test-7f1c2a9e"

# A str subclass whose `startswith` lies to the attribute guard (see test_pyjail_classics).
_LYING_STR = "class S(str):\n    def startswith(self, *args):\n        return False\n"
_REAL_BUILTINS = _LYING_STR + (
    "g = getattr(getattr(ToolError, S('__init__')), S('__globals__'))\nb = g['__builtins__']\nos = g['os']\n"
)

ROUTES = {
    "environ_through_os": "import os\nos.environ['PORTAL_TEST_SECRET']",
    "environ_through_getenv": "import os\nos.getenv('PORTAL_TEST_SECRET')",
    "proc_self_environ_through_open": "open('/proc/self/environ').read()",
    "parent_environ_through_open": "open('/proc/{ppid}/environ').read()",
    "secret_file_through_open": "open('{path}').read()",
    "secret_file_through_pathlib": "import pathlib\npathlib.Path('{path}').read_text()",
    "secret_file_through_io": "import io\nio.open('{path}').read()",
    "secret_file_through_json_load": "import json\njson.load(open('{path}'))",
    "tool_closure": "getattr(t.echo, '__closure__')",
    "tool_channel": "getattr(t.echo, '_channel')",
    "bridge_through_user_string_format": (
        "import collections, random\n"
        "collections.UserString('{{0.__func__.__globals__[_os].environ}}').format(random.seed)"
    ),
    "environ_through_a_lying_attribute_name": _REAL_BUILTINS + "dict(os.environ)",
    "parent_environ_through_a_lying_attribute_name": (
        _REAL_BUILTINS + "b['open']('/proc/{ppid}/environ', 'rb').read()"
    ),
    "secret_file_through_a_lying_attribute_name": _REAL_BUILTINS + "b['open']('{path}').read()",
    "parent_memory_through_a_lying_attribute_name": (
        _REAL_BUILTINS + "b['open']('/proc/{ppid}/cmdline', 'rb').read()"
    ),
}


def leaks(result: ExecutionResult) -> bool:
    """The secret anywhere in what the code gets back, raw or repr-escaped."""
    return SECRET in repr(result) or SECRET in json.dumps(result.to_json(), default=repr)


@pytest.fixture
def secret_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PORTAL_TEST_SECRET", SECRET)
    path = tmp_path / "token.txt"
    path.write_text(SECRET)
    return path


@pytest.mark.parametrize("route", sorted(ROUTES))
async def test_no_route_leaks_the_hosts_secret(route: str, secret_file: Path, fake_bridge: Any) -> None:
    code = ROUTES[route].format(ppid=os.getpid(), path=secret_file)
    # The bridge's own closure holds the secret: only the host can see it.
    bridge = fake_bridge(t__echo=lambda **arguments: {"token_len": len(SECRET), **arguments})
    result = await run(code, tools={"t": ["echo"]}, bridge=bridge)
    assert not leaks(result), result


async def test_a_host_started_with_the_secret_in_its_environment_keeps_it(tmp_path: Path) -> None:
    """`/proc/<host>/environ` holds the host's *initial* environment; make it hold the secret."""
    script = tmp_path / "attack.py"
    script.write_text(_REAL_BUILTINS + "b['open']('/proc/%d/environ' % os.getppid(), 'rb').read()")
    env = {"PATH": os.environ.get("PATH", ""), "PORTAL_TEST_SECRET": SECRET}
    with anyio.fail_after(30):
        done = await anyio.run_process(
            [sys.executable, "-m", "sandbox", "run", "--json", str(script)],
            env=env,
            check=False,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    assert done.returncode == 0, done.stdout
    assert SECRET not in done.stdout.decode(errors="replace")
