"""Expert trajectories for behaviour cloning: scripted experts that replay a task's oracle solution through the real
environment (the tools run for real and the last turn's reasoning quotes what they returned), a teacher model behind
an OpenAI-compatible endpoint, and outcome filtering: only episodes whose answer scores correct and whose tool calls
all ran are kept, and an oracle's episode only when its tools' outputs show the solution's evidence (the values its
answer follows from: a misread table must not teach the policy to answer against what the tool said).

Both experts are ordinary `EpisodeRunner` policies, so their episodes are `Trajectory` records in the shared schema,
written by `TrajectoryLog`: ``<dir>/played`` holds every episode (a killed run resumes there), ``<dir>/kept`` the
filtered ones that SFT reads.
"""

from __future__ import annotations

import json
import logging
import random
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import vista
from vista.chat import ChatClient, api_key_env, openai_messages
from vista.evaluation import EpisodeProgress
from vista.policies import chat_with_images
from vista.protocol import ToolCall, render_turn
from vista.runner import EpisodeRunner, EpisodeSpec
from vista.task import evidence_missing
from vista.trajectory import Trajectory
from vista.trajectory_log import TrajectoryLog, to_chat

log = logging.getLogger(__name__)

QUOTE_CHARS = 120  # the closing thought quotes the first line of the last tool response, at most this long


class OracleExpert:
    """Plays `Task.oracle(example)`: one turn per oracle tool step (its thought, then the call), then a closing turn
    whose thought restates the last tool response and the oracle's rationale, and the oracle's answer.

    Examples are looked up by the observation's ``example_id``; `expect` registers the ones to be played. With
    ``use_tools=False`` (the w/o-tools ablation) the expert calls no tool: one turn, its reasoning the oracle's
    rationale, then the answer. ``tool_share`` below 1 makes a teacher of two habits: that share of the examples
    (drawn per example id and ``seed``) is solved with the tools, the others answered directly as without tools,
    the way a teacher that sees the image well often skips the tool its student needs."""

    def __init__(self, registry: vista.Registry | None = None, *, use_tools: bool = True, tool_share: float = 1.0,
                 seed: int = 0):
        if not 0 <= tool_share <= 1:
            raise ValueError(f"tool_share must lie in [0, 1], got {tool_share}")
        self.registry = registry or vista.get_registry()
        self.tool_share = tool_share if use_tools else 0.0  # without tools: a teacher of the direct habit alone
        self.seed = seed
        self._plans: dict[str, vista.OracleSolution] = {}
        self._direct: set[str] = set()  # examples this teacher answers without its tools

    def expect(self, example: vista.Example) -> bool:
        """Plan an example; False when its task has no oracle for it."""
        task = self.registry.task(example.task)
        try:
            solution = task.oracle(example)
        except NotImplementedError:
            return False
        if solution is None:
            return False
        self._plans[example.id] = solution
        if random.Random(f"{self.seed}:{example.id}").random() >= self.tool_share:  # in [0, 1): share 1 always, 0 never
            self._direct.add(example.id)
        return True

    def with_tools(self, example_id: str) -> bool:
        """Whether this expert solves the (expected) example with its tools."""
        return example_id not in self._direct

    def tool_turns(self, example_id: str) -> int:
        return len(_turns(self._plans[example_id])) if self.with_tools(example_id) else 0

    def unsupported(self, trajectory: Trajectory) -> list[str]:
        """The planned solution's evidence that the episode's tool outputs do not show (empty: the answer follows
        from what the tools returned, or the episode is not one of this expert's)."""
        solution = self._plans.get(trajectory.example_id)
        if solution is None or not self.with_tools(trajectory.example_id):
            return []
        said = "\n".join(call.output_text if call.output_text is not None else json.dumps(call.output_data)
                         for call in trajectory.tool_calls if call.error is None and call.valid)
        # numbers read off a drawing match within the task's own tolerance (ChartQA-style relaxed accuracy)
        tolerance = getattr(self.registry.tasks.get(trajectory.task), "tolerance", 0.0) or 0.0
        return evidence_missing(solution.evidence, said, rel_tol=tolerance)

    def __call__(self, observation: dict) -> str:
        solution = self._plans.get(observation["example_id"])
        if solution is None:
            raise KeyError(f"no oracle plan for example '{observation['example_id']}'; call expect(example) first")
        turns = _turns(solution) if self.with_tools(observation["example_id"]) else []
        turn = observation["turn"]
        if turn < len(turns) and observation["turns_left"] > 0:
            think, calls = turns[turn]
            return render_turn(think, calls=calls)
        return render_turn(_closing_thought(observation, solution), answer=solution.answer)


def _turns(solution: vista.OracleSolution) -> list[tuple[str, list[ToolCall]]]:
    """Oracle steps as policy turns: thoughts without a tool are carried into the next turn that calls one."""
    turns: list[tuple[str, list[ToolCall]]] = []
    pending: list[str] = []
    for step in solution.steps:
        pending.append(step.think)
        if step.tool is not None:
            turns.append((" ".join(pending), [ToolCall(name=step.tool, arguments=step.arguments)]))
            pending = []
    return turns


def _closing_thought(observation: dict, solution: vista.OracleSolution) -> str:
    last = observation["messages"][-1]
    said = "".join(p.get("text") or "" for p in last["content"] if p["type"] == "text") \
        if last["role"] in ("tool", "user") and observation["turn"] > 0 else ""
    said = said.split("</tool_response>")[0].replace("<tool_response>", "").strip().split("\n")[0]
    quoted = f"The tool returned: {said[:QUOTE_CHARS]}. " if said else ""
    return (quoted + (solution.rationale or f"So the answer is {solution.answer}.")).strip()


class TeacherExpert:
    """A teacher model behind an OpenAI-compatible ``/chat/completions`` endpoint (`vista.chat`), as an async policy:
    the conversation is sent with images inlined as PNG data URLs (tool responses as user turns: OpenAI's tool role
    needs a tool_call_id the protocol does not have), and the turn stops after its tool call or answer, as the endpoint
    policy's does. The API key: ``api_key``, else ``VISTA_TEACHER_API_KEY``."""

    def __init__(self, base_url: str, model: str, *, api_key: str | None = None, temperature: float = 0.0,
                 max_tokens: int = 1024, timeout_s: float = 120.0):
        self.client = ChatClient(base_url, model, api_key=api_key, key_env=api_key_env("teacher"),
                                 timeout_s=timeout_s, what="teacher endpoint")
        self.temperature = temperature
        self.max_tokens = max_tokens

    async def __call__(self, observation: dict) -> str:
        return await self.client.aturn(openai_messages(*chat_with_images(observation)),
                                       temperature=self.temperature, max_tokens=self.max_tokens)


def keep(trajectory: Trajectory) -> bool:
    """The outcome filter: the answer scores correct and every tool call ran without error."""
    return bool(trajectory.correct) and all(call.error is None for call in trajectory.tool_calls)


@dataclass
class SynthesisReport:
    played: int
    kept: int
    skipped_no_oracle: int
    unsupported: int = 0  # correct episodes dropped because the tools' outputs did not show the answer's evidence

    @property
    def kept_rate(self) -> float:
        return self.kept / self.played if self.played else 0.0


def synthesize(out_dir: str | Path, examples: Sequence[vista.Example], *, policy: Callable | None = None,
               concurrency: int = 4, registry: vista.Registry | None = None,
               on_episode: Callable[[Trajectory], None] | None = None, progress: bool = False,
               **env_kwargs: Any) -> SynthesisReport:
    """Play ``examples`` with ``policy`` (default: a new oracle expert), keep the correct ones in ``out_dir/kept``.
    Several calls into one ``out_dir`` (a task at a time) should share one `OracleExpert`, whose plans tell which
    kept episodes are supported by their tools' outputs.

    Resumable: episodes already in ``out_dir/played`` are not played again, and ``kept`` is rebuilt from it.
    ``progress`` shows a bar per task with the running share of correct episodes on stderr (when it is a terminal)."""
    registry = registry or vista.get_registry()
    out_dir = Path(out_dir)
    skipped = 0
    if policy is None:
        policy = OracleExpert(registry)
    if isinstance(policy, OracleExpert):  # one expert over several calls keeps every call's plans (and evidence)
        playable = []
        for example in examples:
            if policy.expect(example) and policy.tool_turns(example.id) <= env_kwargs.get("max_turns", 3):
                playable.append(example)
            else:
                skipped += 1
        examples = playable
    played = TrajectoryLog(out_dir / "played")
    show = progress and sys.stderr.isatty()
    with EpisodeProgress(show) as bars:
        done = list(played) if show else []  # the bars start from what a resumed run played already
        for task in sorted({e.task for e in examples} if show else ()):
            ids = {e.id for e in examples if e.task == task}
            bars.add(task, len(ids), [t for t in done if t.task == task and t.example_id in ids])

        def episode_done(trajectory: Trajectory) -> None:
            bars.episode(trajectory)
            if on_episode is not None:
                on_episode(trajectory)

        runner = EpisodeRunner(policy, concurrency=concurrency, log=played, registry=registry,
                               on_episode=episode_done, **env_kwargs)
        runner.run(EpisodeSpec(task=e.task, example=e) for e in examples)
    supported = (lambda t: not policy.unsupported(t)) if isinstance(policy, OracleExpert) else None
    kept, unsupported = rebuild_kept(out_dir, supported=supported)
    return SynthesisReport(played=len(played), kept=kept, skipped_no_oracle=skipped, unsupported=unsupported)


def _natural_key(text: str) -> list:
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text)]


def rebuild_kept(out_dir: str | Path, supported: Callable[[Trajectory], bool] | None = None) -> tuple[int, int]:
    """Write ``out_dir/kept`` afresh from ``out_dir/played`` through the outcome filter and, when given, the
    ``supported`` test (the answer follows from the tool outputs); returns (kept, correct but unsupported).

    Episodes are played concurrently, so ``played`` is in finishing order; ``kept`` is in (task, example) order, so
    that what SFT trains on (and the tiny tokenizer trained on it) does not depend on which episode finished first."""
    out_dir = Path(out_dir)
    played = TrajectoryLog(out_dir / "played")
    kept_path = out_dir / "kept" / "trajectories.jsonl"
    if kept_path.exists():
        kept_path.unlink()
    kept = TrajectoryLog(out_dir / "kept")
    count = unsupported = 0
    for trajectory in sorted(played.latest(), key=lambda t: (t.task, _natural_key(t.example_id))):
        if not keep(trajectory):
            continue
        if supported is not None and not supported(trajectory):
            unsupported += 1
            continue
        refs = {ref for m in trajectory.messages for ref in m.image_refs}
        kept.append(trajectory, {ref: played.images.get(ref) for ref in refs})
        count += 1
    return count, unsupported


def sft_records(log_dir: str | Path) -> Iterable[dict]:
    """The kept trajectories as TRL's ``{"messages", "images"}`` records."""
    kept = TrajectoryLog(Path(log_dir))
    for trajectory in kept:
        yield to_chat(trajectory.messages, kept.images)
