"""A mixture of tasks: weighted, seeded sampling of examples across tasks, and metrics kept per task.

    mixture = Mixture({"chartqa": 2.0, "geometry3k": 1.0, "chart_bar": 1.0}, seed=7)
    batch = mixture.sample(32)                   # same seed, same batch
    metrics = MixtureMetrics(mixture.weights)
    metrics.add(example, mixture.score(prediction, example))
    metrics.summary()                            # per task, micro, macro, weighted, by distribution
"""

from __future__ import annotations

import itertools
import math
import os
import random
from collections import defaultdict
from collections.abc import Iterator, Mapping

from vista import Example, Task, get_tasks
from vista.errors import did_you_mean


class Mixture:
    """Draws examples from several tasks, each drawn with probability proportional to its weight.

    - `weights`: task (instance or registered name) -> positive weight.
    - `split`: one split for every task, or task name -> split; a task's first split by default.
    - `data_dirs`: task name -> data folder (else each task finds its own, see `Benchmark`).
    - `pool_size`: at most this many examples are loaded per task (all of them by default).
    - `seed`: the task choices and each task's order of examples follow from it alone.

    A task's examples are loaded on its first draw, then served in a seeded shuffled order, reshuffled at each
    pass, so that a task is never repeated before its pool is used up."""

    def __init__(self, weights: Mapping[Task | str, float], *, split: str | Mapping[str, str] | None = None,
                 data_dirs: Mapping[str, str | os.PathLike] | None = None, pool_size: int | None = None,
                 seed: int = 0):
        if not weights:
            raise ValueError("a Mixture needs at least one task: pass {task or name: weight}")
        if pool_size is not None and pool_size < 1:
            raise ValueError(f"pool_size must be a positive number of examples, got {pool_size}")
        self.tasks: dict[str, Task] = {}
        self.weights: dict[str, float] = {}
        for key, weight in weights.items():
            task = key if isinstance(key, Task) else _registered(key)
            if not (isinstance(weight, (int, float)) and math.isfinite(weight) and weight > 0):
                raise ValueError(f"weight of task '{task.name}' must be a positive finite number, got {weight!r}")
            self.tasks[task.name] = task
            self.weights[task.name] = float(weight)
        self.splits = {name: self._split_of(task, split) for name, task in self.tasks.items()}
        unknown = set(data_dirs or {}) - set(self.tasks)
        if unknown:
            raise ValueError(f"data_dirs names tasks not in the mixture: {', '.join(sorted(unknown))}")
        self.data_dirs = dict(data_dirs or {})
        self.pool_size = pool_size
        self.seed = seed
        self._pools: dict[str, list[Example]] = {}

    @staticmethod
    def _split_of(task: Task, split: str | Mapping[str, str] | None) -> str:
        chosen = split.get(task.name) if isinstance(split, Mapping) else split
        chosen = chosen or task.splits[0]
        if chosen not in task.splits:
            raise ValueError(f"task '{task.name}' has no split {chosen!r}; its splits are {', '.join(task.splits)}."
                             + did_you_mean(chosen, task.splits))
        return chosen

    def pool(self, name: str) -> list[Example]:
        """The examples a task contributes, loaded once."""
        if name not in self._pools:
            task = self.tasks[name]
            pool = list(task.load(self.splits[name], self.data_dirs.get(name), seed=self.seed,
                                  limit=self.pool_size))
            if not pool:
                raise ValueError(f"task '{name}' yielded no examples for split '{self.splits[name]}'")
            self._pools[name] = pool
        return self._pools[name]

    def _task_stream(self, name: str) -> Iterator[Example]:
        pool = self.pool(name)
        for epoch in itertools.count():
            order = list(range(len(pool)))
            random.Random(f"{self.seed}:{name}:{epoch}").shuffle(order)
            for index in order:
                yield pool[index]

    def __iter__(self) -> Iterator[Example]:
        """An endless stream of examples; the same seed gives the same stream."""
        names = list(self.weights)
        cumulative = list(itertools.accumulate(self.weights[n] for n in names))
        chooser = random.Random(f"{self.seed}:tasks")
        streams: dict[str, Iterator[Example]] = {}
        while True:
            name = chooser.choices(names, cum_weights=cumulative)[0]
            if name not in streams:
                streams[name] = self._task_stream(name)
            yield next(streams[name])

    def sample(self, n: int) -> list[Example]:
        """The first `n` examples of the stream."""
        if n < 0:
            raise ValueError(f"cannot sample {n} examples")
        return list(itertools.islice(iter(self), n))

    def score(self, prediction: str | None, example: Example) -> float:
        """The example's own task's official metric."""
        if example.task not in self.tasks:
            raise ValueError(f"example {example.id} is from task '{example.task}', which is not in this mixture "
                             f"({', '.join(self.tasks)})")
        return self.tasks[example.task].score(prediction, example)


class MixtureMetrics:
    """Scores gathered per task. `summary()` gives each task's count and mean, the mean over all examples
    (micro), the mean of task means (macro), the mean of task means weighted by the mixture weights (weighted),
    and macro means per `distribution` ("id"/"ood") of the tasks that declare one."""

    def __init__(self, weights: Mapping[str, float] | None = None,
                 distributions: Mapping[str, str] | None = None):
        self.weights = dict(weights or {})
        self.distributions = dict(distributions or {})
        self.scores: dict[str, list[float]] = defaultdict(list)

    @classmethod
    def for_mixture(cls, mixture: Mixture) -> MixtureMetrics:
        return cls(mixture.weights, {name: getattr(task, "distribution", None)
                                     for name, task in mixture.tasks.items()
                                     if getattr(task, "distribution", None)})

    def add(self, example: Example | str, score: float) -> None:
        if not (0.0 <= score <= 1.0):
            raise ValueError(f"a score must lie in [0, 1], got {score}")
        self.scores[example if isinstance(example, str) else example.task].append(float(score))

    def summary(self) -> dict:
        tasks = {name: {"n": len(values), "mean": sum(values) / len(values)}
                 for name, values in sorted(self.scores.items()) if values}
        everything = [s for values in self.scores.values() for s in values]
        result: dict = {
            "tasks": tasks,
            "n": len(everything),
            "micro": sum(everything) / len(everything) if everything else None,
            "macro": sum(t["mean"] for t in tasks.values()) / len(tasks) if tasks else None,
        }
        weighted = [(self.weights[name], t["mean"]) for name, t in tasks.items() if name in self.weights]
        total = sum(w for w, _ in weighted)
        result["weighted"] = sum(w * m for w, m in weighted) / total if total else None
        groups: dict[str, list[float]] = defaultdict(list)
        for name, t in tasks.items():
            if name in self.distributions:
                groups[self.distributions[name]].append(t["mean"])
        result["by_distribution"] = {group: sum(means) / len(means) for group, means in sorted(groups.items())}
        return result


def _registered(name: str) -> Task:
    tasks = get_tasks()
    if name not in tasks:
        raise ValueError(f"no task named '{name}' is registered.{did_you_mean(name, tasks)} "
                         "Install the plugin that provides it, or pass the Task instance itself.")
    return tasks[name]
