"""The operator page in a real headless Chromium (Debian's `chromium`, driven by Playwright).

A real portal process on 127.0.0.1 with the development login: the browser logs in as an operator
through the same OAuth login and consent page MCP clients get, reads the server table and the
recent executions, searches, and revokes another client's consent. Screenshots go to the test's
folder; with PORTAL_DOCS_SCREENSHOTS=docs they are written into docs/ for docs/operators.md.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import anyio
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from portal_testing import RunningPortal, demo_servers, mcp_session, running_portal

from portal.oauth.storage import OAuthStore
from portal.store import open_store
from portal.store.database import sqlite_url

T = TypeVar("T")
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--no-first-run",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip
OPERATOR, DEVELOPER = "ops@example.com", "dev@example.com"
OTHER_CLIENT = "c-laptop-agent"
THREE_CALLS = 'ps = [gitlab.get_project(project="infra/api") for _ in range(3)]\nlen(ps)'

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian chromium missing: make system-deps"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[RunningPortal]:
    with demo_servers("gitlab") as servers, running_portal(tmp_path, _config(servers)) as running:
        yield running


def _config(servers: list[dict]) -> dict:
    return {
        "servers": servers,
        "admin": {"group": "ops"},
        "auth": {"dev": {"users": [{"email": OPERATOR, "groups": ["ops"]},
                                   {"email": DEVELOPER, "groups": ["developers"]}]}},
    }  # fmt: skip


def _seed(portal: RunningPortal) -> str:
    """Another user's consent to a laptop agent, and one execution with three tool calls."""

    async def work() -> None:
        store = open_store(sqlite_url(portal.state_dir))
        try:
            oauth = OAuthStore(store)
            meta = {"client_name": "Laptop agent", "redirect_uris": ["http://127.0.0.1:5555/cb"]}
            await oauth.add_client(OTHER_CLIENT, None, meta)
            await oauth.add_consent(
                portal.user_id(DEVELOPER), OTHER_CLIENT, "http://127.0.0.1:5555/cb", ["mcp"]
            )
        finally:
            store.close()
        async with mcp_session(portal, portal.token(DEVELOPER)) as client:
            result = await client.call_tool("portal_codemode_execute", {"code": THREE_CALLS})
            assert result.is_error is False

    _off_the_browsers_loop(work)
    return portal.user_id(DEVELOPER)


def _off_the_browsers_loop(work: Callable[[], Awaitable[T]]) -> T:
    """Run async work in a thread: Playwright's sync API keeps an event loop running in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, work).result(timeout=120)


def _login(page: Page, portal: RunningPortal, email: str) -> None:
    page.goto(f"{portal.base_url}/admin")
    page.get_by_role("button", name=email).click()  # the development login page
    expect(page.locator("h1")).to_contain_text(
        "MCP portal operator page"
    )  # the consent page names the client
    page.get_by_role("button", name="Approve").click()


def _shot(page: Page, tmp_path: Path, name: str) -> None:
    target = tmp_path / name
    page.screenshot(path=str(target), full_page=True)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    docs = os.environ.get("PORTAL_DOCS_SCREENSHOTS")
    if docs:
        shutil.copy(target, Path(docs) / name)


def _consents(portal: RunningPortal, client_id: str) -> int:
    store = open_store(sqlite_url(portal.state_dir))
    try:
        return len(
            [c for c in _off_the_browsers_loop(OAuthStore(store).consents) if c.client_id == client_id]
        )
    finally:
        store.close()


def test_an_operator_logs_in_sees_the_portal_searches_and_revokes_a_consent(
    browser: Browser, portal: RunningPortal, tmp_path: Path
) -> None:
    developer_id = _seed(portal)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    _login(page, portal, OPERATOR)
    expect(page.locator("header h1")).to_have_text("MCP portal: operator page")
    assert page.url == f"{portal.base_url}/admin"

    gitlab = page.locator("tr[data-server=gitlab] td")
    expect(gitlab.nth(1)).to_have_text("ready")
    assert int(gitlab.nth(2).inner_text()) > 10  # tools
    expect(gitlab.nth(3)).to_have_text("3")  # calls in the window
    expect(gitlab.nth(5)).to_have_text("0.0%")  # errors
    assert float(gitlab.nth(6).inner_text()) > 0 and float(gitlab.nth(7).inner_text()) >= float(
        gitlab.nth(6).inner_text()
    )
    execution = page.locator("#executions tr").nth(1)
    expect(execution).to_contain_text(developer_id)
    expect(execution).to_contain_text("ok")
    expect(execution.locator("code")).to_have_count(4)  # the user id and three tool calls
    expect(page.locator("#executions")).to_contain_text("gitlab.get_project")
    expect(page.locator("#executions")).not_to_contain_text("@example.com")
    expect(page.locator("#sandbox tr[data-layer=restricted-python] td").nth(1)).to_have_text("active")
    _shot(page, tmp_path, "admin-overview.png")

    page.get_by_label("query").fill("merge request diff")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#search-result")).to_contain_text("gitlab.get_merge_request_changes(")
    assert "q=merge+request+diff" in page.url
    page.locator("#search").screenshot(path=str(tmp_path / "admin-search.png"))

    row = page.locator(f"tr[data-client={OTHER_CLIENT}]")
    expect(row).to_contain_text("Laptop agent")
    row.get_by_role("button", name="Revoke").click()
    expect(page.locator("#notice")).to_have_text(
        f"Revoked {OTHER_CLIENT}: 1 consent(s), 0 login(s), 0 code(s)"
    )
    expect(page.locator(f"tr[data-client={OTHER_CLIENT}]")).to_have_count(0)
    assert _consents(portal, OTHER_CLIENT) == 0
    expect(page.locator("tr[data-client=portal-admin]")).to_have_count(1)  # the operator's own login stays
    page.screenshot(path=str(tmp_path / "admin-revoked.png"))
    if os.environ.get("PORTAL_DOCS_SCREENSHOTS"):
        shutil.copy(tmp_path / "admin-search.png", Path(os.environ["PORTAL_DOCS_SCREENSHOTS"]))


def test_a_user_outside_the_admin_group_is_refused_after_login(
    browser: Browser, portal: RunningPortal
) -> None:
    page = browser.new_page()
    _login(page, portal, DEVELOPER)
    expect(page.locator("h2")).to_have_text("Not an operator")
    expect(page.locator("main")).to_contain_text("for members of the group 'ops'")
    page.goto(f"{portal.base_url}/admin")  # no session was given: back to the login
    expect(page.get_by_role("button", name=OPERATOR)).to_be_visible()


def test_a_post_without_the_pages_csrf_token_is_refused_and_revokes_nothing(
    browser: Browser, portal: RunningPortal
) -> None:
    developer_id = _seed(portal)
    context = browser.new_context()
    page = context.new_page()
    _login(page, portal, OPERATOR)
    expect(page.locator(f"tr[data-client={OTHER_CLIENT}]")).to_have_count(1)
    form = {"user_id": developer_id, "client_id": OTHER_CLIENT}
    refused = context.request.post(
        f"{portal.base_url}/admin/consents/revoke", form={**form, "csrf": "forged"}
    )
    assert refused.status == 403
    assert "This form did not come from the operator page" in refused.text()
    foreign = context.request.post(
        f"{portal.base_url}/admin/consents/revoke",
        form={**form, "csrf": page.locator("input[name=csrf]").first.input_value()},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status == 403
    assert _consents(portal, OTHER_CLIENT) == 1


def test_logging_out_ends_the_session(browser: Browser, portal: RunningPortal) -> None:
    page = browser.new_page()
    _login(page, portal, OPERATOR)
    page.get_by_role("button", name="Log out").click()
    expect(page.locator("h2")).to_have_text("Logged out")
    page.goto(f"{portal.base_url}/admin")
    expect(page.get_by_role("button", name=OPERATOR)).to_be_visible()  # the login page again


def test_the_page_is_never_cached_or_framed(browser: Browser, portal: RunningPortal) -> None:
    page = browser.new_page()
    _login(page, portal, OPERATOR)
    answer = page.request.get(f"{portal.base_url}/admin")
    assert answer.status == 200
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
