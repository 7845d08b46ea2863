"""Playing many `VistaEnv` episodes in lock-step with a batched policy, and the metrics of a set of trajectories.

`RolloutRunner` keeps episodes in flight with one policy call per observation; a local model on CPU is much faster
when every live episode's next turn is generated in one batch, so GRPO and evaluation step the environments
together: generate for all live episodes, step each, drop the finished ones, repeat. The tool calls and everything
after them (parser, validation, execution, reward) are the environment's, unchanged.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import vista
from PIL import Image
from vista.attribution import PRIMARY_CLASSES, primary_error
from vista.builtin.hierarchical_reward import format_valid, repetition_penalty
from vista.errors import ErrorClass
from vista.executor import ToolExecutor
from vista.trajectory import Trajectory

CALL_CLASSES = (ErrorClass.E1, ErrorClass.E2, ErrorClass.E3, ErrorClass.E4, ErrorClass.E5)


@dataclass
class Episode:
    trajectory: Trajectory
    images: dict[str, Image.Image]
    example: vista.Example


def play(generate: Callable[[Sequence[dict]], list[str]], examples: Sequence[vista.Example], *,
         registry: vista.Registry, executor: ToolExecutor, env_kwargs: dict[str, Any],
         system_prompt: Callable[[str], str | None] = lambda task: None) -> list[Episode]:
    """Play one episode per example (repeat an example for a GRPO group); results in the order given."""
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
    while live:
        actions = generate([observations[i] for i in live])
        still = []
        for i, action in zip(live, actions):
            observations[i], _, terminated, truncated, info = envs[i].step(action)
            if terminated or truncated:
                done[i] = Episode(info["trajectory"], envs[i].images, examples[i])
            else:
                still.append(i)
        live = still
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
