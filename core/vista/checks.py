"""`check_tool` and `check_task`: what a plugin author runs to see that a tool or task keeps its contract.

Modelled on Gymnasium's `check_env`: each problem says what is wrong and how to fix it.
"""

from __future__ import annotations

import itertools
import json
from typing import Literal

from PIL import Image
from pydantic import BaseModel

from .errors import ErrorClass, VistaError
from .execution import call_tool
from .plugins import RegistrationError, _check_task, _check_tool
from .task import Example, Task
from .tool import Tool, ToolContext


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
