"""``portal``: serve the portal, mint development tokens, inspect and try the catalog.

Without ``--config`` (or ``PORTAL_CONFIG``) every command uses the running
demo's configuration, ``./.portal/demo.yaml``, which ``make run`` (``python -m
demo``) writes: state under ``./.portal/``, development auth, and each server
pointed at a fake of its system on 127.0.0.1.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio
import typer

from portal.auth import Principal
from portal.cli_progress import Progress
from portal.config import ConfigError, PortalConfig, load_config
from portal.log_safety import bound_log_records
from portal.observed_shapes import observer_for
from portal.runtime import PortalRuntime, open_runtime
from portal.search_answer import MAX_FULL_DETAIL, brief_answer, full_contract
from portal.search_eval import evaluate, read_queries
from portal.store import Store

__all__ = ["app"]

app = typer.Typer(
    help="MCP portal with Code Mode.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
T = TypeVar("T")

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", envvar="PORTAL_CONFIG", help="portal.yaml (default: the running demo's)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _config(path: Path | None, **overrides: Any) -> PortalConfig:
    try:
        config = load_config(path)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    updates = {key: value for key, value in overrides.items() if value is not None}
    return config.model_copy(update=updates) if updates else config


def _with_runtime(config: PortalConfig, work: Callable[[PortalRuntime], Awaitable[T]]) -> T:
    async def main() -> T:
        async with open_runtime(config) as runtime:
            return await work(runtime)

    return anyio.run(main)


def _quiet_logs() -> None:
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    bound_log_records()


@app.command()
def serve(
    config: ConfigOption = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Serve the portal: MCP at /mcp (Streamable HTTP), health at /healthz."""
    from portal.access_log import uvicorn_log_config
    from portal.app import create_app
    from portal.serving import serve as serve_draining

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    bound_log_records()  # arguments and upstream messages never flood the log (portal/log_safety.py)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per upstream request is noise
    logging.getLogger("alembic").setLevel(logging.WARNING)  # one INFO line per migration step too
    settings = _config(config, host=host, port=port)
    typer.echo(f"portal: MCP endpoint http://{settings.host}:{settings.port}/mcp", err=True)
    try:
        application = create_app(settings)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    # SIGTERM drains executions in flight before stopping (portal/serving.py); Ctrl-C stops at once.
    quiet = uvicorn_log_config(settings.log_probes)  # no access line per scrape or probe (access_log.py)
    serve_draining(application, settings.host, settings.port, application.state.drain, quiet)


@app.command()
def token(
    user: Annotated[str, typer.Option(help="User the token is for (an email).")],
    groups: Annotated[str, typer.Option(help="Comma-separated groups.")] = "",
    ttl: Annotated[
        int | None, typer.Option(help="Lifetime in seconds (default: auth.token_ttl_seconds).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port the portal serves on (as given to `portal serve --port`).")
    ] = None,
    url: Annotated[
        str | None, typer.Option(help="The portal's external base URL, when clients reach it elsewhere.")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Mint a development bearer token for /mcp (auth mode 'dev' only), signed with the portal's key.

    The token is good only at the portal's /mcp URL: give --port (or --url) when the portal is served
    elsewhere than its config file says.
    """
    from portal.oauth import DevTokenRefused, mint_dev_token
    from portal.oauth.dev_tokens import for_portal

    if "@" not in user or len(user) > 254:
        typer.echo("error: --user must be an email address", err=True)
        raise typer.Exit(2)
    try:
        settings = for_portal(_config(config), port=port, url=url)
        minted = mint_dev_token(settings, user, [g.strip() for g in groups.split(",") if g.strip()], ttl)
        typer.echo(f"portal: token for {settings.base_url()}/mcp", err=True)
        typer.echo(minted)
    except DevTokenRefused as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


keys_app = typer.Typer(help="The keys access tokens are signed with.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("list")
def keys_list(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """List the published signing keys: the active one first, then retired ones still verifying tokens."""
    from portal.oauth import key_set_for
    from portal.runtime import store_for

    settings = _config(config)
    store = store_for(settings)
    try:
        keys = key_set_for(settings, store)
        keys.load()
        rows = [
            {"kid": k.kid, "created_at": k.created_at.isoformat(),
             "retired_at": k.retired_at.isoformat() if k.retired_at else None}
            for k in keys.all()
        ]  # fmt: skip
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        state = f"retired {row['retired_at']}" if row["retired_at"] else "active"
        typer.echo(f"{row['kid']}  created {row['created_at']}  {state}")


@keys_app.command("rotate")
def keys_rotate(config: ConfigOption = None) -> None:
    """Sign new tokens with a fresh key; the old one stays published until its tokens expire (no logouts)."""
    from portal.oauth import key_set_for, rotate_keys
    from portal.runtime import store_for

    settings = _config(config)
    store = store_for(settings)
    try:
        active, published = rotate_keys(store, key_set_for(settings, store).retention)
    finally:
        store.close()
    typer.echo(f"active key {active.kid}; {len(published) - 1} retired key(s) still published")


oauth_app = typer.Typer(help="The OAuth authorization server's stored state.", no_args_is_help=True)
app.add_typer(oauth_app, name="oauth")


@oauth_app.command("purge")
def oauth_purge(config: ConfigOption = None) -> None:
    """Delete expired codes and refresh tokens, and clients unused a day after registering, now.

    A serving portal does this every auth.registration.purge_interval_seconds by itself.
    """
    from portal.oauth.housekeeping import purge_expired
    from portal.oauth.routes import purge_policy
    from portal.runtime import store_for

    settings = _config(config)
    store = store_for(settings)
    try:
        purged = anyio.run(purge_expired, store, purge_policy(settings))
    finally:
        store.close()
    typer.echo(
        f"deleted {purged.codes} codes, {purged.refresh_tokens} refresh tokens, "
        f"{purged.clients} unused clients, {purged.consents} consents"
    )


consents_app = typer.Typer(help="OAuth clients users approved on the consent page.", no_args_is_help=True)
app.add_typer(consents_app, name="consents")
ConsentUserOption = Annotated[str, typer.Option("--user", help="A user's id, or their email.")]


def _known_user_id(store: Store, user: str) -> str | None:
    """The id behind an email without creating a user for a typo; an id is taken as given."""
    from sqlalchemy import select

    from portal.identity import normalise_email
    from portal.store import User

    if "@" not in user:
        return user
    with store.session() as session:
        found: str | None = session.scalar(select(User.id).where(User.email == normalise_email(user)))
        return found


@consents_app.command("list")
def consents_list(
    user: Annotated[str | None, typer.Option(help="Only this user's (an id, or an email).")] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """List approvals, newest first: user id, client, its self-chosen name, redirect URI, scopes."""
    from dataclasses import asdict

    from portal.oauth.storage import OAuthStore
    from portal.runtime import store_for

    store = store_for(_config(config))
    try:
        oauth = OAuthStore(store)
        user_id = _known_user_id(store, user) if user else None
        found = [] if user and user_id is None else anyio.run(oauth.consents, user_id)
        names = {c.client_id: anyio.run(oauth.client, c.client_id) for c in found}
    finally:
        store.close()
    named = {client_id: (meta or ({}, False))[0].get("client_name") for client_id, meta in names.items()}
    if as_json:
        rows = [{**asdict(c), "approved_at": c.approved_at.isoformat(),
                 "client_name": named[c.client_id]} for c in found]  # fmt: skip
        typer.echo(json.dumps(rows, indent=2))
        return
    for c in found:
        name = json.dumps(named[c.client_id]) if named[c.client_id] else "(unnamed)"
        typer.echo(
            f"{c.approved_at.isoformat()}  {c.user_id}  {c.client_id} {name}  {c.redirect_uri}  "
            f"scopes: {' '.join(c.scopes)}"
        )


@consents_app.command("revoke")
def consents_revoke(
    user: ConsentUserOption,
    client: Annotated[str, typer.Option("--client", help="The client_id (see `portal consents list`).")],
    config: ConfigOption = None,
) -> None:
    """Forget a user's approval of a client and revoke every token and code the client holds for them."""
    from portal.oauth.storage import OAuthStore
    from portal.runtime import store_for

    store = store_for(_config(config))
    try:
        user_id = _known_user_id(store, user)
        done = None if user_id is None else anyio.run(OAuthStore(store).revoke_consent, user_id, client)
    finally:
        store.close()
    if done is None or not (done.consents or done.families or done.codes):
        typer.echo(f"error: no consent or token of client {client} for user {user}", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"revoked client {client} for user {user_id}: {done.consents} consent(s), {done.families} login(s) "
        f"with their tokens, {done.codes} unused code(s); the next login asks again"
    )


@app.command()
def tools(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """List every tool of every server, and each server's state.

    Tools appear under their Python names (portal/naming.py); a tool whose upstream
    name differs says so, and names that collided after mapping are reported.
    """
    _quiet_logs()

    async def work(runtime: PortalRuntime) -> None:
        statuses = runtime.registry.statuses()
        entries = runtime.catalog.entries()
        collisions = runtime.catalog.collisions()
        if as_json:
            payload = {
                "servers": [s.__dict__ for s in statuses],
                "tools": [
                    {
                        "name": e.name,
                        "upstream_name": e.original_name,
                        "signature": e.signature,
                        "annotations": e.annotations(),
                    }
                    for e in entries
                ],
                "collisions": [
                    {"where": c.where, "python_name": c.python_name, "names": c.assignments()}
                    for c in collisions
                ],
            }
            typer.echo(json.dumps(payload, indent=2))
            return
        for status in statuses:
            detail = f" - {status.error}" if status.error else ""
            typer.echo(f"# {status.namespace}: {status.state}, {status.tool_count} tools{detail}")
        for collision in collisions:
            typer.echo(f"# name collision in {collision.describe()}")
        for entry in entries:
            renamed = f"  # upstream: {entry.tool.name}" if entry.tool.name != entry.python_name else ""
            typer.echo(entry.signature + renamed)

    _with_runtime(_config(config), work)


@app.command()
def search(
    query: str,
    limit: Annotated[int, typer.Option(min=1, max=50, help="Most results.")] = 10,
    groups: Annotated[str | None, typer.Option(help="Search as a member of these groups (a,b).")] = None,
    detail: Annotated[
        bool, typer.Option("--detail", help="Each hit's whole contract (parameters, result shape, example).")
    ] = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Rank the catalog's tools for a query, as portal_codemode_search does, with their result shapes."""
    _quiet_logs()
    as_groups = (
        None if groups is None else Principal("cli", tuple(g.strip() for g in groups.split(",") if g.strip()))
    )

    async def work(runtime: PortalRuntime) -> None:
        if as_groups is None and runtime.codemode.permissions.enforced:
            hits = runtime.catalog.search(query, limit)  # an operator's view: every tool
        else:
            hits = runtime.codemode.search(query, limit, as_groups)
        observer = observer_for(runtime.registry)
        entries = [hit.entry for hit in hits]
        if as_json:
            typer.echo(json.dumps([hit.to_json() for hit in hits], indent=2))
        elif not entries:
            typer.echo("No tool matches that query.")
        elif detail:
            typer.echo("\n\n".join(full_contract(entry, observer) for entry in entries[:MAX_FULL_DETAIL]))
        else:
            signatures, shapes = brief_answer(entries, query, observer)
            typer.echo("\n".join(signatures + shapes))

    _with_runtime(_config(config), work)


@app.command("search-eval")
def search_eval(
    file: Annotated[Path, typer.Argument(help='JSON lines: {"q": "...", "expect": ["ns.tool", ...]}')],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Measure search quality on a query set: recall@1, recall@5, MRR and the misses."""
    _quiet_logs()
    try:
        queries = read_queries(file)
    except (OSError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None

    async def work(runtime: PortalRuntime) -> None:
        progress = Progress(len(queries), "search-eval", enabled=False if as_json else None)

        def ranked(q: str, k: int) -> list[str]:
            names = [hit.entry.name for hit in runtime.catalog.search(q, k)]
            progress.advance()  # on a terminal only (portal/cli_progress.py)
            return names

        report = evaluate(queries, ranked)
        progress.finish()
        if as_json:
            typer.echo(json.dumps(report.to_json(), indent=2))
            return
        typer.echo(
            f"queries {report.queries}  recall@1 {report.recall_at_1:.3f}  "
            f"recall@5 {report.recall_at_5:.3f}  MRR {report.mrr:.3f}"
        )
        for miss in report.misses:
            typer.echo(
                f"miss: {miss.q!r} expected {', '.join(miss.expect)}; got {', '.join(miss.got) or '-'}"
            )

    _with_runtime(_config(config), work)


def _printable(text: str) -> str:
    """Text a terminal can take: lone surrogates from model code shown as \\udXXX escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


@app.command("exec")
def exec_file(
    file: Annotated[Path, typer.Argument(help="Python file to run in the sandbox.")],
    user: Annotated[str, typer.Option(help="Run as this user.")] = "cli@localhost",
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run a file through the same path as portal_codemode_execute."""
    _quiet_logs()
    try:
        code = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        typer.echo(f"error: cannot read {file}: {exc}", err=True)
        raise typer.Exit(2) from None

    async def work(runtime: PortalRuntime) -> None:
        outcome = await runtime.codemode.execute(code, await runtime.principal_for(user))
        if as_json:
            typer.echo(outcome.text)
            return
        result = outcome.result
        if result.stdout:
            typer.echo(_printable(result.stdout.rstrip("\n")))
        if result.error:
            typer.echo(_printable(f"{result.error.type}: {result.error.message}"), err=True)
        elif result.value is not None:
            typer.echo(_printable(json.dumps(result.value, indent=2, ensure_ascii=False, default=repr)))

    _with_runtime(_config(config), work)


def _parse_since(text: str) -> datetime:
    """An ISO time, or a span back from now: 90s, 30m, 12h, 7d."""
    match = re.fullmatch(r"(\d+)([smhd])", text.strip())
    if match:
        seconds = int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
        return datetime.now(UTC) - timedelta(seconds=seconds)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter("use an ISO time (2026-11-27T10:00) or a span like 30m, 12h, 7d") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


audit_app = typer.Typer(help="The audit trail of Code Mode executions.", invoke_without_command=True)
app.add_typer(audit_app, name="audit")


@audit_app.callback()
def audit(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option(help="A user's id, or their email.")] = None,
    since: Annotated[str | None, typer.Option(help="ISO time or span back from now (30m, 12h, 7d).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="Most records, newest first.")] = 100,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Read the audit trail of Code Mode executions (or `portal audit export` them for a SIEM)."""
    if ctx.invoked_subcommand is not None:
        return
    from portal.audit import AuditLog, AuditQuery
    from portal.identity import Identities
    from portal.runtime import store_for

    _quiet_logs()
    settings = _config(config)
    moment = _parse_since(since) if since else None
    store = store_for(settings)
    try:
        user_id = Identities(store).user_id_sync(user) if user and "@" in user else user
        records = AuditLog(store).query(AuditQuery(user_id=user_id, since=moment, limit=limit))
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps(records, indent=2))
        return
    for record in records:
        calls = ", ".join(f"{c['name']}{'' if c['ok'] else '!'}" for c in record["tool_calls"]) or "-"
        typer.echo(
            f"{record['started_at']}  {record['user_id']}  {record['outcome']:<22} "
            f"{record['duration_ms']:>8.1f} ms  code {record['code_sha256'][:12]} ({record['code_size']} B)  "
            f"result {record['result_size']} B  tools: {calls}"
        )


@audit_app.command("export")
def audit_export(
    since: Annotated[str | None, typer.Option(help="ISO time or span back from now (30m, 12h, 7d).")] = None,
    until: Annotated[str | None, typer.Option(help="ISO time or span back from now; default: now.")] = None,
    output_format: Annotated[str, typer.Option("--format", help="jsonl: one JSON object a line.")] = "jsonl",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Export audit records oldest first, one JSON line each, for a SIEM (the audit.sink shape)."""
    from portal.audit_export import export_lines
    from portal.runtime import store_for

    _quiet_logs()
    if output_format != "jsonl":
        typer.echo(f"error: --format {output_format!r} is not supported; use jsonl", err=True)
        raise typer.Exit(2)
    start, end = (_parse_since(since) if since else None), (_parse_since(until) if until else None)
    store = store_for(_config(config))
    count = 0
    try:
        with output.open("w", encoding="utf-8") if output else _stdout() as out:
            for line in export_lines(store, start, end):
                out.write(line + "\n")
                count += 1
    except OSError as exc:
        typer.echo(f"error: cannot write {output}: {exc.strerror}", err=True)
        raise typer.Exit(1) from None
    finally:
        store.close()
    typer.echo(f"exported {count} audit record(s){f' to {output}' if output else ''}", err=True)


def _stdout() -> Any:
    """Standard output in a ``with`` that leaves it open."""
    from contextlib import nullcontext

    return nullcontext(sys.stdout)


def _discovered_mcp_url(base: str) -> str:
    """The MCP URL a running portal publishes at /.well-known/mcp-portal."""
    import httpx

    from portal.discovery import DISCOVERY_PATH

    try:
        answer = httpx.get(base.rstrip("/") + DISCOVERY_PATH, timeout=10, follow_redirects=True)
        answer.raise_for_status()
        url = answer.json().get("mcp_url")
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        typer.echo(f"error: cannot read {base.rstrip('/')}{DISCOVERY_PATH}: {exc}", err=True)
        raise typer.Exit(2) from None
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        typer.echo(f"error: {base} publishes no usable mcp_url at {DISCOVERY_PATH}", err=True)
        raise typer.Exit(2)
    return url


@app.command()
def connect(
    client: Annotated[str, typer.Argument(help="claude-code, cursor, vscode, opencode or mcp-remote.")],
    write: Annotated[bool, typer.Option("--write", help="Merge into the client's config file.")] = False,
    from_url: Annotated[
        str | None, typer.Option("--from", help="A running portal's base URL: use what it publishes.")
    ] = None,
    name: Annotated[str, typer.Option(help="The server's name in the client's config.")] = "portal",
    config: ConfigOption = None,
) -> None:
    """Print the portal's entry for an MCP client, or merge it into the client's config with --write.

    Other servers and settings in the file are kept; the previous file is saved as a .bak copy; a file
    that is not plain JSON is left alone with an error saying where it fails to parse.
    """
    from portal.connect import ConnectError, block_for, config_file, write_block
    from portal.discovery import discovery_document

    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
        typer.echo("error: --name may hold letters, digits, '-' and '_' only (at most 64)", err=True)
        raise typer.Exit(2)
    mcp_url = _discovered_mcp_url(from_url) if from_url else f"{_config(config).base_url()}/mcp"
    try:
        block = block_for(client, mcp_url, name)
        target = config_file(client, Path.home())
    except ConnectError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if not write:
        hint = discovery_document(_config(config))["clients"][client]["command"]
        where = f"into {target}" if target else "into your client's config"
        typer.echo(f"# {client}: run `{hint}`, or merge this {where} (portal connect {client} --write):")
        typer.echo(json.dumps(block, indent=2))
        return
    if target is None:
        typer.echo("error: mcp-remote has no config file; paste the block into your client's file", err=True)
        raise typer.Exit(2)
    try:
        written = write_block(target, block)
    except (ConnectError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    if not written.changed:
        typer.echo(f"{target}: already has {name!r} at {mcp_url}; nothing changed")
        return
    kept = f" (previous file kept as {written.backup})" if written.backup else ""
    typer.echo(f"{target}: {name!r} -> {mcp_url}{kept}; the client logs in with OAuth when it first connects")


@app.command("new-server")
def new_server_command(
    name: Annotated[str, typer.Argument(help="Lower-case name; becomes servers/NAME and the namespace.")],
) -> None:
    """Copy servers/_template/ to servers/NAME/ and its fake to demo/NAME/, renamed, with tests, cataloged."""
    from portal.scaffold import ScaffoldError, new_server

    try:
        result = new_server(name)
    except ScaffoldError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"created {result.package}, {result.fake}, {result.test_folder}; listed in {result.catalog}")
    typer.echo(f"next: edit servers/{name}/client.py and demo/{name}/fake.py for your API; make test")


if __name__ == "__main__":  # pragma: no cover
    app()
