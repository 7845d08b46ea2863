"""What a plugin author runs to see that a plugin keeps its contracts: `check_tool` and `check_task` on one object,
`check_plugin` on everything one plugin registered (what `vista check-plugin NAME` runs).

Modelled on Gymnasium's `check_env`: each problem says what is wrong and how to fix it. `check_plugin` reports:
- the plugin's load failures (import error, misspelt hook, invalid registration), as errors;
- `check_tool` on each of its tools and `check_task` on each of its tasks;
- for each task, that its recommended tools exist and that its oracle's tool calls validate against them;
- each reward computed on small synthetic trajectories (a correct answer, a wrong one, one with no turns at all):
  it must not raise, must give finite numbers, must be deterministic, and should not pay a wrong answer more.
"""

from __future__ import annotations

import importlib.metadata
import itertools
import json
import math
from typing import Literal

from PIL import Image
from pydantic import BaseModel

from .errors import ErrorClass, VistaError, did_you_mean
from .execution import call_tool
from .plugins import ENTRY_POINT_GROUP, HOOKS, PluginFailure, RegistrationError, Registry, _check_task, _check_tool
from .protocol import ToolCall
from .reward import Reward, RewardResult
from .task import Example, Task
from .tool import Tool, ToolContext
from .trajectory import ContentPart, Message, StepRecord, Trajectory
from .validation import validate_call


class Problem(BaseModel):
    level: Literal["error", "warning"]
    subject: str
    message: str
    fix: str = ""

    def __str__(self) -> str:
        return f"{self.level}: {self.subject}: {self.message}" + (f" (fix: {self.fix})" if self.fix else "")


class CheckFailed(VistaError):
    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def _finish(problems: list[Problem], raise_on_error: bool) -> list[Problem]:
    if raise_on_error and any(p.level == "error" for p in problems):
        raise CheckFailed(problems)
    return problems


def check_tool(tool: Tool, image: Image.Image | None = None, *, raise_on_error: bool = True) -> list[Problem]:
    """Check registration rules, the schema the policy sees, a real run of each of `tool.examples`, and that
    malformed calls are classified. Returns warnings; raises `CheckFailed` on errors (unless told not to)."""
    subject = f"tool '{getattr(tool, 'name', tool)}'"
    problems: list[Problem] = []
    try:
        _check_tool(tool)
    except RegistrationError as exc:
        return _finish([Problem(level="error", subject=subject, message=str(exc))], raise_on_error)
    schema = tool.argument_schema()
    try:
        json.dumps(tool.spec())
    except TypeError as exc:
        problems.append(Problem(level="error", subject=subject, message=f"spec is not JSON-serialisable: {exc}",
                                fix="use JSON-compatible defaults in the Arguments model"))
    for name, prop in schema.get("properties", {}).items():
        if not prop.get("description"):
            problems.append(Problem(level="warning", subject=subject, message=f"argument '{name}' has no description",
                                    fix=f"declare it with Field(description=...) so the policy knows what '{name}' is"))
    if not tool.examples:
        problems.append(Problem(level="warning", subject=subject, message="no example arguments",
                                fix="set `examples = [{...}]` so checkers and docs can run the tool"))
    image = image if image is not None else Image.new("RGB", (64, 48), "white")
    tools = {tool.name: tool}
    for arguments in tool.examples:
        result = call_tool(tool.name, arguments, ToolContext([image]), tools=tools)
        if result.error is not None and result.error.error_class in (ErrorClass.E1, ErrorClass.E2, ErrorClass.E3):
            problems.append(Problem(level="error", subject=subject,
                                    message=f"example {arguments} does not validate: {result.error.message}",
                                    fix="make `examples` match the Arguments model"))
        elif result.error is not None and result.error.error_class is ErrorClass.E5:
            problems.append(Problem(level="error", subject=subject, message=result.error.message,
                                    fix="make run() return data that matches the Output model"))
        elif result.error is not None and result.error.code == "crashed":
            problems.append(Problem(level="error", subject=subject,
                                    message=f"example {arguments} crashed: {result.error.message}",
                                    fix="raise ToolArgumentError for bad content, ToolUnavailableError for missing "
                                        "weights; never let other exceptions out"))
        else:
            try:
                result.model_dump_json()
            except Exception as exc:  # any serialisation failure means the server and the log cannot carry it
                problems.append(Problem(level="error", subject=subject,
                                        message=f"result of {arguments} is not JSON-serialisable: {exc}",
                                        fix="return JSON-compatible data (lists, dicts, numbers, strings)"))
    bogus = call_tool(tool.name, {"__not_an_argument__": 1}, ToolContext([image]), tools=tools)
    if bogus.error is None or bogus.error.error_class is not ErrorClass.E2:
        problems.append(Problem(level="error", subject=subject, message="an unknown argument was not rejected as E2",
                                fix="derive Arguments from vista.ToolArguments (extra='forbid')"))
    return _finish(problems, raise_on_error)


def check_task(task: Task, split: str | None = None, *, data_dir=None, n: int = 3,
               raise_on_error: bool = True) -> list[Problem]:
    """Check registration rules, then load a few examples (when data is present): types, images, that the gold
    answer scores 1 and no answer scores 0, determinism for procedural tasks, and that the oracle scores 1."""
    subject = f"task '{getattr(task, 'name', task)}'"
    problems: list[Problem] = []

    def error(message: str, fix: str = "") -> None:
        problems.append(Problem(level="error", subject=subject, message=message, fix=fix))

    try:
        _check_task(task)
    except RegistrationError as exc:
        return _finish([Problem(level="error", subject=subject, message=str(exc))], raise_on_error)
    split = split or task.splits[0]
    status = task.data_status(data_dir)
    if not status.present:
        problems.append(Problem(level="warning", subject=subject, message="data not present; examples not checked",
                                fix=status.how_to_get or f"pass data_dir or set {task.data_env}"))
        return _finish(problems, raise_on_error)
    try:
        examples = list(itertools.islice(task.load(split, data_dir, seed=0, limit=n), n))
    except Exception as exc:  # report whatever the loader raised, with its type
        error(f"load('{split}') raised {type(exc).__name__}: {exc}")
        return _finish(problems, raise_on_error)
    if not examples:
        error(f"load('{split}') yielded no examples")
    for example in examples:
        if not isinstance(example, Example):
            error(f"load yielded {type(example).__name__}, not vista.Example")
            continue
        if example.task != task.name:
            error(f"example {example.id} has task '{example.task}', expected '{task.name}'")
        try:
            example.open_images()
        except Exception as exc:  # any decode failure is the loader's fault
            error(f"example {example.id}: an image does not open: {exc}")
        gold = task.score(str(example.answer), example)
        if gold != 1.0:
            error(f"example {example.id}: the gold answer {example.answer!r} scores {gold}, expected 1.0",
                  "make score() accept the answer as the dataset writes it")
        if task.score(None, example) != 0.0:
            error(f"example {example.id}: no answer does not score 0", "score(None, example) must return 0.0")
        oracle = task.oracle(example)
        if oracle is not None and task.score(oracle.answer, example) != 1.0:
            error(f"example {example.id}: the oracle answer {oracle.answer!r} does not score 1")
    if task.procedural and examples:
        again = list(itertools.islice(task.load(split, data_dir, seed=0, limit=n), n))
        if [(e.id, e.question, e.answer) for e in again] != [(e.id, e.question, e.answer) for e in examples]:
            error("the same seed gave different examples", "derive all randomness from the seed")
    return _finish(problems, raise_on_error)


_STAGE_FIXES: dict[str, str] = {
    "import": "make the plugin's module importable: run `python -c 'import {module}'` to see the traceback, and "
              "declare the packages it imports in its pyproject.toml dependencies (import heavy ones inside tools)",
    "load": "decorate hook functions with @vista.hookimpl, name them after the hooks in docs/hooks.md "
            f"({', '.join(HOOKS)}) and give them the hook's one parameter, `register`",
}
_HOOK_FIX = ("fix what {stage} hands to register(): the message names the object; run vista.checks.check_tool / "
             "check_task on it in a test")


def check_plugin(name: str, registry: Registry) -> list[Problem]:
    """All problems of the plugin ``name`` as loaded into ``registry``; an empty list means it keeps every
    contract. An unknown name is itself an error problem, naming the installed plugins."""
    subject = f"plugin '{name}'"
    failures = [f for f in registry.failures if f.name == name]
    info = registry.plugins.get(name)
    if info is None and not failures:
        installed = sorted(set(registry.plugins) | {f.name for f in registry.failures}
                           | {ep.name for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)})
        return [Problem(level="error", subject=subject,
                        message=f"no plugin named '{name}' is installed or loaded.{did_you_mean(name, installed)} "
                                f"Installed plugins: {', '.join(installed) or 'none'}",
                        fix="install its distribution (pip install ...) so that it declares the entry point "
                            f"[project.entry-points.{ENTRY_POINT_GROUP}] {name} = \"<module>\"; if it is installed, "
                            "select it with --plugins")]
    problems = [_failure_problem(failure, subject) for failure in failures]
    if info is None:
        return problems
    if not (info.tools or info.tasks or info.rewards) and not failures:
        problems.append(Problem(level="warning", subject=subject, message="registers no tool, task or reward",
                                fix="implement register_tools / register_tasks / register_rewards and call "
                                    "register(obj) in them"))
    for tool_name in info.tools:
        problems += check_tool(registry.tools[tool_name], raise_on_error=False)
    for task_name in info.tasks:
        task = registry.tasks[task_name]
        problems += check_task(task, raise_on_error=False)
        problems += _check_task_tools(task, registry)
    for reward_name in info.rewards:
        problems += _check_reward(registry.rewards[reward_name], [registry.tasks[t] for t in info.tasks])
    return problems


def _failure_problem(failure: PluginFailure, subject: str) -> Problem:
    entry_points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP, name=failure.name)
    module = next((ep.value.split(":")[0] for ep in entry_points), failure.name)
    fix = _STAGE_FIXES.get(failure.stage, _HOOK_FIX).format(module=module, stage=failure.stage)
    return Problem(level="error", subject=subject, message=f"failed at {failure.stage}: {failure.error}", fix=fix)


def _check_task_tools(task: Task, registry: Registry) -> list[Problem]:
    subject = f"task '{task.name}'"
    problems = [
        Problem(level="warning", subject=subject,
                message=f"recommended tool '{tool}' is not registered.{did_you_mean(tool, registry.tools)}",
                fix="install and select the plugin that provides it, or fix the name in recommended_tools")
        for tool in task.recommended_tools if tool not in registry.tools
    ]
    if not task.data_status().present:
        return problems
    try:
        example = next(iter(task.load(task.splits[0], seed=0, limit=1)))
        oracle = task.oracle(example)
    except Exception:  # check_task has already reported a loader that raises; nothing more to learn here
        return problems
    for step in oracle.steps if oracle is not None else ():
        if step.tool is None or step.tool not in registry.tools:
            continue  # an unregistered tool is reported above
        _, error = validate_call(ToolCall(name=step.tool, arguments=step.arguments), registry.tools)
        if error is not None:
            problems.append(Problem(level="error", subject=subject,
                                    message=f"the oracle of example {example.id} makes an invalid call: {error}",
                                    fix=f"make oracle() call '{step.tool}' with arguments that match its schema "
                                        f"(`vista tools` shows it)"))
    return problems


class _ExactMatch(Task):
    """The stand-in task for rewards of plugins without tasks of their own."""

    name = "reward_check"
    category = "math"

    def score(self, prediction: str | None, example: Example) -> float:
        return float(prediction is not None and prediction.strip() == str(example.answer))


def _synthetic_cases(tasks: list[Task]) -> list[tuple[Task, Example, str]]:
    """(task, example, a wrong answer): the plugin's own first procedural example when it has one, and always a
    plain arithmetic question, so that every reward is computed at least once."""
    cases: list[tuple[Task, Example, str]] = []
    for task in tasks:
        if task.procedural:
            try:
                example = next(iter(task.load(task.splits[0], seed=0, limit=1)))
            except Exception:  # check_task reports loaders that raise
                continue
            cases.append((task, example, "none of these" if example.choices is None else "Z"))
    cases.append((_ExactMatch(), Example(id="reward-check-0", task="reward_check", question="What is 2 + 3?",
                                         answer="5", answer_type="integer"), "6"))
    return cases


def _trajectory(example: Example, answer: str | None) -> Trajectory:
    steps = [] if answer is None else [StepRecord(index=1, action=f"<think>checking</think><answer>{answer}</answer>",
                                                  think="checking", answer=answer)]
    messages = [Message(role="user", content=[ContentPart.of_text(example.question)])]
    messages += [Message(role="assistant", content=[ContentPart.of_text(s.action)]) for s in steps]
    return Trajectory(id=f"check-{answer}", task=example.task, example_id=example.id, messages=messages, steps=steps,
                      final_answer=answer, ground_truth=example.answer, terminated=answer is not None)


def _check_reward(reward: Reward, tasks: list[Task]) -> list[Problem]:
    subject = f"reward '{reward.name}'"
    problems: list[Problem] = []

    def compute(task: Task, example: Example, answer: str | None) -> RewardResult | None:
        label = "no turns" if answer is None else f"answer {answer!r}"
        try:
            out = reward.compute(_trajectory(example, answer), example, task)
        except Exception as exc:  # a reward must judge any trajectory; whatever it raised is the problem
            problems.append(Problem(level="error", subject=subject,
                                    message=f"compute() raised {type(exc).__name__}: {exc} on a trajectory with "
                                            f"{label} (task '{task.name}')",
                                    fix="handle missing answers and empty steps: a malformed trajectory is what a "
                                        "reward has to judge"))
            return None
        if not isinstance(out, RewardResult):
            problems.append(Problem(level="error", subject=subject,
                                    message=f"compute() returned {type(out).__name__}, not a vista.RewardResult",
                                    fix="return RewardResult(total=..., components={...})"))
            return None
        numbers = {"total": out.total, **out.components}
        bad = {k: v for k, v in numbers.items() if not math.isfinite(v)}
        if bad:
            problems.append(Problem(level="error", subject=subject, message=f"non-finite values {bad} for {label}",
                                    fix="keep the total and every component a finite float"))
        return out

    for task, example, wrong in _synthetic_cases(tasks):
        right, again, worse, empty = (compute(task, example, str(example.answer)),
                                      compute(task, example, str(example.answer)),
                                      compute(task, example, wrong), compute(task, example, None))
        if right is not None and again is not None and right != again:
            problems.append(Problem(level="error", subject=subject,
                                    message="two computations on the same trajectory differ",
                                    fix="make compute() deterministic (no randomness, no state between calls)"))
        for other, label in ((worse, f"a wrong answer {wrong!r}"), (empty, "no answer")):
            if right is not None and other is not None and other.total > right.total:
                problems.append(Problem(
                    level="warning", subject=subject,
                    message=f"{label} gets more reward ({other.total}) than the right answer ({right.total}) "
                            f"on task '{task.name}'",
                    fix="check the sign and order of the reward's components"))
    return list({p.message: p for p in problems}.values())  # the same fault on several cases is reported once
