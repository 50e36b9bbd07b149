"""Fixtures for the server tests, and the output contract every tool call in them is held to.

The contract (issue 12, "typed results end to end"): an autouse fixture wraps the SDK
client's `call_tool`, so every successful call made by any server test is checked on
the spot, failing the test that made it, against the tool's published outputSchema:

- the tool publishes an outputSchema and sends structuredContent;
- structuredContent validates against that schema with `jsonschema` (Draft 2020-12);
- structuredContent says what the tool really returned: the text content (the SDK's
  JSON of the function's raw return value) equals it, so no field was dropped or
  renamed on the way through the schema.

Each checked call is recorded as (server, tool) in `CALLED`; test_tool_contract.py
asserts at the end of a full run that every tool of every server was called.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from mcp import Client
from mcp.types import CallToolResult, TextContent

from demo._fakes import RunningFake
from demo.gitlab import fake as gitlab_fake
from servers.gitlab import Settings

# (server name as it reports itself, tool name) of every call that passed the contract.
CALLED: set[tuple[str, str]] = set()
# Test modules this session collected, and whether any test was deselected (-k, -m).
COLLECTED_MODULES: set[str] = set()
DESELECTED: list[bool] = []
_SCHEMAS = "_contract_output_schemas"  # per-Client cache of tool name -> outputSchema


@pytest.fixture
def gitlab() -> Iterator[RunningFake]:
    """A fresh fake GitLab per test, so writes never leak between tests."""
    with gitlab_fake.start() as running:
        yield running


@pytest.fixture
def gitlab_settings(gitlab: RunningFake) -> Settings:
    return Settings(**gitlab.settings, timeout=5)


@pytest.fixture
def called_tools() -> set[tuple[str, str]]:
    return CALLED


@pytest.fixture
def contract_check():
    """The per-call check itself, for the tests that prove it can fail."""
    return check_call


@pytest.fixture
def collected_modules() -> tuple[set[str], bool]:
    return COLLECTED_MODULES, bool(DESELECTED)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the coverage check last, after every server test had its chance to call tools."""
    COLLECTED_MODULES.update(item.path.name for item in items if item.path.parent.name == "servers")
    last = [item for item in items if item.name == "test_every_tool_of_every_server_was_called_in_the_suite"]
    items[:] = [item for item in items if item not in last] + last


def pytest_deselected(items: list[pytest.Item]) -> None:
    DESELECTED.append(True)


async def _output_schema(client: Client, tool: str) -> dict[str, Any] | None:
    schemas: dict[str, dict[str, Any] | None] | None = getattr(client, _SCHEMAS, None)
    if schemas is None or tool not in schemas:
        schemas = {t.name: t.output_schema for t in (await client.list_tools()).tools}
        setattr(client, _SCHEMAS, schemas)
    return schemas.get(tool)


def _text_says(result: CallToolResult, structured: Any) -> bool:
    """True when the text content (the raw return value) carries exactly the structured value."""
    texts = [block.text for block in result.content if isinstance(block, TextContent)]
    if isinstance(structured, dict) and set(structured) == {"result"}:
        value = structured["result"]  # a non-object return value, wrapped by the SDK
        if isinstance(value, list):  # the SDK writes one content block per item
            return len(texts) == len(value) and all(
                text == item if isinstance(item, str) else json.loads(text) == item
                for text, item in zip(texts, value, strict=True)
            )
        if isinstance(value, str):
            return texts == [value]
    return len(texts) == 1 and json.loads(texts[0]) == structured


def check_call(server: str, tool: str, schema: dict[str, Any] | None, result: CallToolResult) -> None:
    """Fail (AssertionError) unless one successful call kept the tool's output contract."""
    where = f"{server}.{tool}"
    assert schema is not None, f"{where} publishes no outputSchema"
    assert result.structured_content is not None, f"{where} sent no structuredContent"
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(result.structured_content), key=lambda e: list(e.path))
    assert not errors, f"{where} broke its outputSchema: " + "; ".join(
        f"at {'/'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in errors[:5]
    )
    assert _text_says(result, result.structured_content), (
        f"{where}: structuredContent differs from what the tool returned (a field dropped or renamed "
        f"by its result type?)\nstructured: {result.structured_content}\ntext: {result.content}"
    )


@pytest.fixture(autouse=True)
def tool_output_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    """Check every successful `Client.call_tool` of the test against the contract (see the docstring)."""
    original = Client.call_tool

    async def call_tool(self: Client, name: str, arguments: dict[str, Any] | None = None, *args, **kwargs):
        result = await original(self, name, arguments, *args, **kwargs)
        if not result.is_error:
            server = self.server_info.name if self.server_info else "?"
            check_call(server, name, await _output_schema(self, name), result)
            CALLED.add((server, name))
        return result

    monkeypatch.setattr(Client, "call_tool", call_tool)
