"""Episodes as the trainer's loops keep them (`Episode`: a trajectory and its images; `TokenEpisode`: GRPO's, as token
ids), playing many `VistaEnv` episodes in lock-step with a batched policy, and the metrics of a set of trajectories.

`EpisodeRunner` keeps episodes in flight with one policy call per observation; a local model on CPU is much faster
when every live episode's next turn is generated in one batch, so GRPO and evaluation step the environments
together: generate for all live episodes, step them all at once (`StepTogether`), drop the finished ones, repeat.
The tool calls and everything after them (parser, validation, execution, reward) are the environment's, unchanged.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import vista
from PIL import Image
from vista.attribution import PRIMARY_CLASSES, primary_error
from vista.builtin.hierarchical_reward import format_valid, repetition_penalty
from vista.errors import ErrorClass
from vista.execution import ToolExecutor
from vista.trajectory import Trajectory

if TYPE_CHECKING:
    import torch

CALL_CLASSES = (ErrorClass.E1, ErrorClass.E2, ErrorClass.E3, ErrorClass.E4, ErrorClass.E5)


@dataclass
class Episode:
    trajectory: Trajectory
    images: dict[str, Image.Image]
    example: vista.Example


@dataclass
class TokenEpisode:
    """One episode as token ids: the prompt, then the completion (policy turns and environment tokens)."""

    env: vista.VistaEnv
    prompt_ids: list[int]
    images: list[Image.Image]
    image_inputs: list[dict[str, torch.Tensor]]  # the image tensors of each processor call (`Encoded.image_inputs`)
    messages_seen: int
    completion_ids: list[int] = field(default_factory=list)
    env_mask: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    trajectory: Trajectory | None = None
    reward: float | None = None
    # where the last environment tokens began (completion length, images, pixel chunks): undone if no turn follows
    bridge: tuple[int, int, int] | None = None

    @property
    def ids(self) -> list[int]:
        return self.prompt_ids + self.completion_ids

    @property
    def done(self) -> bool:
        return self.trajectory is not None


class StepTogether:
    """Steps many environments at once: every tool call of their actions runs concurrently (`VistaEnv.astep` on one
    event loop, within the executor's per-tool limits; a remote tool's client batches the calls made together), and
    the outcomes (each step's return) come back in the order given, whatever finished first. The loop is this
    object's, one for its lifetime in a thread of its own: a caller inside a running event loop (a notebook) is served
    too, and the executor's per-loop limits stay the same objects from turn to turn (a new loop per turn could reuse
    a finished loop's id and meet semaphores bound to it). Used by both lock-step loops: `play` (evaluation) and
    `EpisodeRollout` (GRPO)."""

    def __init__(self):
        self.loop: asyncio.AbstractEventLoop | None = None

    def __call__(self, envs: Sequence[vista.VistaEnv], actions: Sequence[str]) -> list[tuple]:
        async def together():
            return await asyncio.gather(*(env.astep(action) for env, action in zip(envs, actions)))

        if self.loop is None:
            self.loop = asyncio.new_event_loop()
            threading.Thread(target=self.loop.run_forever, name="vista-steps", daemon=True).start()
        return list(asyncio.run_coroutine_threadsafe(together(), self.loop).result())

    def close(self) -> None:
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.loop = None


def play(generate: Callable[[Sequence[dict]], list[str]], examples: Sequence[vista.Example], *,
         registry: vista.Registry, executor: ToolExecutor, env_kwargs: dict[str, Any],
         system_prompt: Callable[[str], str | None] = lambda task: None) -> list[Episode]:
    """Play one episode per example (repeat an example for a GRPO group) in lock step: one batched generation for
    the live episodes, then their tool calls all at once (`StepTogether`); results in the order given."""
    envs, observations = [], []
    for example in examples:
        task = registry.task(example.task)
        env = vista.VistaEnv(task, registry=registry, executor=executor, system_prompt=system_prompt(task.name),
                             **env_kwargs)
        observation, _ = env.reset(options={"example": example})
        envs.append(env)
        observations.append(observation)
    done: dict[int, Episode] = {}
    live = list(range(len(envs)))
    steps = StepTogether()
    try:
        while live:
            actions = generate([observations[i] for i in live])
            still = []
            for i, outcome in zip(live, steps([envs[i] for i in live], actions)):
                observations[i], _, terminated, truncated, info = outcome
                if terminated or truncated:
                    done[i] = Episode(info["trajectory"], envs[i].images, examples[i])
                else:
                    still.append(i)
            live = still
    finally:
        steps.close()
    return [done[i] for i in range(len(envs))]


def format_ok(trajectory: Trajectory) -> bool:
    """The hierarchical reward's format test: well-formed turns with reasoning, valid calls (no E1-E3), one final
    answer."""
    return format_valid(trajectory)


def episode_metrics(trajectories: Sequence[Trajectory], tool_names: Sequence[str] = ()) -> dict[str, float]:
    """Accuracy, format rate, repetition rate, reward, E1-E5 per tool call, every primary error class (E1-E6,
    NO_TOOL, FORMAT, TOOL_FAILURE) of failed episodes, and tool-call counts per tool (``tools/<name>``, every
    offered tool present, zeros included)."""
    n = len(trajectories) or 1
    calls = [call for t in trajectories for call in t.tool_calls]
    per_call = Counter(call.error.error_class for call in calls if call.error is not None)
    failed = [t for t in trajectories if not t.correct]
    primary = Counter(t.primary_error or primary_error(t) for t in failed)
    counts = Counter(call.name or "<unparsed>" for call in calls)
    out = {
        "accuracy": sum(bool(t.correct) for t in trajectories) / n,
        "format_rate": sum(format_ok(t) for t in trajectories) / n,
        "repetition_rate": sum(repetition_penalty(t)[0] < 0 for t in trajectories) / n,
        "reward": sum(t.reward or 0.0 for t in trajectories) / n,
        "reward_sd": statistics.pstdev([t.reward or 0.0 for t in trajectories]) if trajectories else 0.0,
        "tool_calls_per_episode": len(calls) / n,
        "turns_per_episode": sum(len(t.steps) for t in trajectories) / n,
    }
    for cls in CALL_CLASSES:
        out[f"errors/{cls.value}_per_call"] = per_call.get(cls, 0) / len(calls) if calls else 0.0
    for cls in PRIMARY_CLASSES:
        out[f"errors/{cls.value}_primary_rate"] = primary.get(cls, 0) / n
    for name in sorted(set(tool_names) | set(counts)):
        out[f"tools/{name}"] = float(counts.get(name, 0))
    return out
