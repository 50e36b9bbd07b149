"""Benchmark 5: what whole tasks cost in model tokens, Code Mode against direct mode.

Each reference task is done twice against the demo servers (their fake backends on
127.0.0.1, and a real Prometheus), through the portal's own MCP server and the
official MCP client (in-process transport, so the texts are exactly what a client
over HTTP receives), with no model: the "model" is a fixed script.

- Code Mode: the ``portal_codemode_search`` calls a model would make (fixed query
  text) and their real output, then one ``portal_codemode_execute`` of a fixed
  program written for the task and its real result.
- Direct mode (``codemode: false``): every upstream tool call the task needs, one
  model turn per dependent step (independent calls share a turn, as parallel tool
  calls), with arguments derived from the real results of the previous step.

Tokens are o200k_base. ``python -m bench.tasks --out DIR`` writes every transcript
as JSON for reading.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import yaml
from mcp import Client

from bench.common import Section
from bench.tokens import count_tokens, tools_list_json
from demo.backends import demo_config
from portal.config import load_config
from portal.mcp_server import build_mcp_server
from portal.runtime import open_runtime

__all__ = ["TASKS", "Transcript", "run_tasks", "transcribe"]

TODAY = "2026-02-26"  # the fakes' clock: their newest data is from this day
YESTERDAY = ("2026-02-25T00:00:00Z", "2026-02-26T00:00:00Z")
PROMETHEUS_JOB = "mcp-portal"  # the demo Prometheus scrapes a port where nothing listens: a target down
SCRAPE_WAIT_SECONDS = 40


@dataclass(frozen=True)
class Call:
    name: str
    arguments: dict[str, Any]
    text: str  # the result's text content, as the client hands it to the model
    is_error: bool

    def request_text(self) -> str:
        """What the model writes to make the call: the tool name and its arguments as JSON."""
        return json.dumps({"name": self.name, "arguments": self.arguments}, ensure_ascii=False)


@dataclass
class Transcript:
    """One mode's run of one task: the tool list it was shown and its turns of tool calls."""

    mode: str
    tools_list: str  # JSON of the tools/list result, in the model's context at every turn
    turns: list[list[Call]] = field(default_factory=list)

    @property
    def model_turns(self) -> int:
        """Requests to the model: one per turn of tool calls, plus the last one that reads the results."""
        return len(self.turns) + 1

    def tokens(self) -> dict[str, int]:
        listing = count_tokens(self.tools_list)
        calls = [call for turn in self.turns for call in turn]
        results = sum(count_tokens(call.text) for call in calls)
        written = sum(count_tokens(call.request_text()) for call in calls)
        # What each request would carry if the whole conversation were resent (stateless chat APIs):
        history, resent = 0, 0
        for turn in self.turns:
            resent += listing + history
            history += sum(count_tokens(c.request_text()) + count_tokens(c.text) for c in turn)
        resent += listing + history
        return {
            "tool_list": listing,
            "tool_list_read": listing * self.model_turns,
            "results_read": results,
            "read": listing * self.model_turns + results,
            "written": written,
            "total": listing * self.model_turns + results + written,
            "calls": len(calls),
            "turns": self.model_turns,
            "resent_input": resent,
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "model_turns": self.model_turns,
            "tokens": self.tokens(),
            "turns": [[call.__dict__ for call in turn] for turn in self.turns],
        }


def _value(result: Any) -> Any:
    """The data of a tool result, to derive the next step's arguments (not what is counted)."""
    structured = result.structured_content
    if isinstance(structured, dict):
        return structured["result"] if set(structured) == {"result"} else structured
    texts = [getattr(c, "text", "") for c in result.content]
    values = []
    for text in texts:
        try:
            values.append(json.loads(text))
        except ValueError:
            values.append(text)
    return values[0] if len(values) == 1 else values


class Recorder:
    """Makes tool calls for the script and records them, one model turn per ``turn``."""

    def __init__(self, client: Client, transcript: Transcript) -> None:
        self.client = client
        self.transcript = transcript

    async def turn(self, *calls: tuple[str, dict[str, Any]], errors_ok: bool = False) -> list[Any]:
        recorded, values = [], []
        for name, arguments in calls:
            result = await self.client.call_tool(name, arguments)
            text = "\n".join(getattr(c, "text", "") for c in result.content)
            if result.is_error and not errors_ok:
                raise RuntimeError(f"{self.transcript.mode}: {name}({arguments}) failed: {text[:2000]}")
            recorded.append(Call(name, arguments, text, bool(result.is_error)))
            values.append(None if result.is_error else _value(result))
        self.transcript.turns.append(recorded)
        return values


@dataclass(frozen=True)
class Task:
    key: str
    question: str
    searches: Sequence[str]  # what a model asks portal_codemode_search, in one turn
    code: str  # what it then runs with portal_codemode_execute
    direct: Callable[[Recorder], Awaitable[None]]  # the same work as direct tool calls
    quick: bool = False
    needs: Sequence[str] = ()  # namespaces the task uses


# --- (a) why did the last failed pipeline of infra/api fail ---------------------------------------

CODE_PIPELINE = """\
pipe = gitlab.list_pipelines(project="infra/api", status="failed", per_page=1)[0]
jobs = gitlab.list_pipeline_jobs(project="infra/api", pipeline_id=pipe["id"], scope="failed")
{"pipeline": pipe["id"], "ref": pipe["ref"], "created_at": pipe["created_at"],
 "failed_jobs": [{"name": j["name"], "stage": j["stage"], "reason": j["failure_reason"],
                  "log_tail": gitlab.get_job_log(project="infra/api", job_id=j["id"], tail_lines=20)}
                 for j in jobs]}
"""


async def direct_pipeline(rec: Recorder) -> None:
    project = "infra/api"
    (pipes,) = await rec.turn(
        ("gitlab_list_pipelines", {"project": project, "status": "failed", "per_page": 1})
    )
    pipe = pipes[0] if isinstance(pipes, list) else pipes
    (jobs,) = await rec.turn(
        ("gitlab_list_pipeline_jobs", {"project": project, "pipeline_id": pipe["id"], "scope": "failed"})
    )
    await rec.turn(
        *[("gitlab_get_job_log", {"project": project, "job_id": job["id"], "tail_lines": 20}) for job in jobs]
    )


# --- (b) owner of the service with the most unresolved Sentry errors, and its week in GitLab ------

CODE_OWNER = """\
issues = sentry.list_issues(query="is:unresolved", limit=100)["issues"]
events = {}
for i in issues:
    events[i["project"]] = events.get(i["project"], 0) + i["count"]
service = max(events, key=lambda name: events[name])
entity = backstage.get_entity(ref="component:default/" + service)
owner = backstage.get_owner(ref=entity["ref"])
repo = entity["annotations"]["gitlab.com/project-slug"]
commits = gitlab.list_commits(project=repo, per_page=5)
{"service": service, "unresolved_events": events[service], "owner": owner["display_name"],
 "email": owner["email"], "members": [m["display_name"] for m in owner["members"]], "project": repo,
 "latest_commits": [c["short_id"] + " " + c["authored_date"][:10] + " " + c["author_name"] + ": " + c["title"]
                    for c in commits]}
"""


async def direct_owner(rec: Recorder) -> None:
    (found,) = await rec.turn(("sentry_list_issues", {"query": "is:unresolved", "limit": 100}))
    events: dict[str, int] = {}
    for issue in found["issues"]:
        events[issue["project"]] = events.get(issue["project"], 0) + issue["count"]
    ref = "component:default/" + max(events, key=lambda name: events[name])
    entity, _owner = await rec.turn(
        ("backstage_get_entity", {"ref": ref}), ("backstage_get_owner", {"ref": ref})
    )
    repo = entity["annotations"]["gitlab.com/project-slug"]
    await rec.turn(("gitlab_list_commits", {"project": repo, "per_page": 5}))


# --- (c) a Jira ticket for each failing CI job across projects ----------------------------------

CODE_TICKETS = """\
filed = []
for p in gitlab.list_projects():
    failed = gitlab.list_pipelines(project=p["path"], status="failed", per_page=1)
    if not failed:
        continue
    pipe = failed[0]
    for job in gitlab.list_pipeline_jobs(project=p["path"], pipeline_id=pipe["id"], scope="failed"):
        issue = jira.create_issue(
            project="OPS", issue_type="Bug", labels=["ci-failure"],
            summary="CI job " + job["name"] + " failing in " + p["path"] + " (" + pipe["ref"] + ")",
            description="Pipeline " + pipe["web_url"] + " failed at stage " + job["stage"] + " ("
                        + str(job["failure_reason"]) + "). Job: " + job["web_url"])
        filed.append(issue["key"] + " " + p["path"] + " " + job["name"])
filed
"""


def _ticket(path: str, pipe: dict[str, Any], job: dict[str, Any]) -> dict[str, Any]:
    return {
        "project": "OPS",
        "issue_type": "Bug",
        "labels": ["ci-failure"],
        "summary": f"CI job {job['name']} failing in {path} ({pipe['ref']})",
        "description": f"Pipeline {pipe['web_url']} failed at stage {job['stage']} "
        f"({job['failure_reason']}). Job: {job['web_url']}",
    }


def _as_list(value: Any) -> list[Any]:
    """A list tool's items (one item comes back unwrapped from a single text block)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


async def direct_tickets(rec: Recorder) -> None:
    (projects,) = await rec.turn(("gitlab_list_projects", {}))
    paths = [p["path"] for p in _as_list(projects)]
    pipes = await rec.turn(
        *[("gitlab_list_pipelines", {"project": path, "status": "failed", "per_page": 1}) for path in paths]
    )
    failing = [
        (path, _as_list(found)[0]) for path, found in zip(paths, pipes, strict=True) if _as_list(found)
    ]
    jobs = await rec.turn(
        *[
            ("gitlab_list_pipeline_jobs", {"project": path, "pipeline_id": pipe["id"], "scope": "failed"})
            for path, pipe in failing
        ]
    )
    tickets = [
        ("jira_create_issue", _ticket(path, pipe, job))
        for (path, pipe), found in zip(failing, jobs, strict=True)
        for job in _as_list(found)
    ]
    await rec.turn(*tickets)


# --- (d) services with ERROR logs yesterday, and their open Sentry issues ------------------------

CODE_ERRORS = f"""\
errors = elasticsearch.top_values(index="logs-*", field="service", query="level:ERROR",
                                  since="{YESTERDAY[0]}", until="{YESTERDAY[1]}", size=50)["values"]
issues = sentry.list_issues(query="is:unresolved", limit=100)["issues"]
[{{"service": v["value"], "error_lines": v["count"],
  "open_sentry_issues": [i["short_id"] + " " + i["title"] for i in issues if i["project"] == v["value"]]}}
 for v in errors]
"""


async def direct_errors(rec: Recorder) -> None:
    await rec.turn(
        (
            "elasticsearch_top_values",
            {"index": "logs-*", "field": "service", "query": "level:ERROR", "since": YESTERDAY[0],
             "until": YESTERDAY[1], "size": 50},
        ),
        ("sentry_list_issues", {"query": "is:unresolved", "limit": 100}),
    )  # fmt: skip


# --- (e) open merge requests and their pipeline status, all projects -----------------------------

CODE_MRS = """\
rows = []
for p in gitlab.list_projects():
    for mr in gitlab.list_merge_requests(project=p["path"], state="opened"):
        full = gitlab.get_merge_request(project=p["path"], iid=mr["iid"])
        rows.append(p["path"] + "!" + str(mr["iid"]) + " " + mr["title"] + " (" + mr["author"]
                    + "): pipeline " + str(full["pipeline_status"]))
rows
"""


async def direct_mrs(rec: Recorder) -> None:
    (projects,) = await rec.turn(("gitlab_list_projects", {}))
    paths = [p["path"] for p in _as_list(projects)]
    found = await rec.turn(
        *[("gitlab_list_merge_requests", {"project": path, "state": "opened"}) for path in paths]
    )
    await rec.turn(
        *[
            ("gitlab_get_merge_request", {"project": path, "iid": mr["iid"]})
            for path, mrs in zip(paths, found, strict=True)
            for mr in _as_list(mrs)
        ]
    )


# --- (f) Prometheus: targets down and alerts firing, with their Backstage owners ----------------

CODE_PROMETHEUS = """\
down = prometheus.list_targets(health="down")["targets"]
firing = prometheus.list_alerts(state="firing")["alerts"]
jobs = sorted({t["job"] for t in down} | {a["labels"]["job"] for a in firing if "job" in a["labels"]})
owners = {}
for job in jobs:
    try:
        o = backstage.get_owner(ref="component:default/" + job)
        owners[job] = o["display_name"] + " <" + o["email"] + ">"
    except ToolError:
        owners[job] = "not in the catalog"
{"targets_down": [t["job"] + " " + t["instance"] + ": " + str(t["last_error"]) for t in down],
 "alerts_firing": [a["name"] + " (" + a["labels"].get("severity", "-") + ") job="
                   + a["labels"].get("job", "-") for a in firing],
 "owners": owners}
"""


async def direct_prometheus(rec: Recorder) -> None:
    targets, alerts = await rec.turn(
        ("prometheus_list_targets", {"health": "down"}), ("prometheus_list_alerts", {"state": "firing"})
    )
    jobs = {t["job"] for t in targets["targets"]} | {
        a["labels"]["job"] for a in alerts["alerts"] if "job" in a["labels"]
    }
    await rec.turn(
        *[("backstage_get_owner", {"ref": f"component:default/{job}"}) for job in sorted(jobs)],
        errors_ok=True,
    )


TASKS: list[Task] = [
    Task("a", "Why did the last failed pipeline of infra/api fail? (its failed jobs and their log tails)",
         ["failed pipeline job log"], CODE_PIPELINE, direct_pipeline, quick=True, needs=["gitlab"]),
    Task("b", "Who owns the service with the most unresolved Sentry errors, and what changed lately in its "
              "GitLab project (latest 5 commits)?",
         ["sentry unresolved issues", "backstage owner of a service", "gitlab commits of a project"],
         CODE_OWNER, direct_owner, quick=True, needs=["sentry", "backstage", "gitlab"]),
    Task("c", "File a Jira ticket for each failing CI job across all projects",
         ["failed pipeline jobs", "create jira issue"], CODE_TICKETS, direct_tickets,
         needs=["gitlab", "jira"]),
    Task("d", "Which services logged ERRORs in Elasticsearch yesterday, and do they have open Sentry issues?",
         ["count log errors by service", "sentry unresolved issues"], CODE_ERRORS, direct_errors,
         needs=["elasticsearch", "sentry"]),
    Task("e", "Summarise the open merge requests of all projects with their pipeline status",
         ["open merge requests pipeline status"], CODE_MRS, direct_mrs, needs=["gitlab"]),
    Task("f", "Which Prometheus targets are down and alerts firing, and who owns them in Backstage?",
         ["prometheus targets down alerts firing", "backstage owner"], CODE_PROMETHEUS, direct_prometheus,
         needs=["prometheus", "backstage"]),
]  # fmt: skip


# --- running -----------------------------------------------------------------------------------


@contextmanager
def _config(workdir: Path, scrape_target: str) -> Iterator[Path]:
    """The demo config (its fakes started for the block) with a temporary state folder.

    Prometheus also scrapes a dead address.
    """
    scrape = {"scrape_targets": [scrape_target], "job_name": PROMETHEUS_JOB, "wait_for_scrape": False}
    with demo_config(options={"prometheus": scrape}, state_dir=str(workdir / "state")) as config:
        path = workdir / "portal.yaml"
        path.write_text(yaml.safe_dump(config))
        yield path


def _dead_address() -> str:
    """A loopback port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


async def _prometheus_settled(direct: Client) -> None:
    """Wait (bounded) for the dead target down and AlwaysFiring firing (set-up, not counted)."""
    deadline = time.monotonic() + SCRAPE_WAIT_SECONDS
    while time.monotonic() < deadline:
        targets = await direct.call_tool("prometheus_list_targets", {"health": "down"})
        alerts = await direct.call_tool("prometheus_list_alerts", {"state": "firing"})
        texts = [getattr(c, "text", "") for c in (*targets.content, *alerts.content)]
        if (
            not targets.is_error
            and not alerts.is_error
            and '"down"' in texts[0]
            and "AlwaysFiring" in texts[-1]
        ):
            return
        await anyio.sleep(0.5)  # Prometheus evaluates every second; bounded by the deadline
    raise TimeoutError("the demo Prometheus did not report the dead target down and AlwaysFiring firing")


async def transcribe(tasks: Sequence[Task]) -> list[tuple[Task, Transcript, Transcript]]:
    """Run every task in both modes against one in-process portal runtime on the demo config."""
    out: list[tuple[Task, Transcript, Transcript]] = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-tasks-") as tmp,
        _config(Path(tmp), _dead_address()) as path,
    ):
        config = load_config(path)
        async with open_runtime(config) as runtime:
            failed = [s.namespace for s in runtime.registry.statuses() if s.state != "ready"]
            needed = {ns for task in tasks for ns in task.needs}
            if failed:
                raise RuntimeError(f"demo servers not ready: {failed} (tasks need {sorted(needed)})")
            direct_server = build_mcp_server(False, runtime.registry, runtime.catalog, runtime.codemode)
            code_server = build_mcp_server(True, runtime.registry, runtime.catalog, runtime.codemode)
            async with Client(direct_server) as direct, Client(code_server) as code:
                direct_list = tools_list_json((await direct.list_tools()).tools)
                code_list = tools_list_json((await code.list_tools()).tools)
                if "prometheus" in needed:
                    await _prometheus_settled(direct)
                for task in tasks:
                    code_mode = Transcript("code", code_list)
                    rec = Recorder(code, code_mode)
                    await rec.turn(*[("portal_codemode_search", {"query": q}) for q in task.searches])
                    await rec.turn(("portal_codemode_execute", {"code": task.code}))
                    answer = json.loads(code_mode.turns[-1][0].text)
                    if not answer.get("ok"):
                        raise RuntimeError(f"task {task.key}: execute failed: {answer}")
                    direct_mode = Transcript("direct", direct_list)
                    await task.direct(Recorder(direct, direct_mode))
                    out.append((task, code_mode, direct_mode))
    return out


def _n(value: float) -> str:
    return f"{value:,.0f}"


def run_tasks(quick: bool) -> Section:
    tasks = [task for task in TASKS if task.quick] if quick else TASKS
    runs = anyio.run(transcribe, tasks)
    rows: list[list[str]] = []
    figures: dict[str, float] = {}
    totals = {"code": {"read": 0, "written": 0, "total": 0, "resent_input": 0},
              "direct": {"read": 0, "written": 0, "total": 0, "resent_input": 0}}  # fmt: skip
    direct_list = code_list = 0
    for task, code_mode, direct_mode in runs:
        c, d = code_mode.tokens(), direct_mode.tokens()
        direct_list, code_list = d["tool_list"], c["tool_list"]
        for mode, counted in (("code", c), ("direct", d)):
            for key in totals[mode]:
                totals[mode][key] += counted[key]
        rows.append([
            f"({task.key}) {task.question}",
            f"{d['turns']} / {d['calls']}", _n(d["read"]), _n(d["written"]), _n(d["total"]),
            f"{c['turns']} / {c['calls']}", _n(c["read"]), _n(c["written"]), _n(c["total"]),
            f"**{d['total'] / c['total']:.1f}x**",
        ])  # fmt: skip
        figures[f"task_{task.key}_ratio"] = d["total"] / c["total"]
    cd, dd = totals["code"], totals["direct"]
    rows.append(["**Total**", "", _n(dd["read"]), _n(dd["written"]), _n(dd["total"]), "", _n(cd["read"]),
                 _n(cd["written"]), _n(cd["total"]), f"**{dd['total'] / cd['total']:.1f}x**"])  # fmt: skip
    figures["total_ratio"] = dd["total"] / cd["total"]
    figures["total_resent_ratio"] = dd["resent_input"] / cd["resent_input"]
    ratios = [figures[f"task_{task.key}_ratio"] for task, _, _ in runs]
    per_task_results = {
        task.key: (
            sum(count_tokens(c.text) for turn in code_mode.turns for c in turn),
            sum(count_tokens(c.text) for turn in direct_mode.turns for c in turn),
        )
        for task, code_mode, direct_mode in runs
    }
    results_line = "; ".join(f"({k}) {c:,} / {d:,}" for k, (c, d) in per_task_results.items())
    notes = f"""\
{len(runs)} scripted reference tasks, each run twice against the demo servers (fake GitLab, Jira, Sentry,
Elasticsearch and Backstage backends on 127.0.0.1, a real Prometheus) through the portal's own MCP server
and the official MCP client; no model is involved, the "model" is a fixed script that makes no mistakes
in either mode (no retries, no exploratory calls), so both columns are lower bounds. "Today" is
{TODAY}, the fakes' clock. Every figure is an exact o200k_base count of real texts from this run.

Accounting, per task:

- **Turns** are requests to the model. Direct mode: one turn per dependent step (calls that need only
  results already seen share a turn, as parallel tool calls), plus the final turn that reads the last
  results and answers. Code Mode: one turn for the `portal_codemode_search` calls (all queries at once),
  one for the single `portal_codemode_execute`, plus the final turn. Table: turns / tool calls.
- **Read (input)** = the `tools/list` result x turns + the text of every tool result once. The tool
  list is counted at every turn because real clients resend the tool schemas with every request: direct
  mode's is all {direct_list:,} tokens of the demo servers' tools; Code Mode's is the two portal tools,
  {code_list:,} tokens. Tool results are the text content the client receives (Code Mode: the search
  signatures and the execute JSON; direct: each tool's JSON text), structured content not counted again.
  Tool-result tokens alone, Code Mode / direct: {results_line}.
- **Written (output)** = each tool call as `{{"name": ..., "arguments": {{...}}}}` JSON: the search queries
  and the program text for Code Mode, every call's arguments for direct mode.
- Not counted, in either mode: the system prompt and the user's question (the same in both), the
  model's reasoning and its final answer (about the same in both).
- Conversation history re-read at each turn is not counted in the table (a conservative choice that
  favours direct mode, which has more turns and more history). Counting it too, as a stateless chat API
  bills it (each request carries the tool list plus every earlier call and result), the total input is
  {dd["resent_input"]:,} tokens direct against {cd["resent_input"]:,} Code Mode
  ({figures["total_resent_ratio"]:.1f}x).

The ratio column is direct total / Code Mode total; per task it ranges from {min(ratios):.1f}x to
{max(ratios):.1f}x. Almost all of direct mode's cost is the tool list resent at every turn, so the ratio
grows with the number of tools behind the portal (section 1) and with the number of dependent steps; the
demo's fake data is small, so tool results are a small share here, and with real payloads (long job logs,
hundreds of issues) Code Mode's advantage grows further because only the program's summary comes back.
Transcripts: `python -m bench.tasks --out DIR` writes both of every task as JSON.
"""
    return Section(
        title="5. Task cost in model tokens",
        header=["Task", "Direct turns / calls", "Direct read", "Direct written", "Direct total",
                "Code Mode turns / calls", "Code Mode read", "Code Mode written", "Code Mode total",
                "Direct / Code Mode"],
        rows=rows,
        notes=notes,
        figures=figures,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tasks", description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="folder for one JSON transcript per task")
    parser.add_argument("--quick", action="store_true", help="only the quick tasks")
    args = parser.parse_args(argv)
    import logging

    logging.basicConfig(level=logging.WARNING, force=True)
    tasks = [task for task in TASKS if task.quick] if args.quick else TASKS
    args.out.mkdir(parents=True, exist_ok=True)
    for task, code_mode, direct_mode in anyio.run(transcribe, tasks):
        payload = {"task": task.key, "question": task.question, "code_mode": code_mode.as_json(),
                   "direct": direct_mode.as_json()}  # fmt: skip
        (args.out / f"task-{task.key}.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False))
        print(f"task {task.key}: direct {direct_mode.tokens()['total']:,} tokens, "
              f"code mode {code_mode.tokens()['total']:,}", file=sys.stderr)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
