import math
import re

import pytest
from vista.checks import check_task
from vista_tasks.procedural import ShapeSceneConfig, ShapeSceneTask
from vista_tasks.procedural._scene import COLORS
from vista_tasks.procedural.shape_scene import QUESTION_TYPES
from vista_tasks.procedural.testing import generator_problems


def test_generator_contract():
    assert generator_problems(ShapeSceneTask(), seeds=range(5)) == []


def test_check_task_on_both_splits():
    task = ShapeSceneTask()
    for split in task.splits:
        assert [p for p in check_task(task, split, raise_on_error=False) if p.level == "error"] == []


def _matches(obj, described):
    return all(obj[key] == value for key, value in described.items())


@pytest.mark.parametrize("qtype", QUESTION_TYPES)
def test_answers_follow_from_the_objects_behind_the_scene(qtype):
    task = ShapeSceneTask(ShapeSceneConfig(difficulty=2, question_types=(qtype,)))
    for example in task.load("test", seed=21, limit=4):
        objects, query = example.metadata["objects"], example.metadata["query"]
        if query["type"] == "count":
            assert int(example.answer) == sum(_matches(o, query["filter"]) for o in objects)
        elif query["type"] == "exist":
            assert example.answer == ("Yes" if any(_matches(o, query["filter"]) for o in objects) else "No")
        elif query["type"] == "attribute":
            (target,) = [o for o in objects if _matches(o, query["filter"])]
            assert example.answer == target[query["attribute"]]
        else:
            first, second = (sum(_matches(o, f) for o in objects) for f in query["filters"])
            assert example.answer == ("Yes" if first > second else "No")


def test_objects_are_drawn_where_the_metadata_says_in_their_colour():
    task = ShapeSceneTask(ShapeSceneConfig(difficulty=2))
    for example in task.load("train", seed=0, limit=3):
        image = example.open_images()[0]
        objects = example.metadata["objects"]
        for obj in objects:
            x, y = obj["center"]
            assert 0 <= obj["bbox"][0] and obj["bbox"][2] <= image.width and obj["bbox"][3] <= image.height
            pixel = image.getpixel((x, y))
            assert max(abs(a - b) for a, b in zip(pixel, COLORS[obj["color"]])) <= 3, (obj, pixel)
        for a in objects:
            for b in objects:
                if a is not b:
                    assert math.dist(a["center"], b["center"]) > a["radius"] + b["radius"]


def test_oracle_asks_the_classical_detector_for_what_the_question_names():
    task = ShapeSceneTask()
    (step,) = task.oracle(task.generate(2)).steps
    assert step.tool == "detect_objects" and step.arguments["backend"] == "classical"
    for example in ShapeSceneTask(ShapeSceneConfig(difficulty=1)).load("train", limit=30):
        (step,) = task.oracle(example).steps
        prompt = step.arguments["prompt"]
        assert re.search(rf"\b{re.escape(prompt)}\b", example.question)  # "How many red circles ..." -> "red circles"
        if example.metadata["query"]["type"] == "count":  # the span the question names, word for word
            assert example.question == f"How many {prompt} are there?"
