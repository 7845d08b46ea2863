"""Across all generators: oracles call only tools, and pass only arguments, that the tool catalogue names."""

import re
import types
from pathlib import Path

import pytest
import vista
from vista.testing import registered_plugin
from vista_tasks.procedural import PROCEDURAL_TASKS

CATALOGUE = Path(__file__).resolve().parents[2] / "docs" / "tool-catalogue.md"


def _catalogue() -> dict[str, set[str]]:
    if not CATALOGUE.is_file():
        pytest.skip(f"the tool catalogue is not at {CATALOGUE}")
    tools = {}
    for line in CATALOGUE.read_text(encoding="utf-8").splitlines():
        cells = re.split(r"(?<!\\)\|", line)   # "\|" inside a cell is an escaped pipe, not a border
        if len(cells) > 3 and (m := re.fullmatch(r"\s*`(\w+)`\s*", cells[1])):
            tools[m.group(1)] = set(re.findall(r"`(\w+)`", cells[2]))
    return tools


@pytest.mark.parametrize("task", PROCEDURAL_TASKS, ids=lambda t: t.name)
def test_oracle_steps_use_catalogue_tools_and_arguments(task):
    tools = _catalogue()
    for difficulty in (0, 2):
        generator = type(task)(type(task.config)(difficulty=difficulty))
        for example in generator.load("test", seed=0, limit=1):
            solution = generator.oracle(example)
            assert solution.rationale and solution.answer == str(example.answer)
            for step in solution.steps:
                assert step.tool in tools, f"{task.name}: tool {step.tool!r} is not in the catalogue"
                unknown = set(step.arguments) - tools[step.tool]
                assert not unknown, f"{task.name}: {step.tool} has no arguments {unknown}"


def test_the_registry_accepts_every_generator():
    plugin = types.ModuleType("procedural_generators")

    @vista.hookimpl
    def register_tasks(register):
        for task in PROCEDURAL_TASKS:
            register(task)

    plugin.register_tasks = register_tasks
    with registered_plugin(plugin, "procedural_generators") as registry:
        for task in PROCEDURAL_TASKS:
            assert registry.tasks[task.name] is task and task.procedural
            assert set(task.splits) == {"train", "test"} and task.category in vista.CATEGORIES
