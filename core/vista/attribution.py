"""E1–E6 attribution: the error classes of each step, the primary error of a finished trajectory, and the paper's
error-attribution table over a set of trajectories.

Primary error of a trajectory (None when its answer is correct): the first *unrecovered* tool-call error of
class E1–E5; else FORMAT when the protocol was violated (no answer, broken tags); else TOOL_FAILURE when a tool
crashed or timed out; else E6 when some tool returned valid output and the answer is still wrong; else NO_TOOL (a
wrong answer reached without any valid tool output, which the paper's E6 does not cover).

A call error is *recovered* when a call in a later turn (after the policy saw the error) succeeded: any call for E1 (a
call that is not JSON or names no tool has no tool to retry), a call to the same tool for E2–E5 and TOOL_FAILURE (a
crash or timeout retried with success leaves the answer to the reasoning: E6 if it is wrong).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from .errors import TAXONOMY, ErrorClass
from .trajectory import StepRecord, ToolCallRecord, Trajectory

_CALL_CLASSES = (ErrorClass.E1, ErrorClass.E2, ErrorClass.E3, ErrorClass.E4, ErrorClass.E5)
# every class a failed trajectory can be attributed to, in the order tables list them
PRIMARY_CLASSES = (*TAXONOMY, ErrorClass.NO_TOOL, ErrorClass.FORMAT, ErrorClass.TOOL_FAILURE)


def step_error_classes(step: StepRecord) -> list[ErrorClass]:
    classes = [call.error.error_class for call in step.tool_calls if call.error is not None]
    if step.format_errors:
        classes.append(ErrorClass.FORMAT)
    return classes


def succeeded(call: ToolCallRecord) -> bool:
    """The call validated, ran and returned output without error."""
    return call.valid and call.error is None and (call.output_text is not None or call.output_data is not None)


def recoveries(trajectory: Trajectory) -> list[bool]:
    """For each tool call of the trajectory (in `Trajectory.tool_calls` order), whether its error was recovered from
    by a successful call in a later turn, after the policy saw the error (see the module doc); False for a call
    without error. One backward pass: the latest turn with a success, overall and per tool."""
    placed = [(step.index, call) for step in trajectory.steps for call in step.tool_calls]
    result = [False] * len(placed)
    latest_success, latest_by_tool = -1, {}
    for i in range(len(placed) - 1, -1, -1):
        turn, call = placed[i]
        if call.error is not None:
            latest = latest_success if call.error.error_class is ErrorClass.E1 else \
                latest_by_tool.get(call.name or call.error.tool, -1)
            result[i] = latest > turn
        if succeeded(call):
            latest_success = max(latest_success, turn)
            latest_by_tool[call.name] = max(latest_by_tool.get(call.name, -1), turn)
    return result


def primary_error(trajectory: Trajectory) -> ErrorClass | None:
    if trajectory.correct:
        return None
    calls = trajectory.tool_calls
    recovered = recoveries(trajectory)
    for call, fixed in zip(calls, recovered):
        if call.error is not None and call.error.error_class in _CALL_CLASSES and not fixed:
            return call.error.error_class
    if trajectory.format_errors or trajectory.final_answer is None:
        return ErrorClass.FORMAT
    if any(call.error is not None and call.error.error_class is ErrorClass.TOOL_FAILURE and not fixed
           for call, fixed in zip(calls, recovered)):
        return ErrorClass.TOOL_FAILURE
    return ErrorClass.E6 if any(succeeded(call) for call in calls) else ErrorClass.NO_TOOL


def error_attribution(trajectories: Iterable[Trajectory]) -> dict:
    """The paper's error-attribution table: for failed trajectories, the share whose primary error is each class,
    plus per-call rates of each class over all tool calls."""
    trajectories = list(trajectories)
    failed = [t for t in trajectories if not t.correct]
    primary = Counter((t.primary_error or primary_error(t)) for t in failed)
    calls = [call for t in trajectories for call in t.tool_calls]
    per_call = Counter(call.error.error_class for call in calls if call.error is not None)
    classes = PRIMARY_CLASSES
    return {
        "episodes": len(trajectories),
        "failed": len(failed),
        "tool_calls": len(calls),
        "primary": {c.value: {"count": primary.get(c, 0), "share": primary.get(c, 0) / len(failed) if failed else 0.0}
                    for c in classes},
        "per_call_rate": {c.value: per_call.get(c, 0) / len(calls) if calls else 0.0 for c in classes if c in
                          (*_CALL_CLASSES, ErrorClass.TOOL_FAILURE)},
    }


def attribution_markdown(table: dict) -> str:
    rows = ["| class | description | failed episodes | share |", "|---|---|---:|---:|"]
    for name, cell in table["primary"].items():
        rows.append(f"| {name} | {ErrorClass(name).description} | {cell['count']} | {cell['share']:.1%} |")
    return "\n".join(rows)
