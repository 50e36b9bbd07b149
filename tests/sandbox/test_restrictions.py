"""Code the sandbox refuses, at compile time or by the runtime guards."""

from __future__ import annotations

import pytest

from sandbox import run

pytestmark = pytest.mark.anyio


async def error_type(code: str) -> str:
    result = await run(code)
    assert result.error is not None, result
    return result.error.type


async def test_syntax_error_reports_the_line() -> None:
    result = await run("x = 1\nif x\n    pass")
    assert result.error is not None and result.error.type == "SyntaxError"
    assert result.error.message.startswith("Line 2:")


async def test_underscore_names_are_restricted_code() -> None:
    result = await run("_secret = 1")
    assert result.error is not None and result.error.type == "RestrictedCode"
    assert '"_secret"' in result.error.message


async def test_dunder_import_call_is_restricted_code() -> None:
    assert await error_type("__import__('os')") == "RestrictedCode"


@pytest.mark.parametrize("code", ["import os", "import subprocess", "from os import path", "import re, sys"])
async def test_imports_outside_the_allowlist_are_forbidden(code: str) -> None:
    assert await error_type(code) == "ForbiddenImport"


async def test_dunder_attribute_chain_is_restricted_code() -> None:
    assert await error_type("().__class__.__mro__") == "RestrictedCode"


async def test_getattr_on_a_dunder_name_is_a_forbidden_attribute() -> None:
    assert await error_type("getattr((), '__class__')") == "ForbiddenAttribute"


async def test_str_format_attribute_walk_is_a_forbidden_attribute() -> None:
    assert await error_type('"{0.__class__}".format(1)') == "ForbiddenAttribute"


async def test_mro_is_a_forbidden_attribute() -> None:
    assert await error_type("ValueError.mro()") == "ForbiddenAttribute"


async def test_open_is_not_available() -> None:
    result = await run("open('/etc/passwd').read()")
    assert result.error is not None and result.error.type == "NameError"
    assert "file system" in result.error.message


async def test_modules_are_curated_namespaces_without_submodules() -> None:
    assert await error_type("import re\nre.enum") == "AttributeError"
    assert await error_type("import uuid\nuuid.os") == "AttributeError"


async def test_from_import_of_a_submodule_is_not_possible() -> None:
    assert await error_type("from json import decoder") == "ImportError"


async def test_attrgetter_is_excluded_because_it_bypasses_the_guard() -> None:
    assert await error_type("import operator\noperator.attrgetter('__class__')") == "AttributeError"


async def test_objects_outside_the_code_cannot_be_modified() -> None:
    assert await error_type("import json\njson.loads = 1") == "ForbiddenAttribute"


async def test_exec_and_eval_are_restricted_code() -> None:
    assert await error_type("exec('1')") == "RestrictedCode"
