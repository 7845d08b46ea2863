"""An example third-party vista-gym plugin: one tool, one procedural task and one reward.

Installed, it is discovered through the entry point ``example`` in the group ``vista`` (see pyproject.toml); the
three hooks below are everything vista needs. Nothing here is imported by vista-gym itself.
"""

from __future__ import annotations

import vista

from .color_histogram import ColorHistogram
from .concise_reward import ConciseCorrectness
from .dominant_color import DominantColor, DominantColorConfig

__all__ = ["ColorHistogram", "ConciseCorrectness", "DominantColor", "DominantColorConfig"]


@vista.hookimpl
def register_tools(register) -> None:
    register(ColorHistogram())


@vista.hookimpl
def register_tasks(register) -> None:
    register(DominantColor())


@vista.hookimpl
def register_rewards(register) -> None:
    register(ConciseCorrectness())
