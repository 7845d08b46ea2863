"""Importing this module loads the plugins and registers every task with Gymnasium, so that

    gymnasium.make("vista.gym:vista/chart_bar-v0")

works from a fresh interpreter (Gymnasium imports the module before the ``:``)."""

from . import env as _env  # noqa: F401  (registers the on-load hook)
from .plugins import get_registry

get_registry()
