"""Per-group sandbox limits: the config may adjust them, within what the sandbox policy allows."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.auth import Principal
from portal.config import ConfigError, PortalConfig, load_config
from portal.limits import limits_for


def sandbox_config(**sandbox: object) -> PortalConfig:
    return PortalConfig.model_validate({"sandbox": sandbox})


def who(*groups: str) -> Principal:
    return Principal("00000000-0000-4000-8000-000000000001", groups)


def test_a_callers_groups_tighten_their_limits_and_the_lowest_value_wins() -> None:
    config = sandbox_config(
        wall_seconds=20,
        groups={"interns": {"max_tool_calls": 5, "wall_seconds": 10}, "ops": {"max_tool_calls": 50}},
    ).sandbox
    assert (limits_for(config, who()).max_tool_calls, limits_for(config, who()).wall_seconds) == (200, 20)
    assert limits_for(config, who("ops")).max_tool_calls == 50
    both = limits_for(config, who("ops", "interns"))
    assert (both.max_tool_calls, both.wall_seconds) == (5, 10)
    assert limits_for(config, None).max_tool_calls == 200


def test_the_memory_setting_reaches_the_sandbox_in_bytes() -> None:
    assert limits_for(sandbox_config(memory_mb=256).sandbox, who()).memory_bytes == 256 * 1024 * 1024


@pytest.mark.parametrize(
    ("groups", "fragment"),
    [
        ({"deep": {"recursion_depth": 5000}}, "recursion_depth"),  # fixed by the policy: only lower
        ({"wide": {"max_concurrent_tool_calls": 64}}, "max_concurrent_tool_calls"),
        ({"long": {"wall_seconds": 100_000}}, "wall_seconds"),  # above the ceiling
        ({"typo": {"wal_seconds": 5}}, "unknown sandbox limit"),
    ],
)
def test_a_group_cannot_loosen_what_the_policy_fixes(tmp_path: Path, groups: dict, fragment: str) -> None:
    path = tmp_path / "portal.yaml"
    path.write_text(f"sandbox:\n  groups: {groups!r}\n".replace("'", '"'))
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert fragment in str(caught.value)
    assert "sandbox" in str(caught.value)


def test_a_fixed_limit_may_be_lowered_for_a_group() -> None:
    config = sandbox_config(groups={"careful": {"recursion_depth": 100}}).sandbox
    assert limits_for(config, who("careful")).recursion_depth == 100
