"""`VistaEnv`: the executable environment of multi-turn tool-integrated reasoning over images.

An episode: ``reset`` samples an example and shows the system prompt (with the tools' JSON schemas) and the question
with its image(s). Each ``step(action_text)`` is one policy turn: `<think>…</think>` then tool calls or an answer.
Tool calls are parsed, validated (E1–E3) and executed (E4, E5, tool failures); their results — text, structured data
and new images such as a zoomed crop — come back as the next observation. `<answer>` terminates the episode; a tool
call after ``max_turns`` tool turns truncates it. The reward (default: the hierarchical reward) is given at the end;
intermediate steps get 0. Every step's error classes are in ``info``; the finished trajectory, its reward components
and its primary error class are in the final ``info``.

Observations are dicts, which Gymnasium's fixed-shape spaces cannot describe (images of any size, a growing
conversation), so the spaces are `ConversationSpace` and `ActionTextSpace`; Gymnasium's ``check_env`` runs on them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Sequence
from typing import Any

import gymnasium
import numpy as np
from PIL import Image

from . import plugins
from .attribution import primary_error, step_error_classes
from .errors import ClassifiedError, ErrorClass
from .execution import ToolExecutor
from .images import content_hash
from .prompts import render_system, render_user
from .protocol import parse_turn, render_tool_response, replace_surrogates
from .reward import Reward
from .task import Example, Task
from .tool import Tool, ToolContext, ToolResult
from .trajectory import ContentPart, Message, StepRecord, ToolCallRecord, Trajectory
from .validation import ValidatedCall, parse_and_validate

log = logging.getLogger(__name__)
CORRECT_THRESHOLD = 0.5  # a score at or above this counts as correct (binary scorers give 0 or 1; ANLS is graded)
_FRAGMENTS = ("<think>", "</think>", "<tool_call>", "</tool_call>", "<answer>", "</answer>", '{"name": ',
              '"arguments": {}', "}", " the ", "3", "B", "\n")


class ConversationSpace(gymnasium.Space[dict]):
    """Observation: ``{"messages": [...], "images": {hash: PIL.Image}, "image_names": {name: hash}, "turn": int,
    "turns_left": int, "task": str, "example_id": str}``. Messages are chat dicts whose content parts are
    ``{"type": "text", "text": ...}`` or ``{"type": "image", "image": <hash>}``."""

    KEYS = ("messages", "images", "image_names", "turn", "turns_left", "task", "example_id")

    def __init__(self, seed: int | None = None):
        super().__init__(shape=None, dtype=None, seed=seed)

    @property
    def is_np_flattenable(self) -> bool:
        return False

    def contains(self, x: Any) -> bool:
        return (isinstance(x, dict) and all(k in x for k in self.KEYS) and isinstance(x["messages"], list)
                and all(isinstance(m, dict) and "role" in m and "content" in m for m in x["messages"])
                and all(isinstance(img, Image.Image) for img in x["images"].values())
                and set(x["image_names"].values()) <= set(x["images"]))

    def sample(self, mask: Any = None, probability: Any = None) -> dict:
        image = Image.new("RGB", (8, 8), tuple(int(v) for v in self.np_random.integers(0, 256, 3)))
        ref = content_hash(image)
        return {"messages": [{"role": "user", "content": [{"type": "image", "image": ref},
                                                          {"type": "text", "text": "?"}]}],
                "images": {ref: image}, "image_names": {"image_0": ref}, "turn": 0, "turns_left": 1,
                "task": "sample", "example_id": "sample"}


class ActionTextSpace(gymnasium.Space[str]):
    """Action: the text of one policy turn, at most ``max_length`` characters. ``sample`` strings protocol fragments
    together at random, so random actions exercise the parser rather than being plain noise."""

    def __init__(self, max_length: int = 16384, seed: int | None = None):
        super().__init__(shape=None, dtype=None, seed=seed)
        self.max_length = max_length

    @property
    def is_np_flattenable(self) -> bool:
        return False

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and len(x) <= self.max_length

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        count = int(self.np_random.integers(1, 12))
        return "".join(_FRAGMENTS[i] for i in self.np_random.integers(0, len(_FRAGMENTS), count))[: self.max_length]


def _select_tools(spec: str | Sequence[str] | None, task: Task, available: dict[str, Tool]) -> list[Tool]:
    if spec in (None, "none", ()):
        return []
    if spec == "all":
        return [available[name] for name in sorted(available)]
    if spec == "recommended":
        names = [n for n in task.recommended_tools if n in available]
        return [available[n] for n in names] if names else [available[name] for name in sorted(available)]
    if isinstance(spec, str):
        spec = [s.strip() for s in spec.split(",") if s.strip()]
    registry_like = plugins.Registry(tools=available)
    return [registry_like.tool(name) for name in spec]


class VistaEnv(gymnasium.Env[dict, str]):
    """A Gymnasium environment over one task. Arguments:

    - ``task``: a `Task` or a registered task name/id (``"chart_bar"``, ``"chartqa-v0"``).
    - ``split``: which split examples are drawn from.
    - ``tools``: ``"recommended"`` (the task's recommended tools, else all), ``"all"``, ``"none"`` (plain chain of
      thought), or a list of tool names.
    - ``reward``: a `Reward` or a registered reward name (default ``"hierarchical"``).
    - ``max_turns``: how many turns may call tools; the turn after that must answer (default 3).
    - ``system_prompt`` / ``user_prompt``: templates replacing `vista.prompts` defaults (see there for placeholders);
      the task's ``prompt_template`` is used for the user prompt when given.
    - ``executor``: a shared `ToolExecutor` (per-tool limits and timeouts); one is made when not given.
    - ``examples``: a fixed list of examples to draw from instead of ``task.load(split)``.
    """

    metadata = {"render_modes": ["ansi"]}

    def __init__(self, task: Task | str, *, split: str = "train", tools: str | Sequence[str] | None = "recommended",
                 reward: Reward | str = "hierarchical", max_turns: int = 3, data_dir: str | None = None,
                 system_prompt: str | None = None, user_prompt: str | None = None,
                 executor: ToolExecutor | None = None, examples: Sequence[Example] | None = None,
                 registry: plugins.Registry | None = None, render_mode: str | None = None,
                 max_action_chars: int = 16384):
        if max_turns < 0:
            raise ValueError(f"max_turns must be >= 0, got {max_turns}")
        if render_mode not in (None, "ansi"):
            raise ValueError(f"render_mode must be None or 'ansi', got {render_mode!r}")
        registry = registry or plugins.get_registry()
        self.task = task if isinstance(task, Task) else registry.task(task)
        if split not in self.task.splits:
            raise ValueError(f"task '{self.task.id}' has no split '{split}'; its splits are {list(self.task.splits)}")
        self.split = split
        self.tools = _select_tools(tools, self.task, registry.tools)
        self.tool_table = {tool.name: tool for tool in self.tools}
        self.reward_fn = reward if isinstance(reward, Reward) else registry.reward(reward)
        self.max_turns = max_turns
        self.data_dir = data_dir
        self.system_prompt = render_system(self.tools, max_turns, system_prompt)
        self.user_prompt = user_prompt or self.task.prompt_template
        self._owns_executor = executor is None
        self.executor = executor or ToolExecutor()
        self._fixed_examples = list(examples) if examples is not None else None
        self._dataset: list[Example] | None = None
        self.render_mode = render_mode
        self.observation_space = ConversationSpace()
        self.action_space = ActionTextSpace(max_action_chars)
        self.example: Example | None = None
        self.trajectory: Trajectory | None = None
        self._done = True

    # ---- examples -------------------------------------------------------------------------------------------
    def _draw_example(self) -> Example:
        if self._fixed_examples is not None:
            return self._fixed_examples[int(self.np_random.integers(len(self._fixed_examples)))]
        if self.task.procedural:
            seed = int(self.np_random.integers(0, 2**31 - 1))
            return next(iter(self.task.load(self.split, self.data_dir, seed=seed, limit=1)))
        if self._dataset is None:
            self._dataset = list(self.task.load(self.split, self.data_dir))
            if not self._dataset:
                raise ValueError(f"task '{self.task.id}' split '{self.split}' has no examples")
        return self._dataset[int(self.np_random.integers(len(self._dataset)))]

    # ---- gymnasium API --------------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[dict, dict]:
        """Start an episode. ``options={"example": Example}`` plays that example instead of drawing one."""
        super().reset(seed=seed)
        options = options or {}
        self.example = options["example"] if "example" in options else self._draw_example()
        self.ctx = ToolContext(self.example.open_images(), metadata={"example_id": self.example.id})
        self._images: dict[str, Image.Image] = {}
        self._names: dict[str, str] = {}
        parts = []
        for name, image in self.ctx.images().items():
            parts += [ContentPart.of_text(f"{name}:"), ContentPart.of_image(self._remember(name, image))]
        parts.append(ContentPart.of_text(render_user(self.example.question, self.example.choices,
                                                     self.example.answer_type, self.user_prompt)))
        self.turn = 0
        self._done = False
        self.trajectory = Trajectory(
            id=uuid.uuid4().hex, task=self.task.name, example_id=self.example.id, ground_truth=self.example.answer,
            metadata={"split": self.split, "max_turns": self.max_turns, "tools": [t.name for t in self.tools],
                      "reward": self.reward_fn.name, "seed": seed})
        self._message_dicts: list[dict] = []  # the observation's copy, serialised once per message
        self._append(Message(role="system", content=[ContentPart.of_text(self.system_prompt)]))
        self._append(Message(role="user", content=parts))
        return self._observation(), {"task": self.task.name, "example_id": self.example.id, "turn": 0}

    def step(self, action: str) -> tuple[dict, float, bool, bool, dict]:
        step, pending = self._begin(action)
        results = [self.executor.run(call, self.ctx) for _, call in pending]
        return self._end(step, pending, results)

    async def astep(self, action: str) -> tuple[dict, float, bool, bool, dict]:
        """`step` for asyncio: the turn's tool calls run concurrently, within the executor's limits."""
        step, pending = self._begin(action)
        results = await asyncio.gather(*(self.executor.arun(call, self.ctx) for _, call in pending))
        return self._end(step, pending, list(results))

    def render(self) -> str | None:
        if self.render_mode != "ansi" or self.trajectory is None:
            return None
        return "\n\n".join(f"[{m.role}] {m.text}" for m in self.trajectory.messages)

    def close(self) -> None:
        if self._owns_executor:  # a shared executor belongs to whoever made it (a runner, a trainer)
            self.executor.close()

    # ---- one turn -------------------------------------------------------------------------------------------
    def _begin(self, action: str) -> tuple[StepRecord, list[tuple[ToolCallRecord, ValidatedCall]]]:
        if self._done:
            raise RuntimeError("the episode is over; call reset() before step()")
        if not isinstance(action, str):
            raise TypeError(f"action must be the text of one policy turn (str), got {type(action).__name__}")
        self.turn += 1
        limit = self.action_space.max_length
        length = len(action)
        # a lone surrogate (an OpenAI-style endpoint's JSON can carry "\ud800") is no Unicode text: it could be
        # neither parsed nor written to the log, so it becomes U+FFFD and the turn says so
        action, surrogates = replace_surrogates(action)
        parsed = parse_turn(action[:limit])
        step = StepRecord(index=self.turn, action=action[:limit], think=parsed.think, answer=parsed.answer,
                          format_errors=list(parsed.format_errors))
        if surrogates:
            step.format_errors.append(ClassifiedError(
                error_class=ErrorClass.FORMAT, code="invalid_unicode",
                message=f"the turn has {surrogates} unpaired surrogate code point(s), which are not text; "
                        f"they were replaced by U+FFFD"))
        if length > limit:  # only the first max_action_chars are read: a runaway generation cannot stall us
            step.format_errors.append(ClassifiedError(
                error_class=ErrorClass.FORMAT, code="action_too_long",
                message=f"the turn has {length} characters; only the first {limit} were read"))
        self._append(Message(role="assistant", content=[ContentPart.of_text(action)]))
        pending: list[tuple[ToolCallRecord, ValidatedCall]] = []
        may_call = parsed.answer is None and self.turn <= self.max_turns
        for raw in parsed.tool_calls:
            call, validated, error = parse_and_validate(raw, self.tool_table)
            record = ToolCallRecord(raw=raw, name=call.name if call else None,
                                    arguments=call.arguments if call else None,
                                    dialect=call.dialect if call else None, valid=validated is not None, error=error)
            step.tool_calls.append(record)
            if validated is not None and may_call:
                pending.append((record, validated))
        return step, pending

    def _end(self, step: StepRecord, pending: list[tuple[ToolCallRecord, ValidatedCall]],
             results: list[ToolResult]) -> tuple[dict, float, bool, bool, dict]:
        for (record, _), result in zip(pending, results):
            record.output_text = result.text
            record.output_data = _jsonable(result.data)
            record.latency_s = result.latency_s
            record.error = result.error
            record.output_images = [self._remember(name, image) for name, image in
                                    zip(result.image_names, result.images)]
        step.error_classes = step_error_classes(step)
        self.trajectory.steps.append(step)
        terminated = step.answer is not None
        truncated = not terminated and self.turn > self.max_turns
        reward = 0.0
        if terminated or truncated:
            reward = self._finish(terminated, truncated)
        else:
            self._append(self._feedback(step))
        info = {"task": self.task.name, "example_id": self.example.id, "turn": self.turn,
                "error_classes": [c.value for c in step.error_classes],
                "format_errors": [e.code for e in step.format_errors],
                "tool_calls": [c.model_dump(mode="json") for c in step.tool_calls]}
        if terminated or truncated:
            t = self.trajectory
            info.update(trajectory=t, reward_components=dict(t.reward_components), correct=t.correct, score=t.score,
                        primary_error=t.primary_error.value if t.primary_error else None)
        return self._observation(), reward, terminated, truncated, info

    def _feedback(self, step: StepRecord) -> Message:
        """What the environment answers to a turn that did not end the episode."""
        parts: list[ContentPart] = []
        for record in step.tool_calls:
            label = record.name or "tool_call"
            if record.error is not None:
                body = f"{label}: error {record.error.error_class.value}: {record.error.message}"
            else:  # the episode goes on only when every valid call of the turn was executed
                body = f"{label}: {record.output_text or json.dumps(record.output_data, ensure_ascii=False)}"
            names = [n for n, h in self._names.items() if h in record.output_images]
            if names:
                body += f" (new image{'s' if len(names) > 1 else ''}: {', '.join(names)})"
            parts.append(ContentPart.of_text(render_tool_response(body)))
            for name in names:
                parts += [ContentPart.of_text(f"{name}:"), ContentPart.of_image(self._names[name])]
        notes = [f"Format problem: {err.message}." for err in step.format_errors]
        turns_left = self.max_turns - self.turn
        notes.append("No tool turns left: give your final answer now." if turns_left <= 0
                     else f"{turns_left} tool turn{'s' if turns_left != 1 else ''} left.")
        parts.append(ContentPart.of_text("\n".join(notes)))
        return Message(role="tool" if step.tool_calls else "user", content=parts)

    def _finish(self, terminated: bool, truncated: bool) -> float:
        t = self.trajectory
        t.terminated, t.truncated = terminated, truncated
        t.final_answer = t.steps[-1].answer if terminated else None
        try:
            t.score = float(self.task.score(t.final_answer, self.example))
        except Exception as exc:  # a scorer bug must not end the rollout: it is recorded, logged and counted
            t.score = 0.0
            t.metadata["score_error"] = f"{type(exc).__name__}: {exc}"
            log.warning("task '%s' failed to score example '%s' (%s); the episode counts as wrong and its "
                        "trajectory records the error under metadata.score_error", self.task.name,
                        self.example.id, t.metadata["score_error"])
        t.correct = t.score >= CORRECT_THRESHOLD
        result = self.reward_fn.compute(t, self.example, self.task)
        t.reward, t.reward_components = result.total, dict(result.components)
        t.metadata["reward_details"] = dict(result.details)
        t.primary_error = primary_error(t)
        self._done = True
        return float(result.total)

    # ---- images and observations ----------------------------------------------------------------------------
    def _append(self, message: Message) -> None:
        self.trajectory.messages.append(message)
        self._message_dicts.append(message.model_dump(exclude_none=True))

    def _remember(self, name: str, image: Image.Image) -> str:
        ref = content_hash(image)
        self._images[ref] = image
        self._names[name] = ref
        return ref

    def _observation(self) -> dict:
        return {"messages": [dict(m) for m in self._message_dicts],
                "images": dict(self._images), "image_names": dict(self._names), "turn": self.turn,
                "turns_left": max(self.max_turns - self.turn, 0), "task": self.task.name,
                "example_id": self.example.id}

    @property
    def images(self) -> dict[str, Image.Image]:
        """Every image of the episode so far, by content hash (what the trajectory's image parts refer to)."""
        return dict(self._images)


def _jsonable(data: Any) -> Any:
    if hasattr(data, "model_dump"):
        return data.model_dump(mode="json")
    if isinstance(data, np.generic):
        return data.item()
    return data


def register_gym_ids(registry: plugins.Registry) -> None:
    """Register every task as ``vista/<name>-v<version>`` with Gymnasium (called after each plugin load)."""
    for task in registry.tasks.values():
        gym_id = f"vista/{task.id}"
        if gym_id not in gymnasium.registry:
            gymnasium.register(id=gym_id, entry_point="vista.env:VistaEnv", kwargs={"task": task.name})


plugins.on_load(register_gym_ids)
if plugins._registry is not None:
    register_gym_ids(plugins._registry)

