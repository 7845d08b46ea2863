"""The concurrent episode runner: many episodes in flight so that policy generation and tool latency overlap.

    runner = EpisodeRunner(policy, concurrency=64, log=TrajectoryLog("runs/x"))
    trajectories = runner.run(EpisodeSpec(task="chart_bar", seed=s) for s in range(1000))

``policy(observation) -> str`` may be a plain function (run in a worker thread, so a slow one does not block the
others) or a coroutine function (awaited: remote endpoints). Tool calls go through the shared `ToolExecutor`
(per-tool concurrency limits, timeouts). With a log, finished episodes are written as they finish and a rerun with
the same specs skips them: a killed run resumes where it stopped.

One word per loop that plays episodes: the *runner* here (any policy, one call per observation, episodes in flight
independently: `vista eval`, expert synthesis); *play* (`vista_trainer.episodes.play`: a local model's turns
generated for every live episode in one batch, lock-step: the trainer's evaluation); the *rollout*
(`vista_trainer.rollout.EpisodeRollout`: GRPO's ``rollout_func``, token ids as sampled). The two trainer loops step
their environments with one driver (`vista_trainer.episodes.StepTogether`).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Union

from . import plugins
from .env import VistaEnv
from .errors import VistaError
from .execution import ToolExecutor
from .images import StorageError
from .task import Example
from .trajectory import Trajectory
from .trajectory_log import TrajectoryLog

Policy = Callable[[dict], Union[str, Awaitable[str]]]
log = logging.getLogger(__name__)


class EpisodeRunError(VistaError):
    """Some episodes failed (their policy or task raised). Every other episode was played and logged; a rerun with
    the same specs and log plays only the failed ones."""

    def __init__(self, failures: list[str], finished: list[Trajectory]):
        shown = "\n  ".join(failures[:5]) + ("\n  …" if len(failures) > 5 else "")
        super().__init__(f"{len(failures)} episode(s) failed, {len(finished)} finished:\n  {shown}")
        self.failures, self.finished = failures, finished


@dataclass(frozen=True)
class EpisodeSpec:
    """One episode to play: a task and either a seed (drawn example) or an explicit example; ``sample`` numbers
    repeated plays of the same example (GRPO groups)."""

    task: str
    seed: int | None = None
    example: Example | None = field(default=None, compare=False)
    sample: int = 0

    def __post_init__(self) -> None:
        if self.seed is None and self.example is None:
            raise ValueError(f"EpisodeSpec('{self.task}') needs a seed or an example: the seed names the episode, "
                             "so a resumed run knows whether it was played")

    @property
    def key(self) -> str:
        which = self.example.id if self.example is not None else f"seed:{self.seed}"
        return f"{self.task}|{which}|{self.sample}"


class EpisodeRunner:
    """Plays episodes concurrently. ``env_kwargs`` go to every `VistaEnv` (tools, reward, max_turns, split...)."""

    def __init__(self, policy: Policy, *, concurrency: int = 8, executor: ToolExecutor | None = None,
                 log: TrajectoryLog | None = None, registry: plugins.Registry | None = None,
                 on_episode: Callable[[Trajectory], None] | None = None, **env_kwargs: Any):
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        self.policy = policy
        self.concurrency = concurrency
        self.executor = executor or ToolExecutor()
        self.log = log
        self.registry = registry or plugins.get_registry()
        self.on_episode = on_episode
        self.env_kwargs = env_kwargs
        self._datasets: dict[str, list[Example]] = {}

    def _env(self, task_name: str, draws_example: bool) -> VistaEnv:
        task = self.registry.task(task_name)
        kwargs = dict(self.env_kwargs)
        if draws_example and not task.procedural and "examples" not in kwargs:
            if task_name not in self._datasets:  # load a dataset once, not once per episode
                self._datasets[task_name] = list(task.load(kwargs.get("split", "train"), kwargs.get("data_dir")))
            kwargs["examples"] = self._datasets[task_name]
        return VistaEnv(task, executor=self.executor, registry=self.registry, **kwargs)

    async def _act(self, observation: dict) -> str:
        if inspect.iscoroutinefunction(self.policy) or inspect.iscoroutinefunction(type(self.policy).__call__):
            return await self.policy(observation)
        action = await asyncio.to_thread(self.policy, observation)
        return await action if inspect.isawaitable(action) else action

    async def play(self, spec: EpisodeSpec) -> Trajectory:
        env = self._env(spec.task, draws_example=spec.example is None)
        options = {"example": spec.example} if spec.example is not None else None
        observation, _ = env.reset(seed=spec.seed, options=options)
        while True:
            action = await self._act(observation)
            observation, _, terminated, truncated, info = await env.astep(action)
            if terminated or truncated:
                break
        trajectory: Trajectory = info["trajectory"]
        trajectory.metadata.update(sample=spec.sample, episode_key=spec.key)
        if self.log is not None:
            await asyncio.to_thread(self.log.append, trajectory, env.images)
        if self.on_episode is not None:
            self.on_episode(trajectory)
        return trajectory

    async def arun(self, episodes: Iterable[EpisodeSpec]) -> list[Trajectory]:
        """Play every episode not already in the log, or logged with an environment fault (a tool server down, a
        timeout: it says nothing sure about the policy, so a rerun plays it again); returns the trajectories played
        now, in spec order."""
        done = {t.metadata.get("episode_key") for t in self.log.latest() if not t.environment_faults} \
            if self.log is not None else set()
        todo = [spec for spec in episodes if spec.key not in done]
        results: list[Trajectory | None] = [None] * len(todo)
        queue = iter(enumerate(todo))

        failed: list[str] = []

        stopped: list[StorageError] = []

        async def worker() -> None:
            for index, spec in queue:  # a shared iterator: each spec is taken by exactly one worker
                if stopped:
                    return
                try:
                    results[index] = await self.play(spec)
                except StorageError as exc:  # the run's own files cannot be written: every episode would fail alike
                    stopped.append(exc)
                    return
                except Exception as exc:  # a policy or task fault ends this episode only; the others go on
                    log.exception("episode %s failed", spec.key)
                    failed.append(f"{spec.key}: {type(exc).__name__}: {exc}")

        await asyncio.gather(*(worker() for _ in range(min(self.concurrency, len(todo)) or 1)))
        if stopped:  # at once, once: the episodes finished before it are in the log, a rerun plays the rest
            raise stopped[0]
        if failed:
            raise EpisodeRunError(failed, [r for r in results if r is not None])
        return [r for r in results if r is not None]

    def run(self, episodes: Iterable[EpisodeSpec]) -> list[Trajectory]:
        return asyncio.run(self.arun(episodes))
