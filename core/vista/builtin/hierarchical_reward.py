"""The hierarchical reward: repetition penalty first, then format, then correctness.

    if R_rep < 0:            R = R_rep                         (format and correctness are not looked at)
    elif format invalid:     R = format_penalty (-1.0)    (the "format" component: 1 valid, -1 invalid, 0 unjudged)
    else:                    R = correctness, the task's official score of the final answer, in [0, 1]

Repetition tiers, checked on the policy's own turns only (never the prompt or tool responses), most severe first;
the text tiers ignore what is inside <tool_call> blocks, which the call tier judges:

    -3.0  degenerate loop:   some word n-gram (n = 8) occurs 3 or more times
    -2.0  repeated line:     a line of at least 20 characters (tags stripped, whitespace collapsed,
                             case-folded) occurs 2 or more times
    -1.5  repeated tool call: the same tool called twice with the same arguments (compared as canonical JSON)
     0    none of the above

Format is valid when every turn is well formed (see `vista.protocol.parse_turn`), every tool call parses and
validates (no E1–E3), and the episode ends with exactly one non-empty `<answer>`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vista.errors import ErrorClass
from vista.protocol import TAGS
from vista.reward import Reward, RewardResult

if TYPE_CHECKING:
    from vista.task import Example, Task
    from vista.trajectory import Trajectory

_TAG = re.compile(r"</?(?:" + "|".join(TAGS) + r")\s*>")
_CALL_BLOCK = re.compile(r"<tool_call>.*?(?:</tool_call>|$)", re.DOTALL)
_WORD = re.compile(r"\w+|[^\w\s]")


@dataclass(frozen=True)
class RepetitionConfig:
    ngram: int = 8
    ngram_repeats: int = 3
    min_line_chars: int = 20
    line_repeats: int = 2
    loop_penalty: float = -3.0
    line_penalty: float = -2.0
    call_penalty: float = -1.5

    def validate(self) -> None:
        if self.ngram < 2 or self.ngram_repeats < 2 or self.line_repeats < 2:
            raise ValueError("ngram must be >= 2 and ngram_repeats/line_repeats >= 2 (one occurrence is no repetition)")
        if not self.loop_penalty <= self.line_penalty <= self.call_penalty < 0:
            raise ValueError("penalties must be negative and ordered loop <= line <= call "
                             "(the more degenerate the repetition, the lower the reward)")


def repetition_penalty(trajectory: Trajectory, config: RepetitionConfig = RepetitionConfig()) -> tuple[float, str]:
    """(R_rep, reason) for a trajectory; R_rep is 0 and reason '' when nothing repeats."""
    # tool calls are judged by the call tier only: the same JSON twice is a repeated call, not a repeated line
    turns = [_CALL_BLOCK.sub("\n", step.action) for step in trajectory.steps]
    words = [w.lower() for turn in turns for w in _WORD.findall(_TAG.sub(" ", turn))]
    grams = Counter(tuple(words[i:i + config.ngram]) for i in range(len(words) - config.ngram + 1))
    if grams:
        gram, count = grams.most_common(1)[0]
        if count >= config.ngram_repeats:
            return config.loop_penalty, f"the {config.ngram}-gram '{' '.join(gram)}' occurs {count} times"
    lines = Counter(
        norm for turn in turns for line in _TAG.sub("\n", turn).splitlines()
        if len(norm := " ".join(line.split()).casefold()) >= config.min_line_chars
    )
    if lines:
        line, count = lines.most_common(1)[0]
        if count >= config.line_repeats:
            return config.line_penalty, f"the line '{line[:60]}' occurs {count} times"
    calls = Counter(
        (call.name, json.dumps(call.arguments, sort_keys=True))
        for call in trajectory.tool_calls if call.name is not None and call.arguments is not None
    )
    if calls:
        (name, arguments), count = calls.most_common(1)[0]
        if count >= 2:
            return config.call_penalty, f"tool '{name}' called {count} times with the same arguments {arguments}"
    return 0.0, ""


def format_problems(trajectory: Trajectory) -> list[str]:
    """Why the trajectory's format is invalid; empty when it is valid."""
    problems = [f"turn {step.index}: {err.message}" for step in trajectory.steps for err in step.format_errors]
    problems += [f"tool call {call.raw[:40]!r}: {call.error.error_class.value}"
                 for call in trajectory.tool_calls
                 if call.error is not None and call.error.error_class in (ErrorClass.E1, ErrorClass.E2, ErrorClass.E3)]
    answers = [step for step in trajectory.steps if step.answer is not None]
    if len(answers) != 1 or trajectory.steps[-1].answer is None or not trajectory.steps[-1].answer.strip():
        problems.append("the episode must end with exactly one non-empty <answer>")
    return problems


class HierarchicalReward(Reward):
    name = "hierarchical"
    description = "repetition penalty, then format, then correctness (the paper's reward)"

    def __init__(self, repetition: RepetitionConfig = RepetitionConfig(), format_penalty: float = -1.0):
        repetition.validate()
        if not repetition.call_penalty < format_penalty < 0:
            raise ValueError(f"format_penalty must lie between the mildest repetition penalty "
                             f"({repetition.call_penalty}) and 0, got {format_penalty}")
        self.repetition = repetition
        self.format_penalty = format_penalty

    def compute(self, trajectory: Trajectory, example: Example, task: Task) -> RewardResult:
        r_rep, why = repetition_penalty(trajectory, self.repetition)
        components = {"repetition": r_rep, "format": 0.0, "correctness": 0.0}
        if r_rep < 0:
            return RewardResult(total=r_rep, components=components, details={"repetition": why})
        problems = format_problems(trajectory)
        if problems:
            components["format"] = self.format_penalty
            return RewardResult(total=self.format_penalty, components=components,
                                details={"format": "; ".join(problems[:3])})
        components["format"] = 1.0
        score = trajectory.score if trajectory.score is not None else task.score(trajectory.final_answer, example)
        components["correctness"] = float(score)
        return RewardResult(total=components["correctness"], components=components)
