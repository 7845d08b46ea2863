"""Plugin discovery, selection and the registry that checks everything plugins hand in.

Plugins are found through entry points in the group ``vista``; the core's own defaults (the hierarchical reward)
are registered the same way, as ordinary plugins. Which plugins load is chosen by ``select`` (``"all"``,
``"chart,math"``), the ``--plugins`` option of the CLIs, or the ``VISTA_PLUGINS`` environment variable.
A plugin that fails (import error, misspelled hook, invalid registration) is reported by name and the others load.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import os
import re
import threading
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import pluggy
from pydantic import BaseModel

from . import hookspecs
from .errors import VistaError, did_you_mean
from .reward import Reward
from .task import Task
from .tool import Tool

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "vista"
ENV_VAR = "VISTA_PLUGINS"
STRICT_ENV_VAR = "VISTA_STRICT_PLUGINS"
BUILTIN_PLUGINS: dict[str, str] = {"builtin": "vista.builtin"}
HOOKS: tuple[str, ...] = ("register_tools", "register_tasks", "register_rewards")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_KIND_OF_HOOK = {"register_tools": "tool", "register_tasks": "task", "register_rewards": "reward"}


class PluginLoadError(VistaError):
    """A plugin could not be loaded, or registered something invalid. The message names the plugin."""


class RegistrationError(VistaError):
    """Raised by a ``register`` callback for an invalid or duplicate object."""


class PluginInfo(BaseModel):
    name: str
    distribution: str | None = None
    version: str | None = None
    module: str
    builtin: bool = False
    hooks: list[str] = []
    tools: list[str] = []
    tasks: list[str] = []
    rewards: list[str] = []


class PluginFailure(BaseModel):
    name: str
    distribution: str | None = None
    stage: str
    error: str

    def __str__(self) -> str:
        dist = f" (distribution {self.distribution})" if self.distribution else ""
        return f"plugin '{self.name}'{dist} failed at {self.stage}: {self.error}"


@dataclass
class Registry:
    """Everything the selected plugins registered, by name, and what went wrong on the way."""

    tools: dict[str, Tool] = field(default_factory=dict)
    tasks: dict[str, Task] = field(default_factory=dict)
    rewards: dict[str, Reward] = field(default_factory=dict)
    plugins: dict[str, PluginInfo] = field(default_factory=dict)
    failures: list[PluginFailure] = field(default_factory=list)
    owners: dict[tuple[str, str], str] = field(default_factory=dict)
    manager: pluggy.PluginManager | None = None

    def tool(self, name: str) -> Tool:
        return _lookup(self.tools, name, "tool", "vista tools")

    def task(self, name: str) -> Task:
        by_id = {task.id: task for task in self.tasks.values()}
        if name in by_id:
            return by_id[name]
        return _lookup(self.tasks, name, "task", "vista tasks")

    def reward(self, name: str) -> Reward:
        return _lookup(self.rewards, name, "reward", "vista plugins")


def _lookup(table: dict[str, Any], name: str, kind: str, listing: str) -> Any:
    try:
        return table[name]
    except KeyError:
        raise KeyError(
            f"no {kind} named '{name}' is registered.{did_you_mean(name, table)} "
            f"Run `{listing}` to list them, and check that the plugin providing it is installed and selected "
            f"(--plugins / {ENV_VAR})."
        ) from None


def parse_selection(select: str | Iterable[str] | None) -> set[str] | None:
    """``None``/``"all"`` -> every plugin (None); ``"chart,math"`` -> {"chart", "math"}; ``"none"`` -> builtins only."""
    if select is None:
        select = os.environ.get(ENV_VAR, "all")
    names = [s.strip() for s in (select.split(",") if isinstance(select, str) else select) if s.strip()]
    if not names or names == ["all"]:
        return None
    if names == ["none"]:
        return set()
    return set(names)


def _check_tool(tool: Any) -> None:
    if not isinstance(tool, Tool):
        raise RegistrationError(f"register_tools handed in {tool!r}, which is not a vista.Tool instance")
    label = f"tool '{tool.name or type(tool).__name__}'"
    if not _NAME.match(tool.name or ""):
        raise RegistrationError(f"{label}: name must be snake_case ([a-z][a-z0-9_]*), got {tool.name!r}")
    if not tool.family or not tool.description:
        raise RegistrationError(f"{label}: set both `family` and `description` (the policy reads the description)")
    try:
        schema = tool.argument_schema()
        jsonschema.Draft202012Validator.check_schema(schema)
    except Exception as exc:  # pydantic and jsonschema raise many kinds; all mean "invalid argument schema"
        raise RegistrationError(f"{label}: invalid argument schema: {exc}") from exc
    if schema.get("type") != "object" or schema.get("additionalProperties") is not False:
        raise RegistrationError(
            f"{label}: the argument schema must be a closed object (type object, additionalProperties false); "
            "derive the Arguments model from vista.ToolArguments"
        )
    if tool.task_argument and tool.task_argument not in schema.get("properties", {}):
        raise RegistrationError(f"{label}: task_argument '{tool.task_argument}' is not one of its arguments")
    if tool.blocking is not None and not isinstance(tool.blocking, bool):
        raise RegistrationError(f"{label}: blocking must be True (a model tool), False (a light tool that returns "
                                f"in microseconds) or left out (None), got {tool.blocking!r}")
    if tool.blocking is False and (tool.supports_batching or hasattr(tool, "arun")):
        shape = "run_batch" if tool.supports_batching else "arun"
        raise RegistrationError(f"{label}: blocking = False promises calls that return in microseconds and never "
                                f"wait, but the tool implements {shape}, the shape of a model-backed or remote "
                                f"tool; remove `blocking = False`")
    if tool.Output is not None:
        try:
            jsonschema.Draft202012Validator.check_schema(tool.output_schema())
        except Exception as exc:
            raise RegistrationError(f"{label}: invalid output schema: {exc}") from exc


def _check_task(task: Any) -> None:
    if not isinstance(task, Task):
        raise RegistrationError(f"register_tasks handed in {task!r}, which is not a vista.Task instance")
    label = f"task '{task.name or type(task).__name__}'"
    if not _NAME.match(task.name or ""):
        raise RegistrationError(f"{label}: name must be snake_case ([a-z][a-z0-9_]*), got {task.name!r}")
    if not task.category or not task.splits:
        raise RegistrationError(f"{label}: set `category` and at least one split")


def _check_reward(reward: Any) -> None:
    if not isinstance(reward, Reward):
        raise RegistrationError(f"register_rewards handed in {reward!r}, which is not a vista.Reward instance")
    if not _NAME.match(reward.name or ""):
        raise RegistrationError(f"reward {type(reward).__name__}: name must be snake_case, got {reward.name!r}")


_CHECKS: dict[str, Callable[[Any], None]] = {"tool": _check_tool, "task": _check_task, "reward": _check_reward}


class _Loader:
    def __init__(self, strict: bool):
        self.strict = strict
        self.registry = Registry()
        self.manager = pluggy.PluginManager(ENTRY_POINT_GROUP)
        self.manager.add_hookspecs(hookspecs)
        self.registry.manager = self.manager

    def fail(self, name: str, dist: str | None, stage: str, error: str) -> None:
        failure = PluginFailure(name=name, distribution=dist, stage=stage, error=error)
        self.registry.failures.append(failure)
        if self.strict:
            raise PluginLoadError(str(failure))
        log.warning("%s", failure)

    def add(self, name: str, plugin: object, info: PluginInfo) -> None:
        undecorated = [h for h in HOOKS if callable(getattr(plugin, h, None)) and
                       self.manager.parse_hookimpl_opts(plugin, h) is None]
        if undecorated:
            self.fail(name, info.distribution, "load",
                      f"{', '.join(undecorated)} is not decorated with @vista.hookimpl, so it would never be called")
            return
        try:
            self.manager.register(plugin, name=name)
        except ValueError as exc:  # the name or the module is already registered (two entry points, one module)
            self.fail(name, info.distribution, "load", f"{exc}; give each plugin its own name and module")
            return
        try:
            self.manager.check_pending()
        except pluggy.PluginValidationError as exc:
            self.manager.unregister(name=name)
            unknown = [h for h in dir(plugin) if self.manager.parse_hookimpl_opts(plugin, h) is not None
                       and h not in HOOKS]
            hints = "".join(f" Unknown hook '{h}'.{did_you_mean(h, HOOKS)}" for h in unknown)
            self.fail(name, info.distribution, "load", f"{exc}.{hints}")
            return
        info.hooks = sorted(c.name for c in self.manager.get_hookcallers(plugin) or [])
        self.registry.plugins[name] = info

    def run_hooks(self) -> None:
        for hook_name in HOOKS:
            kind = _KIND_OF_HOOK[hook_name]
            for impl in getattr(self.manager.hook, hook_name).get_hookimpls():  # registration order
                info = self.registry.plugins[impl.plugin_name]
                staged: list[tuple[str, Any]] = []

                def register(obj: Any, _staged=staged, _kind=kind) -> None:
                    _CHECKS[_kind](obj)
                    _staged.append((obj.name, obj))

                try:
                    impl.function(**({"register": register} if "register" in impl.argnames else {}))
                    self.commit(kind, info, staged)
                except Exception as exc:  # a plugin's hook may raise anything; it must not stop the others
                    self.fail(info.name, info.distribution, hook_name, f"{type(exc).__name__}: {exc}")

    def commit(self, kind: str, info: PluginInfo, staged: list[tuple[str, Any]]) -> None:
        table: dict[str, Any] = getattr(self.registry, f"{kind}s")
        seen: set[str] = set()
        for name, _ in staged:
            owner = self.registry.owners.get((kind, name)) or (info.name if name in seen else None)
            if owner is not None:
                raise RegistrationError(
                    f"{kind} '{name}' is registered by both plugin '{owner}' and plugin '{info.name}'; "
                    f"rename one of them, or select only one plugin with --plugins / {ENV_VAR}"
                )
            seen.add(name)
        for name, obj in staged:
            table[name] = obj
            self.registry.owners[(kind, name)] = info.name
            getattr(info, f"{kind}s").append(name)


def load_plugins(select: str | Iterable[str] | None = None, *, strict: bool | None = None,
                 plugins: Iterable[tuple[str, object]] = ()) -> Registry:
    """Discover, select and load plugins; make the result the process-wide registry and return it.

    ``select``: ``"all"`` (default, or ``$VISTA_PLUGINS``), a comma list of entry-point names, or ``"none"``.
    ``strict``: raise `PluginLoadError` on the first failing plugin instead of reporting it and going on
    (default: ``$VISTA_STRICT_PLUGINS``). ``plugins``: extra in-memory ``(name, plugin)`` pairs (used by tests).
    """
    global _registry
    if strict is None:
        strict = os.environ.get(STRICT_ENV_VAR, "") not in ("", "0", "false")
    selection = parse_selection(select)
    loader = _Loader(strict)
    for name, module_name in BUILTIN_PLUGINS.items():
        loader.add(name, importlib.import_module(module_name), PluginInfo(
            name=name, distribution="vista-core", version=_version("vista-core"), module=module_name, builtin=True))
    entry_points = sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)
    if selection:
        unknown = selection - {ep.name for ep in entry_points} - set(BUILTIN_PLUGINS)
        if unknown:
            available = sorted(ep.name for ep in entry_points)
            hints = "".join(did_you_mean(u, available) for u in sorted(unknown))
            raise PluginLoadError(
                f"selected plugin(s) {', '.join(sorted(unknown))} not installed.{hints} "
                f"Installed: {', '.join(available) or 'none'}; install the distribution or fix --plugins/{ENV_VAR}."
            )
    for ep in entry_points:
        if selection is not None and ep.name not in selection:
            continue
        dist = ep.dist.name if ep.dist else None
        try:
            module = ep.load()
        except Exception as exc:  # any import-time error of a third-party plugin is reported, not fatal
            loader.fail(ep.name, dist, "import", f"{type(exc).__name__}: {exc}")
            continue
        if isinstance(module, types.ModuleType) and getattr(module, "__file__", None) is None:
            loader.fail(ep.name, dist, "import", f"'{ep.value}' resolved to an empty namespace package (a folder "
                        f"{ep.value}/ on sys.path, e.g. the current directory, hides the installed package); "
                        "run from another directory or install the distribution in compat editable mode")
            continue
        loader.add(ep.name, module, PluginInfo(
            name=ep.name, distribution=dist, version=ep.dist.version if ep.dist else None, module=ep.value))
    for name, plugin in plugins:
        loader.add(name, plugin, PluginInfo(name=name, module=getattr(plugin, "__name__", repr(plugin))))
    loader.run_hooks()
    with _lock:
        _registry = loader.registry
    for listener in _on_load:
        listener(loader.registry)
    return loader.registry


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


_registry: Registry | None = None
_lock = threading.Lock()
_on_load: list[Callable[[Registry], None]] = []


def on_load(listener: Callable[[Registry], None]) -> None:
    """Call ``listener(registry)`` after every `load_plugins` (the environment registers Gymnasium ids this way)."""
    _on_load.append(listener)


def get_registry() -> Registry:
    """The process-wide registry, loading plugins with the default selection on first use."""
    if _registry is None:
        return load_plugins()
    return _registry


def get_tools() -> dict[str, Tool]:
    return dict(get_registry().tools)


def get_tasks() -> dict[str, Task]:
    return dict(get_registry().tasks)


def get_rewards() -> dict[str, Reward]:
    return dict(get_registry().rewards)
