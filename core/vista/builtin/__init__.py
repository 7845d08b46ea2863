"""The core's built-in defaults, registered as an ordinary plugin named ``builtin``."""

from __future__ import annotations

from vista.hookspecs import hookimpl

from .hierarchical_reward import HierarchicalReward


@hookimpl
def register_rewards(register) -> None:
    register(HierarchicalReward())
