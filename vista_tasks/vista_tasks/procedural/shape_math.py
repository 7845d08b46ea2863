"""shape_math: CLEVR-Math-style arithmetic over a rendered scene of coloured shapes.

Question types: subtraction ("Subtract all red objects. How many objects are left?"), addition ("Add 2 blue
squares. How many squares are there?"), and at higher difficulty subtraction followed by a filtered count
("Subtract all circles. How many red objects are left?") and two-hop programs (two subtractions, or a subtraction
and an addition). Difficulty: 0 = 3-5 objects, one subtraction or addition by one attribute; 1 = 5-8 objects,
two-attribute filters, subtract-then-count; 2 = 7-11 objects, rotated shapes, two-hop programs.
Metadata: objects (shape, color, size, center, radius, bbox) and query (the program: a list of operations).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from vista import Example, OracleSolution, OracleStep

from ._base import ProceduralConfig, ProceduralTask, calculated, choose_from
from ._scene import (
    Filter,
    describe,
    detect_step,
    inventory,
    object_count_range,
    random_filter,
    random_scene,
    render_scene,
)

QUESTION_TYPES: tuple[str, ...] = ("subtract", "add", "subtract_count", "two_hop")
_QUESTIONS_BY_DIFFICULTY = {0: ("subtract", "add"), 1: ("subtract", "add", "subtract_count"),
                            2: ("subtract_count", "two_hop")}


@dataclass
class ShapeMathConfig(ProceduralConfig):
    """`difficulty` (see the module docstring); `question_types`, when given, overrides the difficulty's."""

    question_types: tuple[str, ...] | None = None

    def validate(self) -> None:
        super().validate()
        if self.question_types is not None:
            choose_from("question_types", self.question_types, QUESTION_TYPES)


class ShapeMathTask(ProceduralTask):
    name = "shape_math"
    category = "spatial"
    description = "CLEVR-Math: add or remove objects from a rendered scene, then count."
    Config = ShapeMathConfig
    recommended_tools = ("detect_objects", "calculator")

    def _generate(self, rng: random.Random, config: ShapeMathConfig) -> dict[str, Any]:
        qtype = rng.choice(config.question_types or _QUESTIONS_BY_DIFFICULTY[config.difficulty])
        objects = random_scene(rng, rng.randint(*object_count_range(config.difficulty)),
                               rotate=config.difficulty == 2)
        program = _program(rng, qtype, objects, min(config.difficulty + 1, 2))
        question, answer, expression = _run(program, objects)
        return {"images": [render_scene(rng, objects)], "question": question, "answer": str(answer),
                "answer_type": "integer",
                "metadata": {"objects": objects, "query": {"type": qtype, "program": program,
                                                           "expression": expression}}}

    def oracle(self, example: Example) -> OracleSolution:
        objects, query = example.metadata["objects"], example.metadata["query"]
        steps = [detect_step("Detect every object with its colour, shape and size, then count the groups the "
                             "question names."),
                 OracleStep(think="Apply the question's operations to the counts.", tool="calculator",
                            arguments={"expression": query["expression"]})]
        rationale = (f"The scene has {len(objects)} objects: {describe(objects)}. "
                     f"{query['expression']} = {example.answer}.")
        return OracleSolution(steps=steps, answer=str(example.answer), rationale=rationale,
                              evidence=inventory(objects) + calculated(query["expression"]))


def _program(rng: random.Random, qtype: str, objects: list[dict[str, Any]], attributes: int) -> list[dict]:
    """A CLEVR-Math program: operations ("subtract" a filter, "add" k objects), then "count" a filter."""

    def present_filter() -> Filter:
        # Subtracting something absent teaches nothing; name attributes of an object in the scene.
        pick = rng.choice(objects)
        keys = random_filter(rng, rng.randint(1, attributes)).as_dict()
        return Filter(**{k: pick[k] for k in keys})

    def added() -> dict[str, Any]:
        new = random_filter(rng, 2)
        while new.shape is None:
            new = random_filter(rng, 2)
        return {"op": "add", "filter": new.as_dict(), "k": rng.randint(1, 3)}

    if qtype == "subtract":
        return [{"op": "subtract", "filter": present_filter().as_dict()}, {"op": "count", "filter": {}}]
    if qtype == "add":
        step = added()
        return [step, {"op": "count", "filter": {"shape": step["filter"]["shape"]}}]
    if qtype == "subtract_count":
        removed = present_filter()
        counted = random_filter(rng, 1)
        while counted.as_dict().keys() & removed.as_dict().keys():
            counted = random_filter(rng, 1)
        return [{"op": "subtract", "filter": removed.as_dict()}, {"op": "count", "filter": counted.as_dict()}]
    first = {"op": "subtract", "filter": present_filter().as_dict()}
    second = {"op": "subtract", "filter": present_filter().as_dict()} if rng.random() < 0.5 else added()
    return [first, second, {"op": "count", "filter": {}}]


def _run(program: list[dict], objects: list[dict[str, Any]]) -> tuple[str, int, str]:
    """Execute a program over the objects: the question text, the answer and the arithmetic that gives it."""
    remaining = [dict(o) for o in objects]
    counted = Filter(**program[-1]["filter"])
    sentences, terms = [], [str(counted.count(remaining))]
    for step in program[:-1]:
        flt = Filter(**step["filter"])
        if step["op"] == "subtract":
            sentences.append(f"Subtract all {flt.phrase()}.")
            gone = [o for o in remaining if flt.matches(o) and counted.matches(o)]
            remaining = [o for o in remaining if not flt.matches(o)]
            terms.append(f"- {len(gone)}")
        else:
            k = step["k"]
            sentences.append(f"Add {k} {flt.phrase(plural=k > 1)}.")
            # An added object has only the attributes the question gives it.
            new = [{"color": flt.color, "shape": flt.shape, "size": flt.size} for _ in range(k)]
            remaining += new
            if counted.matches(new[0]):
                terms.append(f"+ {k}")
    what = counted.phrase() if program[-1]["filter"] else "objects"
    sentences.append(f"How many {what} are left?" if program[0]["op"] == "subtract" else f"How many {what} are there?")
    answer = counted.count(remaining)
    expression = " ".join(terms)
    return " ".join(sentences), answer, expression
