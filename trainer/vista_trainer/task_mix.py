"""The run's tasks and what an episode of them offers: which registered tasks it trains and evaluates on (named, or
the procedural ones with a playable oracle), their examples mixed round-robin, and each episode's environment
settings, system prompt and offered tools (none in the w/o-tools ablation)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import vista
from vista.prompts import render_system

from .config import VistaTrainConfig


class TaskMix:
    def __init__(self, config: VistaTrainConfig, registry: vista.Registry):
        self.cfg = config
        self.registry = registry
        self.tasks = [self._configured(registry.tasks[name]) for name in self._names()]

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.tasks]

    def _names(self) -> list[str]:
        registered = self.registry.tasks
        if self.cfg.tasks != "auto":
            names = [n.strip() for n in self.cfg.tasks.split(",") if n.strip()]
            unknown = [n for n in names if n not in registered]
            if unknown:
                raise ValueError(f"unknown task(s) {unknown}; registered tasks: {sorted(registered)}")
            return names
        preferred = [n.strip() for n in self.cfg.default_tasks.split(",")]
        names = [n for n in preferred if n in registered and self._playable(registered[n])]
        if not names:
            names = sorted(n for n, t in registered.items() if t.procedural and self._playable(t))
        if not names:
            raise ValueError("no registered procedural task has an oracle whose tools are registered; install "
                             "vista-tasks and the tool packages, or name tasks with --tasks")
        return names

    def _playable(self, task: vista.Task) -> bool:
        if not task.procedural:
            return False
        try:
            example = next(iter(task.load("train", seed=0, limit=1)))
            solution = task.oracle(example)
        except NotImplementedError:
            return False
        return solution is not None and all(s.tool in self.registry.tools for s in solution.steps if s.tool)

    def _configured(self, task: vista.Task) -> vista.Task:
        """The task at the configured difficulty, where its class takes a config with one."""
        config_class = getattr(type(task), "Config", None)
        if config_class is None or "difficulty" not in getattr(config_class, "__dataclass_fields__", {}):
            return task
        return type(task)(config_class(difficulty=self.cfg.difficulty))

    def examples(self, split: str, count: int, seed: int) -> list[vista.Example]:
        """``count`` examples spread over the tasks round-robin, from consecutive seeds starting at ``seed``."""
        per_task = [list(task.load(split, seed=seed, limit=-(-count // len(self.tasks)))) for task in self.tasks]
        mixed = [e for group in zip(*per_task) for e in group]
        return mixed[:count]

    def env_kwargs(self, tools: bool = True) -> dict[str, Any]:
        tools = tools and self.cfg.uses_tools
        return {"tools": self.cfg.tools if tools else "none", "reward": self.cfg.reward,
                "max_turns": self.cfg.max_turns, "split": "train"}

    def system_prompt(self, tools: bool = True) -> Callable[[str], str | None]:
        """Each task's system template (a name in `vista.prompts.SYSTEM_PROMPTS`); with no tools, the core's
        no-tools prompt."""
        style = self.cfg.system_prompt if tools and self.cfg.uses_tools else None
        return lambda task: style

    def rendered_system_prompts(self) -> list[str]:
        tools = self.env_kwargs()["tools"]
        return [render_system(vista.VistaEnv(t, tools=tools, registry=self.registry).tools,
                              self.cfg.max_turns, self.system_prompt()(t.name)) for t in self.tasks]

    def offered_tools(self) -> list[str]:
        tools = self.env_kwargs()["tools"]
        return sorted({tool.name for t in self.tasks
                       for tool in vista.VistaEnv(t, tools=tools, registry=self.registry).tools})
