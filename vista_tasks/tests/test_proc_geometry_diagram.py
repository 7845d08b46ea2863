import math
import re

import pytest
from vista.checks import check_task
from vista_tasks.procedural import GeometryConfig, GeometryDiagramTask
from vista_tasks.procedural.geometry_diagram import PROBLEM_TYPES
from vista_tasks.procedural.testing import generator_problems


def test_generator_contract():
    assert generator_problems(GeometryDiagramTask(), seeds=range(3)) == []


def test_check_task():
    problems = check_task(GeometryDiagramTask(), "train", n=2, raise_on_error=False)
    assert [p for p in problems if p.level == "error"] == []


def _angle(points, p, v, q):
    a = math.atan2(points[p][1] - points[v][1], points[p][0] - points[v][0])
    b = math.atan2(points[q][1] - points[v][1], points[q][0] - points[v][0])
    degrees = abs(math.degrees(a - b)) % 360
    return min(degrees, 360 - degrees)


def _length(points, p, q):
    return math.dist(points[p], points[q])


@pytest.mark.parametrize("problem_type", PROBLEM_TYPES)
def test_the_diagram_satisfies_its_logic_form_and_gives_the_answer(problem_type):
    """Measure the drawn figure: given angles are drawn exactly, given lengths to one common scale, and the goal
    measured on the figure is the answer."""
    task = GeometryDiagramTask(GeometryConfig(difficulty=2, problem_types=(problem_type,)))
    for example in task.load("test", seed=3, limit=2):
        points = {k: tuple(v) for k, v in example.metadata["points"].items()}
        form = example.metadata["logic_form"]
        assert form["goal"] in example.question and all(c in example.question for c in form["constraints"])
        scales = []
        for constraint in form["constraints"]:
            if m := re.fullmatch(r"Equal\(MeasureOfAngle\((\w),(\w),(\w)\),([\d.]+)\)", constraint):
                assert _angle(points, *m.groups()[:3]) == pytest.approx(float(m.group(4)), abs=1e-2)
            elif m := re.fullmatch(r"Equal\(LengthOfLine\((\w),(\w)\),([\d.]+)\)", constraint):
                scales.append(float(m.group(3)) / _length(points, *m.groups()[:2]))
            elif m := re.fullmatch(r"Perpendicular\(Line\((\w),(\w)\),Line\((\w),(\w)\)\)", constraint):
                assert _angle(points, m.group(1), m.group(2), m.group(4)) == pytest.approx(90, abs=1e-2)
            elif m := re.fullmatch(r"PointLiesOnCircle\((\w),Circle\((\w)\)\)", constraint):
                radius = example.metadata["circles"][0]["radius"]
                assert _length(points, m.group(1), m.group(2)) == pytest.approx(radius, abs=1e-3)
            elif m := re.fullmatch(r"PointLiesOnLine\((\w),Line\((\w),(\w)\)\)", constraint):
                p, a, b = m.groups()
                assert _length(points, a, p) + _length(points, p, b) == pytest.approx(_length(points, a, b))
            else:
                assert re.fullmatch(r"Equal\(LengthOfLine\(\w,\w\),LengthOfLine\(\w,\w\)\)", constraint), constraint
        assert all(s == pytest.approx(scales[0], rel=1e-3) for s in scales)
        scale = scales[0] if scales else 1.0
        goal = form["goal"]
        if m := re.fullmatch(r"Value\(MeasureOfAngle\((\w),(\w),(\w)\)\)", goal):
            measured = _angle(points, *m.groups())
        elif m := re.fullmatch(r"Value\(LengthOfLine\((\w),(\w)\)\)", goal):
            measured = _length(points, *m.groups()) * scale
        else:
            radius = example.metadata["circles"][0]["radius"] * scale
            measured = math.pi * radius ** 2 if "AreaOf" in goal else 2 * math.pi * radius
        assert task.score(f"{measured:.4f}", example) == 1.0, (example.question, measured)


def test_oracle_calls_the_solver_with_the_formal_description():
    task = GeometryDiagramTask()
    example = task.generate(5)
    (step,) = task.oracle(example).steps
    assert step.tool == "geometry_solve"
    assert step.arguments == example.metadata["logic_form"]


def test_problem_types_override_difficulty_and_bad_ones_are_refused():
    task = GeometryDiagramTask(GeometryConfig(difficulty=0, problem_types=("inscribed_angle",)))
    assert task.generate(0).metadata["problem_type"] == "inscribed_angle"
    with pytest.raises(ValueError, match="problem_types"):
        GeometryDiagramTask(GeometryConfig(problem_types=("hexagon",)))


@pytest.mark.parametrize("problem_type", PROBLEM_TYPES)
def test_problems_are_well_posed_for_many_seeds(problem_type):
    # the builders alone (no rendering), so many seeds are cheap
    import random

    from vista_tasks.procedural.geometry_diagram import _BUILDERS

    for seed in range(200):
        problem = _BUILDERS[problem_type](random.Random(seed), 2)
        assert 0 < problem.value < 1e4 and math.isfinite(problem.value)
        points = list(problem.points.values())
        assert all(math.dist(p, q) > 0.05 for i, p in enumerate(points) for q in points[i + 1:])
