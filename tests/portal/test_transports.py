"""``${NAME}`` references in server settings, env and headers are read from the environment."""

from __future__ import annotations

import pytest

from portal.transports import expand_env


def test_expand_env_replaces_every_reference_with_the_variables_value() -> None:
    environ = {"TOKEN": "t-1", "HOST": "gitlab.example.com"}
    values = {"Authorization": "Bearer ${TOKEN}", "X-Url": "https://${HOST}/${TOKEN}", "plain": "as is"}
    assert expand_env(values, environ) == {
        "Authorization": "Bearer t-1",
        "X-Url": "https://gitlab.example.com/t-1",
        "plain": "as is",
    }


def test_expand_env_keeps_an_empty_value_and_leaves_non_references_alone() -> None:
    environ = {"EMPTY": ""}
    assert expand_env({"a": "${EMPTY}", "b": "$EMPTY", "c": "${1BAD}"}, environ) == {
        "a": "",
        "b": "$EMPTY",
        "c": "${1BAD}",
    }


def test_expand_env_raises_lookup_error_naming_a_missing_variable() -> None:
    with pytest.raises(LookupError) as caught:
        expand_env({"Authorization": "Bearer ${GITLAB_TOKEN_MISSING}"}, {})
    assert str(caught.value) == (
        "environment variable GITLAB_TOKEN_MISSING is referenced in the config but not set"
    )


def test_expand_env_reads_the_process_environment_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_TEST_EXPAND", "from-os")
    assert expand_env({"k": "${PORTAL_TEST_EXPAND}"}) == {"k": "from-os"}
