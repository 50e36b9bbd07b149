"""Reaching the host through modules: dangerous imports, leaks through allowed modules,
files (including /proc/self/environ and /proc/self/maps) and the network.

Allowed modules are curated namespaces, so the classic leaks through module
attributes (`json.decoder`, `re.enum`, `random._os`, `datetime.sys`) must end
in AttributeError, and every route to a file or a socket must fail before it
opens anything.
"""

from __future__ import annotations

import pytest
from escape_corpus import Payload, assert_stopped, blocked, params

from sandbox import run

pytestmark = pytest.mark.anyio

HACKTRICKS = "HackTricks: Bypass Python sandboxes"

DANGEROUS_IMPORTS = [
    blocked(
        f"import_{module.replace('.', '_')}_is_forbidden", f"{HACKTRICKS}: {why}", code, "ForbiddenImport"
    )
    for module, why, code in [
        ("os", "os.system / os.environ", "import os\nos.environ"),
        ("subprocess", "subprocess.run(['sh'])", "import subprocess"),
        ("ctypes", "ctypes reads and writes raw memory", "import ctypes"),
        ("pickle", "pickle.loads runs __reduce__ callables", "import pickle"),
        ("marshal", "marshal.loads builds code objects", "import marshal"),
        ("types", "types.FunctionType(code, globals) / CodeType", "from types import FunctionType"),
        ("builtins", "builtins.__import__ and builtins.open", "import builtins"),
        ("inspect", "inspect.currentframe().f_back", "import inspect"),
        ("gc", "gc.get_objects() / gc.get_referrers()", "import gc\ngc.get_objects()"),
        ("sys", "sys.modules['os']", "import sys\nsys.modules"),
        ("importlib", "importlib.import_module('os')", "import importlib"),
        ("posix", "posix.system without going through os", "import posix"),
        ("signal", "signal.signal(SIGXCPU, SIG_IGN) to outlive the CPU limit", "import signal"),
        ("threading", "threads to outlive the main code", "import threading"),
        ("sandbox.tools", "the worker's own modules hold the channel", "import sandbox.tools"),
    ]
] + [
    blocked(
        "relative_import_is_forbidden",
        "relative imports resolve against the worker's package",
        "from . import tools",
        "ForbiddenImport",
    ),
    blocked(
        "import_of_a_submodule_of_an_allowed_module_is_forbidden",
        "import json.decoder pulls in the real module",
        "import json.decoder",
        "ForbiddenImport",
    ),
]

MODULE_LEAKS = [
    blocked(f"{path.replace('.', '_')}_is_not_exposed", f"module namespace leak: {path}", code, error)
    for path, code, error in [
        ("json.decoder", "import json\njson.decoder", "AttributeError"),
        ("re.enum", "import re\nre.enum", "AttributeError"),
        ("collections.abc", "import collections\ncollections.abc", "AttributeError"),
        ("datetime.sys", "import datetime\ndatetime.sys", "AttributeError"),
        ("random._os", "import random\ngetattr(random, '_os')", "ForbiddenAttribute"),
        ("string.Formatter", "import string\nstring.Formatter", "AttributeError"),
        ("functools.update_wrapper", "import functools\nfunctools.update_wrapper", "AttributeError"),
        ("operator.attrgetter", "import operator\noperator.attrgetter('__class__')", "AttributeError"),
        ("operator.methodcaller", "import operator\noperator.methodcaller('__reduce__')", "AttributeError"),
        ("operator.setitem", "import operator\noperator.setitem", "AttributeError"),
        ("uuid.os", "import uuid\nuuid.os", "AttributeError"),
        ("uuid.getnode", "import uuid\nuuid.getnode()", "AttributeError"),
        ("time.process_time", "import time\ntime.process_time()", "AttributeError"),
        ("hashlib.file_digest", "import hashlib\nhashlib.file_digest", "AttributeError"),
        ("from.collections.abc", "from collections import abc", "ImportError"),
        ("from.json.decoder", "from json import decoder", "ImportError"),
        ("library.function.globals", "import json\ngetattr(json.dumps, '__globals__')", "ForbiddenAttribute"),
        ("module.overwrite", "import json\njson.loads = print", "ForbiddenAttribute"),
        ("module.setattr", "import re\nsetattr(re, 'compile', len)", "ForbiddenAttribute"),
    ]
]

FILES = [
    blocked(name, f"file read: {technique}", code, error)
    for name, technique, code, error in [
        ("open_of_proc_self_environ_is_absent", "open()", "open('/proc/self/environ').read()", "NameError"),
        ("open_of_proc_self_maps_is_absent", "open()", "open('/proc/self/maps').read()", "NameError"),
        ("pathlib_read_text_is_forbidden", "pathlib", "import pathlib", "ForbiddenImport"),
        ("io_open_is_forbidden", "io.open / io.FileIO", "from io import FileIO", "ForbiddenImport"),
        ("codecs_open_is_forbidden", "codecs.open", "import codecs", "ForbiddenImport"),
        ("linecache_is_forbidden", "linecache.getline", "import linecache", "ForbiddenImport"),
        (
            "json_load_needs_a_file_and_open_is_absent",
            "json.load(open(...))",
            "import json\njson.load(open('/proc/self/environ'))",
            "NameError",
        ),
        ("shutil_is_forbidden", "shutil.copyfileobj", "import shutil", "ForbiddenImport"),
        ("mmap_is_forbidden", "mmap of /proc/self/mem", "import mmap", "ForbiddenImport"),
    ]
]

NETWORK = [
    blocked(name, f"network: {technique}", code, error)
    for name, technique, code, error in [
        ("socket_is_forbidden", "socket.create_connection", "import socket", "ForbiddenImport"),
        ("urllib_request_is_forbidden", "urllib.request.urlopen", "import urllib.request", "ForbiddenImport"),
        (
            "urllib_request_through_from_import_is_absent",
            "from urllib import request",
            "from urllib import request",
            "ImportError",
        ),
        (
            "urllib_request_through_the_parent_package_is_absent",
            "urllib.request after import urllib.parse",
            "import urllib.parse\nurllib.request",
            "AttributeError",
        ),
        ("http_client_is_forbidden", "http.client.HTTPConnection", "import http.client", "ForbiddenImport"),
        ("ssl_is_forbidden", "ssl sockets", "import ssl", "ForbiddenImport"),
        ("asyncio_is_forbidden", "asyncio.open_connection", "import asyncio", "ForbiddenImport"),
    ]
]


@pytest.mark.parametrize("payload", params(DANGEROUS_IMPORTS))
async def test_dangerous_modules_cannot_be_imported(payload: Payload) -> None:
    assert_stopped(await run(payload.code), payload)


@pytest.mark.parametrize("payload", params(MODULE_LEAKS))
async def test_allowed_modules_lead_to_no_other_module(payload: Payload) -> None:
    assert_stopped(await run(payload.code), payload)


@pytest.mark.parametrize("payload", params(FILES))
async def test_no_route_reads_a_file(payload: Payload) -> None:
    assert_stopped(await run(payload.code), payload)


@pytest.mark.parametrize("payload", params(NETWORK))
async def test_no_route_opens_a_socket(payload: Payload) -> None:
    assert_stopped(await run(payload.code), payload)
