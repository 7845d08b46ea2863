"""Evaluation: run a policy through the environment on a set of tasks and summarise it the way the paper does.

`evaluate` plays every (task, example, sample) episode with the concurrent episode runner, logging trajectories to
the run directory (so an interrupted evaluation resumes where it stopped), then `summarize` computes per-benchmark
accuracy with each benchmark's official scorer, in-distribution / out-of-distribution / overall averages, the E1–E6
error attribution and tool-usage statistics. `vista.report` writes them as JSON, Markdown and HTML.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import os
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import plugins
from .attribution import error_attribution
from .builtin.hierarchical_reward import HierarchicalReward, format_valid
from .execution import ToolExecutor
from .locks import RunLock
from .policies import load_policy
from .prompts import SYSTEM_PROMPTS, USER_PROMPT
from .runner import EpisodeRunner, EpisodeSpec
from .task import Example
from .trajectory import Trajectory
from .trajectory_log import TrajectoryLog

MODES: dict[str, str] = {
    "tools": "the task's recommended tools (all tools when it recommends none)",
    "no_tools": "no tools: plain chain of thought",
    "all_tools": "every registered tool, no hint",
    "prior": "every registered tool, with the task's recommended tools named in the question (tool-selection prior)",
    "tools_only": "the task's recommended tools, no reasoning: an empty <think> is asked for and not penalised",
}
# The paper's Table 5 (tools and reasoning apart and together) in these modes
TABLE5_MODES = {"w/ Tools": "tools_only", "w/ Reasoning": "no_tools", "w/ T&R": "tools"}
NO_REASONING = ("\nDo not reason: write an empty <think></think>, then call a tool or answer directly.")


@dataclass
class EvalConfig:
    tasks: list[str]
    """Task names or ids to evaluate on."""
    split: str = "test"
    """Split of every task."""
    limit: int | None = 50
    """Examples per task (None: the whole split of a dataset; procedural tasks need a number)."""
    seed: int = 0
    """Seed of procedural examples and of sampling."""
    samples: int = 1
    """Episodes per example (pass@1 averages over them)."""
    mode: str = "tools"
    """One of MODES."""
    max_turns: int = 3
    """Tool turns per episode."""
    concurrency: int = 8
    """Episodes in flight."""
    data_dir: str | None = None
    """Root folder of the datasets (each task in <data_dir>/<task name>), else each task's environment variable."""
    system_prompt: str = "full"
    """System prompt: a name in `vista.prompts.SYSTEM_PROMPTS` (``full``, ``compact``) or a `str.format` template;
    evaluate a trained policy with the prompt it was trained with (vista-train's default is ``compact``)."""
    difficulty: int | None = None
    """Difficulty of the procedural tasks that take one (0, 1 or 2; None: each task's default). A `vista-train`
    run evaluates at its own ``difficulty`` (0 by default), so replaying its evaluation needs the same value."""

    def validate(self) -> EvalConfig:
        if not self.tasks:
            raise ValueError("give at least one task (--tasks chart_bar,tabmwp)")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got '{self.mode}'")
        if self.samples < 1 or self.concurrency < 1 or self.max_turns < 0:
            raise ValueError("samples and concurrency must be >= 1 and max_turns >= 0")
        if "{" not in self.system_prompt and self.system_prompt not in SYSTEM_PROMPTS:
            raise ValueError(f"system_prompt must be one of {', '.join(SYSTEM_PROMPTS)} or a template with "
                             f"{{tools}} or {{tool_signatures}}, got '{self.system_prompt}'")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"limit must be >= 1 or None, got {self.limit}")
        return self


def configured_task(task, difficulty: int | None):
    """``task`` at ``difficulty`` when given; a task whose config has no difficulty refuses one."""
    if difficulty is None:
        return task
    config = getattr(task, "config", None)
    if config is None or not dataclasses.is_dataclass(config) or not hasattr(config, "difficulty"):
        raise ValueError(f"task '{task.name}' has no difficulty setting; give --difficulty only with procedural "
                         "tasks that take one")
    return type(task)(dataclasses.replace(config, difficulty=difficulty))  # the task's constructor validates it


def _examples(task, config: EvalConfig) -> list[Example]:
    task = configured_task(task, config.difficulty)
    if task.procedural and config.limit is None:
        raise ValueError(f"task '{task.name}' is procedural: give --limit, the number of examples to generate")
    data_dir = str(Path(config.data_dir) / task.name) if config.data_dir else None
    loaded = task.load(config.split, data_dir, seed=config.seed, limit=config.limit)
    return list(itertools.islice(loaded, config.limit)) if config.limit else list(loaded)


def _env_kwargs(config: EvalConfig, task) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"split": config.split, "max_turns": config.max_turns,
                              "system_prompt": config.system_prompt}
    if config.mode in ("tools", "tools_only"):
        kwargs["tools"] = "recommended"
    elif config.mode == "no_tools":
        kwargs["tools"] = "none"
    else:
        kwargs["tools"] = "all"
    if config.mode == "prior" and task.recommended_tools:
        hint = ", ".join(task.recommended_tools)
        kwargs["user_prompt"] = (task.prompt_template or USER_PROMPT) + f"\nTools likely to help here: {hint}."
    if config.mode == "tools_only":
        kwargs["user_prompt"] = (task.prompt_template or USER_PROMPT) + NO_REASONING
        kwargs["reward"] = HierarchicalReward(min_think_words=0)
    return kwargs


class EpisodeProgress:
    """Episodes done per task with the running accuracy (rich), on stderr; silent when not shown. Used by
    `evaluate` and by the trainer's expert synthesis."""

    def __init__(self, show: bool):
        self.bars = None
        if show:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bars = Progress(TextColumn("{task.description:<18}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("accuracy {task.fields[accuracy]}"), TimeRemainingColumn(), transient=False)
        self.ids: dict[str, Any] = {}
        self.scores: dict[str, list[float]] = defaultdict(list)

    def __enter__(self) -> EpisodeProgress:
        if self.bars is not None:
            self.bars.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.bars is not None:
            self.bars.stop()

    def add(self, task: str, total: int, done: list[Trajectory]) -> None:
        self.scores[task] = [t.score or 0.0 for t in done]
        if self.bars is not None:
            self.ids[task] = self.bars.add_task(task, total=total, completed=len(done), accuracy=self._accuracy(task))

    def _accuracy(self, task: str) -> str:
        scores = self.scores[task]
        return f"{100 * statistics.fmean(scores):5.1f}%" if scores else "   – "

    def episode(self, trajectory: Trajectory) -> None:
        self.scores[trajectory.task].append(trajectory.score or 0.0)
        if self.bars is not None and trajectory.task in self.ids:
            self.bars.update(self.ids[trajectory.task], advance=1, accuracy=self._accuracy(trajectory.task))


def evaluate(policy: str | Callable, config: EvalConfig, run_dir: str | Path, *,
             registry: plugins.Registry | None = None, policy_options: dict | None = None,
             on_episode: Callable[[Trajectory], None] | None = None, progress: bool = False) -> dict:
    """Evaluate and write ``results.json`` beside the trajectories; returns the results. ``progress`` shows a bar
    per task with its running accuracy on stderr. The run directory is made only once the tasks, their examples
    and the policy have loaded, so a bad input leaves nothing behind; a rerun on the same directory resumes."""
    config.validate()
    registry = registry or plugins.get_registry()
    run_dir = Path(run_dir)
    tasks = [registry.task(name) for name in config.tasks]
    examples = {task.name: _examples(task, config) for task in tasks}
    if isinstance(policy, str):
        policy = load_policy(policy, examples={(e.task, e.id): e for ex in examples.values() for e in ex},
                             tasks=registry.tasks, **(policy_options or {}))
    with RunLock(run_dir):  # a second `vista eval` on this directory is refused, never counted twice
        return _evaluate(policy, config, run_dir, registry, tasks, examples, on_episode, progress)


def _evaluate(policy, config: EvalConfig, run_dir: Path, registry: plugins.Registry, tasks: list, examples: dict,
              on_episode: Callable[[Trajectory], None] | None, progress: bool) -> dict:
    log = TrajectoryLog(run_dir)
    (run_dir / "eval_config.json").write_text(json.dumps(
        {**asdict(config), "policy": policy if isinstance(policy, str) else repr(policy)}, indent=2))
    keys: set[str] = set()
    executor = ToolExecutor()
    specs = {task.name: [EpisodeSpec(task.name, example=e, seed=config.seed, sample=k)
                         for e in examples[task.name] for k in range(config.samples)] for task in tasks}
    logged = {t.metadata.get("episode_key"): t for t in log.latest() if not t.environment_faults}

    async def play_all(bars: EpisodeProgress) -> None:  # one event loop for every task: async policies keep connections
        def episode_done(trajectory: Trajectory) -> None:
            bars.episode(trajectory)
            if on_episode is not None:
                on_episode(trajectory)

        for task in tasks:
            bars.add(task.name, len(specs[task.name]), [logged[s.key] for s in specs[task.name] if s.key in logged])
        for task in tasks:
            keys.update(spec.key for spec in specs[task.name])
            await EpisodeRunner(policy, concurrency=config.concurrency, log=log, registry=registry,
                                executor=executor, on_episode=episode_done,
                                **_env_kwargs(config, task)).arun(specs[task.name])

    try:
        with EpisodeProgress(progress) as bars:
            asyncio.run(play_all(bars))
    finally:
        executor.close()
    logged_now = [t for t in log.latest() if t.metadata.get("episode_key") in keys]
    results = summarize(logged_now, registry)
    results["episodes"] = episode_rows(logged_now)
    results["config"] = asdict(config)
    results["host"] = {"cpu_cores": os.cpu_count()}
    (run_dir / "results.json").write_text(json.dumps(results, indent=2))
    return results


def episode_rows(trajectories: Iterable[Trajectory]) -> list[dict]:
    """One row per episode for reports: ``id`` is the trajectory's id, by which `vista view` finds it whatever
    folder the viewer was started on (`vista.viewer.episode_address`)."""
    return [{"id": t.id, "task": t.task, "example_id": t.example_id, "sample": t.metadata.get("sample", 0),
             "correct": bool(t.correct), "reward": t.reward,
             "primary_error": t.primary_error.value if t.primary_error else None} for t in trajectories]


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def tool_usage(trajectories: Iterable[Trajectory]) -> dict:
    trajectories = list(trajectories)
    calls = [call for t in trajectories for call in t.tool_calls]
    per_tool: dict[str, list] = defaultdict(list)
    for call in calls:
        per_tool[call.name or "(unparsed)"].append(call)
    table = {}
    for name, items in sorted(per_tool.items()):
        executed = [c.latency_s for c in items if c.output_text is not None]
        failures = Counter(c.error.error_class.value for c in items if c.error is not None)
        table[name] = {"calls": len(items), "share": len(items) / len(calls),
                       "latency_p50_s": _percentile(executed, 0.5), "latency_p95_s": _percentile(executed, 0.95),
                       "failure_rate": sum(failures.values()) / len(items),
                       "failures_by_class": dict(sorted(failures.items()))}
    return {"calls": len(calls), "calls_per_episode": len(calls) / len(trajectories) if trajectories else 0.0,
            "episodes_with_tools": sum(1 for t in trajectories if t.tool_calls) / len(trajectories)
            if trajectories else 0.0, "per_tool": table}


def summarize(trajectories: list[Trajectory], registry: plugins.Registry) -> dict:
    """Accuracy, format, errors and tool usage per task and overall, over the episodes that are the policy's: an
    episode that met an environment fault (a tool server down, a timeout, a crash) is counted apart, under
    ``environment_faults``, and a rerun of the same command plays it again."""
    faulted = [t for t in trajectories if t.environment_faults]
    trajectories = [t for t in trajectories if not t.environment_faults]
    by_task: dict[str, list[Trajectory]] = defaultdict(list)
    for trajectory in trajectories:
        by_task[trajectory.task].append(trajectory)
    per_task = {}
    for name, items in sorted(by_task.items()):
        task = registry.tasks.get(name)
        per_task[name] = {
            "n": len(items),
            "accuracy": statistics.fmean(t.score or 0.0 for t in items),
            "format_rate": statistics.fmean(1.0 if format_valid(t) else 0.0 for t in items),
            "tool_calls_per_episode": statistics.fmean(len(t.tool_calls) for t in items),
            "distribution": task.distribution if task is not None else "id",
            "category": getattr(task, "category", ""),
        }

    def mean_of(rows: list[dict]) -> float | None:
        return statistics.fmean(r["accuracy"] for r in rows) if rows else None

    rows = list(per_task.values())
    return {
        "per_task": per_task,
        "averages": {"in_distribution": mean_of([r for r in rows if r["distribution"] == "id"]),
                     "out_of_distribution": mean_of([r for r in rows if r["distribution"] == "ood"]),
                     "overall": mean_of(rows)},
        "format_rate": statistics.fmean(r["format_rate"] for r in rows) if rows else None,
        "errors": error_attribution(trajectories),
        "tools": tool_usage(trajectories),
        "environment_faults": {
            "episodes": len(faulted),
            "by_task": dict(sorted(Counter(t.task for t in faulted).items())),
            "by_cause": dict(sorted(Counter(f"{e.tool}: {e.code}" for t in faulted
                                            for e in t.environment_faults).items())),
        },
    }


def detect_tool_collapse(metrics: list[dict], key: str = "tool_calls_per_episode", window: int = 5,
                         ratio: float = 0.2, floor: float = 0.1) -> dict:
    """Tool-use collapse over a training run: the mean of ``key`` over the last ``window`` logged steps fell below
    ``ratio`` times its mean over the first ``window`` and below ``floor`` calls per episode."""
    values = [float(m[key]) for m in metrics if key in m]
    if len(values) < 2 * window:
        return {"collapsed": False, "reason": f"fewer than {2 * window} logged values of '{key}'"}
    first, last = statistics.fmean(values[:window]), statistics.fmean(values[-window:])
    collapsed = first > 0 and last < ratio * first and last < floor
    return {"collapsed": collapsed, "first": first, "last": last,
            "reason": f"{key} went from {first:.2f} to {last:.2f}"}

