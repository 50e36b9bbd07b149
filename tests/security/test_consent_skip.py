"""Only a headless development portal on loopback may skip the consent page, and only when told to.

``auth.dev.auto_login`` alone still shows the consent page (the login shows
nothing, so that page is the user's only chance to see the client).
``auth.dev.skip_consent`` skips it too, and is refused without auto_login and on
any portal that is reachable from elsewhere (its listening address or its public
URL not loopback), where it would hand codes to any client that asks.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import yaml
from oauth_testing import authorize_url, pkce, redirect_query, register
from portal_testing import running_portal

from portal.app import create_app
from portal.config import ConfigError, PortalConfig, load_config

DEV = {"users": [{"email": "ci@example.com"}], "auto_login": "ci@example.com", "skip_consent": True}


def test_skip_consent_without_auto_login_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "portal.yaml"
    dev = {key: value for key, value in DEV.items() if key != "auto_login"}
    path.write_text(yaml.safe_dump({"state_dir": str(tmp_path / "state"), "auth": {"dev": dev}}))
    with pytest.raises(
        ConfigError, match="auth.dev.skip_consent is allowed only together with auth.dev.auto_login"
    ):
        load_config(path)


@pytest.mark.parametrize(
    "where",
    [
        {"host": "0.0.0.0", "auth": {"allow_dev_login_on_public_address": True}},
        {"host": "127.0.0.1", "public_url": "https://portal.example"},  # loopback behind a public proxy
    ],
    ids=["public address", "public URL"],
)
def test_skip_consent_is_refused_on_a_portal_reachable_from_elsewhere(tmp_path: Path, where: dict) -> None:
    auth = {**where.get("auth", {}), "dev": DEV}
    config = PortalConfig.model_validate({**where, "auth": auth, "state_dir": str(tmp_path / "state")})
    with pytest.raises(ConfigError, match="auth.dev.skip_consent .* allowed only on a loopback portal"):
        create_app(config)


def test_skip_consent_with_auto_login_on_loopback_gives_a_code_without_the_page(tmp_path: Path) -> None:
    with running_portal(tmp_path, {"auth": {"dev": DEV}}) as portal:
        client = register(portal.base_url).json()
        _, challenge = pkce()
        with httpx.Client(timeout=10) as browser:
            login = browser.get(authorize_url(portal.base_url, client["client_id"], challenge))
            back = browser.get(login.headers["location"])
    assert redirect_query(back)["code"] and redirect_query(back)["iss"] == portal.base_url
