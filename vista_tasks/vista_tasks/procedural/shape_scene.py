"""shape_scene: CLEVR-like questions about a rendered 2-D scene of coloured circles, squares and triangles.

Question types: count ("How many red circles are there?"), attribute query ("What color is the large triangle?",
about an object the question names uniquely), existence ("Is there a purple square?") and count comparison ("Are
there more red objects than blue objects?"); `shape_count` is the same generator asking counts only. Difficulty:
0 = 3-5 objects, counts and existence by one attribute; 1 = 5-8 objects, two-attribute counts, attribute queries;
2 = 7-11 objects, rotated shapes, three-attribute filters and count comparisons. Metadata: objects (shape, color,
size, center, radius, bbox) and query (type, filters).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from vista import Example, OracleSolution, OracleStep

from ._base import ProceduralConfig, ProceduralTask, choose_from
from ._scene import (
    COLORS,
    SHAPES,
    SIZES,
    Filter,
    detect_step,
    object_count_range,
    random_filter,
    random_scene,
    render_scene,
)

QUESTION_TYPES: tuple[str, ...] = ("count", "attribute", "exist", "compare")
_QUESTIONS_BY_DIFFICULTY = {0: ("count", "exist"), 1: ("count", "attribute", "exist"),
                            2: ("count", "attribute", "exist", "compare")}


@dataclass
class ShapeSceneConfig(ProceduralConfig):
    """`difficulty` (see the module docstring); `question_types`, when given, overrides the difficulty's."""

    question_types: tuple[str, ...] | None = None

    def validate(self) -> None:
        super().validate()
        if self.question_types is not None:
            choose_from("question_types", self.question_types, QUESTION_TYPES)


class ShapeSceneTask(ProceduralTask):
    name = "shape_scene"
    category = "spatial"
    description = "CLEVR-like 2-D scenes: counting, attribute queries, existence and count comparison."
    Config = ShapeSceneConfig
    recommended_tools = ("detect_objects", "zoom")

    def _generate(self, rng: random.Random, config: ShapeSceneConfig) -> dict[str, Any]:
        qtype = rng.choice(config.question_types or _QUESTIONS_BY_DIFFICULTY[config.difficulty])
        objects = random_scene(rng, rng.randint(*object_count_range(config.difficulty)),
                               rotate=config.difficulty == 2)
        query = _ask(rng, qtype, objects, config.difficulty)
        question, answer, answer_type = query.pop("question"), query.pop("answer"), query.pop("answer_type")
        return {"images": [render_scene(rng, objects)], "question": question, "answer": answer,
                "answer_type": answer_type, "metadata": {"objects": objects, "query": query}}

    def oracle(self, example: Example) -> OracleSolution:
        """Ask the detector for what the question names, in the question's own words ("How many red circles are
        there?" -> prompt 'red circles') and answer from what it found: the count it prints, whether it found any,
        the one object's attributes; a comparison asks once per side. Each answer is then read off the tool's output,
        not counted in the head."""
        query = example.metadata["query"]
        flts = [Filter(**f) for f in query["filters"]] if query["type"] == "compare" else [Filter(**query["filter"])]
        objects = example.metadata["objects"]
        counts = [flt.count(objects) for flt in flts]
        plural = query["type"] in ("count", "compare")  # as the question words it: "How many red circles ..."
        sides = ("first", "second") if len(flts) > 1 else ("",)
        steps = [_find_step(flt, why, plural) for flt, why in zip(flts, sides)]
        if query["type"] in ("count", "exist"):
            (flt,), (count,) = flts, counts
            reason = f"There {'is' if count == 1 else 'are'} {count} {flt.phrase(count != 1)}."
        elif query["type"] == "attribute":
            reason = f"The only {flts[0].phrase(False)} is {example.answer}."
        else:
            reason = " and ".join(f"{n} {flt.phrase(n != 1)}" for flt, n in zip(flts, counts))
            reason = f"There {'is' if counts[0] == 1 else 'are'} {reason}."
        evidence = [found(flt, n, plural) for flt, n in zip(flts, counts)]
        if query["type"] == "attribute":
            evidence.append(str(example.answer))  # the one object's listing names its colour, shape and size
        return OracleSolution(steps=steps, answer=str(example.answer), rationale=reason, evidence=evidence)


@dataclass
class ShapeCountConfig(ShapeSceneConfig):
    """`ShapeSceneConfig` whose questions are counts only (any difficulty: the difficulty sets the scene and how
    many attributes a filter names)."""

    question_types: tuple[str, ...] | None = ("count",)


class ShapeCountTask(ShapeSceneTask):
    """shape_scene's counting questions alone ("How many small red circles are there?"), the default demo's task:
    the answer is the count that `detect_objects` prints first when prompted with what the question names, while a
    policy without tools has to count from the pixels. Same seeds, same scenes and questions as shape_scene would
    draw with ``question_types=("count",)``."""

    name = "shape_count"
    description = "CLEVR-like 2-D scenes, counting questions only: how many objects match a colour, shape or size."
    Config = ShapeCountConfig


def _find_step(flt: Filter, which: str, plural: bool) -> OracleStep:
    """The detector prompted with the filter's phrase as the question words it (``plural`` for counts): the call
    copies a span of the question rather than rewording it."""
    what = flt.phrase(plural)
    think = (f"I will find the {which} group, the {what}, with the detector." if which else
             f"I will find the {what} with the detector and answer from what it finds.")
    return detect_step(think, prompt=what)


def found(flt: Filter, count: int, plural: bool = False) -> str:
    """What `detect_objects` prints first when prompted with the filter's phrase (plural or not) and it finds
    `count` objects."""
    return f"{count} object{'s' if count > 1 else ''} found" if count else f"no {flt.phrase(plural)} found"


def _ask(rng: random.Random, qtype: str, objects: list[dict[str, Any]], difficulty: int) -> dict[str, Any]:
    attributes = min(difficulty + 1, 3)
    if qtype == "count":
        # Prefer a filter that matches something, as CLEVR's questions mostly do.
        pick = rng.choice(objects)
        wanted = random_filter(rng, rng.randint(1, attributes))
        flt = Filter(**{k: pick[k] for k in wanted.as_dict()}) if rng.random() < 0.8 else wanted
        return {"type": "count", "filter": flt.as_dict(), "question": f"How many {flt.phrase()} are there?",
                "answer": str(flt.count(objects)), "answer_type": "integer"}
    if qtype == "exist":
        flt = random_filter(rng, min(2, attributes))
        article = "an" if flt.phrase(False)[0] in "aeiou" else "a"
        return {"type": "exist", "filter": flt.as_dict(), "question": f"Is there {article} {flt.phrase(False)}?",
                "answer": "Yes" if flt.count(objects) else "No", "answer_type": "boolean"}
    if qtype == "attribute":
        for _ in range(50):
            target = rng.choice(objects)
            asked = rng.choice(("color", "shape", "size"))
            others = [a for a in ("color", "shape", "size") if a != asked]
            for known in ([rng.choice(others)], others):
                flt = Filter(**{k: target[k] for k in known})
                if flt.count(objects) == 1:
                    question = {"color": "What color is the {}?", "shape": "What shape is the {}?",
                                "size": "What size is the {}?"}[asked].format(flt.phrase(False))
                    if asked == "size":
                        question += f" Answer {' or '.join(SIZES)}."
                    return {"type": "attribute", "filter": flt.as_dict(), "attribute": asked, "question": question,
                            "answer": target[asked], "answer_type": "text"}
        # No object is named uniquely by its attributes (a scene of look-alikes): ask for a count instead.
        return _ask(rng, "count", objects, difficulty)
    options = {"color": list(COLORS), "shape": list(SHAPES), "size": list(SIZES)}
    for _ in range(50):
        attribute = rng.choice(list(options))
        one, other = rng.sample(options[attribute], 2)
        first, second = Filter(**{attribute: one}), Filter(**{attribute: other})
        if first.count(objects) != second.count(objects):
            more = first.count(objects) > second.count(objects)
            return {"type": "compare", "filters": [first.as_dict(), second.as_dict()],
                    "question": f"Are there more {first.phrase()} than {second.phrase()}?",
                    "answer": "Yes" if more else "No", "answer_type": "boolean"}
    return _ask(rng, "count", objects, difficulty)
