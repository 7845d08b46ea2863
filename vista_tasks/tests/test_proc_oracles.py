"""Across all generators: oracles call only tools, and pass only arguments, that the tool catalogue names, and name
the evidence their answers follow from."""

import re
import types
from pathlib import Path

import pytest
import vista
from vista.task import evidence_missing
from vista.testing import registered_plugin
from vista_tasks.procedural import PROCEDURAL_TASKS
from vista_tasks.procedural._base import DIFFICULTIES, calculated

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


@pytest.mark.parametrize("task", PROCEDURAL_TASKS, ids=lambda t: t.name)
def test_oracles_name_the_evidence_their_answers_follow_from(task):
    for difficulty in DIFFICULTIES:
        generator = type(task)(type(task.config)(difficulty=difficulty))
        for example in generator.load("test", seed=0, limit=6):
            evidence = generator.oracle(example).evidence
            assert evidence, f"{example.id} (difficulty {difficulty}): no evidence"
            # every item has something to match: an item without words or numbers would never be missing
            assert evidence_missing(evidence, "") == evidence, evidence
            expression = example.metadata.get("query", {}).get("expression")
            if expression and example.answer_type in ("float", "integer"):
                # the calculation's value is the answer before rounding
                value = calculated(expression)[1]
                assert value in evidence and float(value) == pytest.approx(float(example.answer), abs=0.005), \
                    (expression, evidence, example.answer)


def test_calculated_gives_the_expression_and_its_value_as_the_calculator_prints_it():
    assert calculated("38 - 14") == ["38 - 14", "24"]
    assert calculated("(27 + 5 + 7 + 9 + 21) / 5") == ["(27 + 5 + 7 + 9 + 21) / 5", "13.8"]
    assert calculated("89 / 62") == ["89 / 62", "1.43548387096774"]       # what follows the calculator's "≈"
    assert calculated("40.00 - (4.75 + 2 * 1.25)")[1] == "32.75"
    assert calculated("12.34 * (1 + 8 / 100)")[1] == "13.3272"
    assert calculated("0.1 + 0.2")[1] == "0.3"                              # exact decimals, not binary floats
    assert evidence_missing(calculated("89 / 62"), "89 / 62 = 89/62 ≈ 1.43548387096774") == []
    for bad in ("2 ** 8", "x + 1", "abs(-3)"):
        with pytest.raises(ValueError):
            calculated(bad)
