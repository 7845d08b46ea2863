"""The hierarchical reward: repetition penalty first, then format, then correctness (the paper's order).

    if R_rep < 0:            R = R_rep                       (format and correctness are not looked at)
    elif format invalid:     R = format_penalty (-1.0)
    else:                    R = correctness, the task's official score of the final answer, in [0, 1]

The components add up to the total: ``repetition`` (R_rep or 0), ``format`` (the penalty or 0) and ``correctness``
(the score, or 0 when a tier above decided); ``details`` says why each non-zero one is what it is, and reports a
scorer that raised (the episode then counts as wrong, and the trajectory's ``metadata.score_error`` has the error).

Repetition tiers measure degenerate repetition of the policy's own words, most severe first. They read the policy's
turns only (never the prompt or tool responses); words are runs of letters, so numbers and operators (arithmetic,
``27 + 5 + 7 + 9``) never count; what is inside <tool_call> blocks is left to the call tier; and text that
quotes a tool response (a run of 4 or more consecutive words it contains) is cut out before counting, once per turn:
quoting the tool is not repeating oneself, but quoting it over and over within a turn is.

    -3.0  degenerate loop:    some word n-gram (n = 8) occurs 3 or more times over the policy's turns, or the
                              policy's text (200+ bytes) compresses (zlib) to under 15% of its size: a loop in any
                              script, of digits or symbols as well as of words (prose compresses to 40-80%)
    -2.0  repeated line:      within one turn, a line of at least 20 characters and 3 words (tags stripped,
                              whitespace collapsed, case-folded) occurs 2 or more times
    -1.5  repeated tool call: the same tool called twice with the same arguments (compared as canonical JSON)
     0    none of the above

Format is valid when every turn is well formed (see `vista.protocol.parse_turn`) with at least ``min_think_words``
whitespace-separated tokens of reasoning in its <think> (default 1: an empty <think> earns no reward), every tool
call parses and validates (no E1–E3), and the episode ends with exactly one non-empty `<answer>`. With
``forgive_recovered_calls=True``, a call error (E1–E3) that a later successful call recovered from (see
`vista.attribution.recoveries`) does not make the format invalid; the default is the paper's strict rule.
"""

from __future__ import annotations

import json
import re
import zlib
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vista.attribution import recoveries
from vista.errors import ErrorClass
from vista.protocol import TAGS
from vista.reward import Reward, RewardResult

if TYPE_CHECKING:
    from vista.task import Example, Task
    from vista.trajectory import Trajectory

_TAG = re.compile(r"</?(?:" + "|".join(TAGS) + r")\s*>")
_CALL_BLOCK = re.compile(r"<tool_call>.*?(?:</tool_call>|$)", re.DOTALL)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")  # runs of letters: numbers and operators are not words
_QUOTE_WORDS = 4  # this many consecutive words of a tool response make a quotation
_FORMAT_CALL_CLASSES = (ErrorClass.E1, ErrorClass.E2, ErrorClass.E3)


@dataclass(frozen=True)
class RepetitionConfig:
    ngram: int = 8
    ngram_repeats: int = 3
    min_line_chars: int = 20
    min_line_words: int = 3
    min_loop_chars: int = 200
    max_compression_ratio: float = 0.15
    line_repeats: int = 2
    loop_penalty: float = -3.0
    line_penalty: float = -2.0
    call_penalty: float = -1.5

    def validate(self) -> None:
        if self.ngram < 2 or self.ngram_repeats < 2 or self.line_repeats < 2:
            raise ValueError("ngram must be >= 2 and ngram_repeats/line_repeats >= 2 (one occurrence is no repetition)")
        if not 0 < self.max_compression_ratio < 1:
            raise ValueError(f"max_compression_ratio must lie in (0, 1), got {self.max_compression_ratio}")
        if not self.loop_penalty <= self.line_penalty <= self.call_penalty < 0:
            raise ValueError("penalties must be negative and ordered loop <= line <= call "
                             "(the more degenerate the repetition, the lower the reward)")


def _words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(_TAG.sub(" ", text))]


def _grams(words: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]


def _unquoted_runs(words: list[str], quoted: set[tuple[str, ...]]) -> list[list[str]]:
    """The turn's words with its quotations of the tool responses cut out (a run of `_QUOTE_WORDS` or more words
    that the environment wrote; once per turn), as the runs of the policy's own words between them."""
    covered, seen = [False] * len(words), set()
    for i, gram in enumerate(_grams(words, _QUOTE_WORDS)):
        if gram in quoted and gram not in seen:  # quoting the same words twice in one turn is looping again
            seen.add(gram)
            covered[i:i + _QUOTE_WORDS] = [True] * _QUOTE_WORDS
    runs, run = [], []
    for word, cut in zip(words, covered):
        if cut:
            if run:
                runs.append(run)
            run = []
        else:
            run.append(word)
    return runs + [run] if run else runs


def _tool_text(trajectory: Trajectory) -> str:
    """What the environment told the policy after its first turn: tool responses, errors, notes."""
    return "\n".join(m.text for m in trajectory.messages[2:] if m.role in ("tool", "user"))


def repetition_penalty(trajectory: Trajectory, config: RepetitionConfig = RepetitionConfig()) -> tuple[float, str]:
    """(R_rep, reason) for a trajectory; R_rep is 0 and reason '' when nothing repeats."""
    # tool calls are judged by the call tier only: the same JSON twice is a repeated call, not a repeated line
    turns = [_CALL_BLOCK.sub("\n", step.action) for step in trajectory.steps]
    quoted = set(_grams(_words(_tool_text(trajectory)), _QUOTE_WORDS))
    grams = Counter(gram for turn in turns for run in _unquoted_runs(_words(turn), quoted)
                    for gram in _grams(run, config.ngram))
    if grams:
        gram, count = grams.most_common(1)[0]
        if count >= config.ngram_repeats:
            return config.loop_penalty, f"the {config.ngram}-gram '{' '.join(gram)}' occurs {count} times"
    own = _TAG.sub(" ", "\n".join(turns)).encode("utf-8", "replace")
    if len(own) >= config.min_loop_chars:
        ratio = len(zlib.compress(own, 6)) / len(own)
        if ratio < config.max_compression_ratio:
            return config.loop_penalty, (f"the policy's {len(own)} bytes of text compress to {ratio:.1%} of their "
                                         "size: a loop")
    for index, turn in enumerate(turns, 1):
        lines = Counter(
            norm for line in _TAG.sub("\n", turn).splitlines()
            if len(norm := " ".join(line.split()).casefold()) >= config.min_line_chars
            and len(_WORD.findall(norm)) >= config.min_line_words
        )
        if lines:
            line, count = lines.most_common(1)[0]
            if count >= config.line_repeats:
                return config.line_penalty, f"turn {index}: the line '{line[:60]}' occurs {count} times"
    calls = Counter(
        (call.name, json.dumps(call.arguments, sort_keys=True))
        for call in trajectory.tool_calls if call.name is not None and call.arguments is not None
    )
    if calls:
        (name, arguments), count = calls.most_common(1)[0]
        if count >= 2:
            return config.call_penalty, f"tool '{name}' called {count} times with the same arguments {arguments}"
    return 0.0, ""


def format_problems(trajectory: Trajectory, *, min_think_words: int = 1,
                    forgive_recovered_calls: bool = False) -> list[str]:
    """Why the trajectory's format is invalid; empty when it is valid (the rule is in the module doc)."""
    problems = [f"turn {step.index}: {err.message}" for step in trajectory.steps for err in step.format_errors]
    problems += [f"turn {step.index}: the <think> block has fewer than {min_think_words} word(s) of reasoning"
                 for step in trajectory.steps
                 if step.think is not None and len(step.think.split()) < min_think_words]
    forgiven = recoveries(trajectory) if forgive_recovered_calls else [False] * len(trajectory.tool_calls)
    problems += [f"tool call {call.raw[:40]!r}: {call.error.error_class.value}"
                 for call, forgive in zip(trajectory.tool_calls, forgiven)
                 if call.error is not None and call.error.error_class in _FORMAT_CALL_CLASSES and not forgive]
    answers = [step for step in trajectory.steps if step.answer is not None]
    if len(answers) != 1 or trajectory.steps[-1].answer is None or not trajectory.steps[-1].answer.strip():
        problems.append("the episode must end with exactly one non-empty <answer>")
    return problems


VALID = "valid"


def format_valid(trajectory: Trajectory) -> bool:
    """The format verdict of the reward the episode was judged by (its own think rule and recovery option), else
    of the default rule."""
    verdict = trajectory.metadata.get("reward_details", {}).get("format")
    return verdict == VALID if verdict is not None else not format_problems(trajectory)


class HierarchicalReward(Reward):
    name = "hierarchical"
    description = "repetition penalty, then format, then correctness (the paper's reward)"

    def __init__(self, repetition: RepetitionConfig = RepetitionConfig(), format_penalty: float = -1.0, *,
                 min_think_words: int = 1, forgive_recovered_calls: bool = False):
        repetition.validate()
        if not repetition.call_penalty < format_penalty < 0:
            raise ValueError(f"format_penalty must lie between the mildest repetition penalty "
                             f"({repetition.call_penalty}) and 0, got {format_penalty}")
        if min_think_words < 0:
            raise ValueError(f"min_think_words must be >= 0 (0 accepts an empty <think>), got {min_think_words}")
        self.repetition = repetition
        self.format_penalty = format_penalty
        self.min_think_words = min_think_words
        self.forgive_recovered_calls = forgive_recovered_calls

    def compute(self, trajectory: Trajectory, example: Example, task: Task) -> RewardResult:
        r_rep, why = repetition_penalty(trajectory, self.repetition)
        components = {"repetition": r_rep, "format": 0.0, "correctness": 0.0}
        # the format is judged whatever the tier (reports count it), though the reward takes it only without repetition
        problems = format_problems(trajectory, min_think_words=self.min_think_words,
                                   forgive_recovered_calls=self.forgive_recovered_calls)
        details = {"format": "; ".join(problems[:3]) if problems else VALID}
        if r_rep < 0:
            return RewardResult(total=r_rep, components=components, details={"repetition": why, **details})
        if problems:
            components["format"] = self.format_penalty
            return RewardResult(total=self.format_penalty, components=components, details=details)
        score = trajectory.score if trajectory.score is not None else task.score(trajectory.final_answer, example)
        if "score_error" in trajectory.metadata:
            details["correctness"] = f"the scorer raised: {trajectory.metadata['score_error']}"
        components["correctness"] = float(score)
        return RewardResult(total=components["correctness"], components=components, details=details)
