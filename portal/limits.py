"""The sandbox limits of one execution: the config's, adjusted for the caller's groups."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sandbox
from portal.auth import Principal

if TYPE_CHECKING:
    from portal.config import SandboxConfig

__all__ = ["base_limits", "limits_for"]


def base_limits(config: SandboxConfig) -> sandbox.Limits:
    """The config's limits over the policy's defaults; a value above a ceiling raises ValueError."""
    return sandbox.tighten(
        sandbox.Limits(),
        wall_seconds=config.wall_seconds,
        cpu_seconds=config.cpu_seconds,
        memory_bytes=config.memory_mb * 1024 * 1024,
        output_bytes=config.output_bytes,
        max_tool_calls=config.max_tool_calls,
    )


def limits_for(config: SandboxConfig, principal: Principal | None) -> sandbox.Limits:
    """Base limits, with the lowest override among the caller's groups for each limit."""
    overrides: dict[str, float] = {}
    for group in principal.groups if principal else ():
        for name, value in config.groups.get(group, {}).items():
            overrides[name] = min(value, overrides.get(name, value))
    limits = base_limits(config)
    if not overrides:
        return limits
    cast = {name: type(getattr(limits, name))(value) for name, value in overrides.items()}
    return sandbox.tighten(limits, **cast)
