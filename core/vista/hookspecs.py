"""The plugin hooks. This module is the reference: every hook's docstring says when it is called and what to do.

A plugin is a module (or object) with functions decorated `@vista.hookimpl` whose names match these specs,
declared in its distribution's `pyproject.toml`:

    [project.entry-points.vista]
    my_plugin = "my_plugin"

Each hook receives a `register` callback; call it once per object. The core checks what is registered
(unique names, valid schemas) and names the plugin at fault when something is wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .reward import Reward
    from .task import Task
    from .tool import Tool

hookspec = pluggy.HookspecMarker("vista")
hookimpl = pluggy.HookimplMarker("vista")


@hookspec
def register_tools(register: Callable[[Tool], None]) -> None:
    """Register the plugin's tools: call ``register(tool)`` once per `Tool` instance.

    Called once per plugin when plugins are loaded (`vista.load_plugins`, the first `vista.get_tools()`, or any CLI
    start-up). Construct tools cheaply here: import heavy libraries and load weights inside the tool, on first use.

    Each tool says whether its calls may wait for long with `Tool.blocking`, which the tool server admits them by:
    ``True`` for a model run in `run` (or a solver, or a request to another server), whose queue is kept short;
    ``False`` for a tool that returns in microseconds and never waits, run on the server's event loop. Left out,
    a tool that batches (`run_batch`) or awaits (`arun`) counts as a model tool, and any other is admitted as a
    light tool but runs in a worker thread.
    """


@hookspec
def register_tasks(register: Callable[[Task], None]) -> None:
    """Register the plugin's tasks: call ``register(task)`` once per `Task` instance.

    Called once per plugin when plugins are loaded, before any environment is created; each task also becomes a
    Gymnasium id ``vista/<name>-v<version>``. Do not read datasets here: `Task.load` does that when asked.
    """


@hookspec
def register_rewards(register: Callable[[Reward], None]) -> None:
    """Register the plugin's rewards: call ``register(reward)`` once per `Reward` instance.

    Called once per plugin when plugins are loaded. Environments and trainers pick a reward by name
    (the default is ``hierarchical``).
    """
