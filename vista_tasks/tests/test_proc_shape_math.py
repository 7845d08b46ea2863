import pytest
from vista.checks import check_task
from vista_tasks.procedural import ShapeMathConfig, ShapeMathTask
from vista_tasks.procedural.shape_math import QUESTION_TYPES
from vista_tasks.procedural.testing import generator_problems


def test_generator_contract():
    assert generator_problems(ShapeMathTask(), seeds=range(5)) == []


def test_check_task_on_both_splits():
    task = ShapeMathTask()
    for split in task.splits:
        assert [p for p in check_task(task, split, raise_on_error=False) if p.level == "error"] == []


def _execute(program, objects):
    """An independent reading of a CLEVR-Math program: remove, add, then count."""
    scene = [dict(o) for o in objects]
    for step in program[:-1]:
        if step["op"] == "subtract":
            scene = [o for o in scene if not all(o[k] == v for k, v in step["filter"].items())]
        else:
            scene += [dict(step["filter"]) for _ in range(step["k"])]
    return sum(all(o.get(k) == v for k, v in program[-1]["filter"].items()) for o in scene)


@pytest.mark.parametrize("qtype", QUESTION_TYPES)
def test_answers_follow_from_the_objects_and_the_program(qtype):
    task = ShapeMathTask(ShapeMathConfig(difficulty=2, question_types=(qtype,)))
    for example in task.load("test", seed=5, limit=5):
        query = example.metadata["query"]
        assert int(example.answer) == _execute(query["program"], example.metadata["objects"])
        assert eval(query["expression"], {"__builtins__": {}}) == int(example.answer)
        assert ("Subtract" in example.question) == any(s["op"] == "subtract" for s in query["program"])


def test_oracle_detects_then_calculates():
    task = ShapeMathTask()
    example = task.generate(4)
    detect, calculate = task.oracle(example).steps
    assert detect.tool == "detect_objects" and detect.arguments["backend"] == "classical"
    assert calculate.tool == "calculator"
    assert calculate.arguments == {"expression": example.metadata["query"]["expression"]}


@pytest.mark.parametrize("qtype", QUESTION_TYPES)
def test_many_seeds_give_answers_that_match_the_program(qtype):
    # scenes and programs alone (no rendering), so many seeds are cheap
    import random

    from vista_tasks.procedural._scene import random_scene
    from vista_tasks.procedural.shape_math import _program, _run

    for seed in range(100):
        rng = random.Random(seed)
        objects = random_scene(rng, rng.randint(3, 11))
        program = _program(rng, qtype, objects, 2)
        question, answer, expression = _run(program, objects)
        assert answer == _execute(program, objects) == eval(expression, {"__builtins__": {}}) >= 0
        assert question.endswith("?")
