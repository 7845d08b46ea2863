"""geometry_solve: the Inter-GPS-style solver on problems with known answers, its theorem chains, and its errors."""

from __future__ import annotations

import math
import random

import pytest
import vista
from geometry_problems import BUILDERS
from vista import ErrorClass
from vista_tools_diagram.solver import GeometryError, UnderdeterminedError, solve
from vista_tools_diagram.tools import GeometrySolve

# The theorem each kind of problem cannot be solved without (either of a tuple: AB = AC makes it isosceles).
KEY_THEOREM = {
    "pythagoras": "Pythagorean theorem", "angle_sum": "triangle angle sum",
    "isosceles": "isosceles triangle base angles", "supplementary": "supplementary angles",
    "inscribed": "inscribed angle theorem", "tangent": "tangent perpendicular to radius",
    "parallel": "parallel lines: alternate angles", "similar": "similar triangles (parallel lines)",
    "area": "triangle area (½·base·height)", "law_of_cosines": ("law of cosines", "law of sines"),
    "thales": "angle in a semicircle (Thales)",
}


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_solves_each_kind_of_problem_from_its_formal_description(kind):
    for seed in (0, 7):
        problem = BUILDERS[kind](random.Random(seed))
        solution = solve(problem.constraints, problem.goal)
        assert solution.value == pytest.approx(problem.answer, rel=1e-9), (problem.constraints, solution.steps)
        if kind in KEY_THEOREM:
            key = KEY_THEOREM[kind]
            assert set(key if isinstance(key, tuple) else (key,)) & set(solution.theorems), solution.steps


def test_exact_values_and_the_chain_of_steps():
    solution = solve(["Triangle(A,B,C)", "Equal(LengthOfLine(A,B),5)", "Equal(LengthOfLine(A,C),7)",
                      "Equal(MeasureOfAngle(B,A,C),60)"], "LengthOfLine(B,C)")
    assert solution.exact == "sqrt(39)" and solution.value == pytest.approx(math.sqrt(39))
    assert solution.theorems == ["law of cosines"]
    assert solution.steps[-1].endswith("LengthOfLine(B,C) = sqrt(39)")


def test_multi_step_chain_across_triangles():
    # D on BC: ∠ADC = 110° gives ∠ADB = 70°, then triangle ABD with ∠B = 50° gives ∠BAD = 60°.
    solution = solve(["Triangle(A,B,C)", "PointLiesOnLine(D,Line(B,C))", "Line(A,D)",
                      "Equal(MeasureOfAngle(A,D,C),110)", "Equal(MeasureOfAngle(A,B,C),50)"],
                     "MeasureOfAngle(B,A,D)")
    assert solution.value == pytest.approx(60)
    assert solution.theorems == ["supplementary angles", "triangle angle sum"]


def test_variables_inter_gps_wrappers_and_formalgeo_point_runs():
    assert solve(["Triangle(A,B,C)", "Equal(LengthOf(Line(A,B)),Add(Mul(2,x),1))", "Equal(LengthOfLine(AC),3x-4)",
                  "Equal(LengthOfLine(A,B),LengthOfLine(A,C))"], "x").value == pytest.approx(5)
    assert solve(["Equal(MeasureOf(Angle(A,B,C)),2*y)", "Equal(MeasureOfAngle(ABC),70)"], "Find(y)").value == 35
    assert solve(["Circle(O)", "Equal(DiameterOfCircle(O),10)"],
                 "Value(AreaOf(Circle(O)))").value == pytest.approx(25 * math.pi)


def test_vertical_angles_and_collinear_points_share_an_angle():
    constraints = ["PointLiesOnLine(E,Line(A,B))", "PointLiesOnLine(E,Line(C,D))", "Equal(MeasureOfAngle(A,E,C),35)"]
    solution = solve(constraints, "MeasureOfAngle(B,E,D)")
    assert solution.value == 35 and solution.theorems == ["vertical angles"]
    # ∠CAB and ∠CAE are one angle when E lies on ray AB
    assert solve(["PointLiesOnLine(E,Line(A,B))", "Line(A,C)", "Equal(MeasureOfAngle(C,A,B),20)"],
                 "MeasureOfAngle(C,A,E)").value == 20


def test_underdetermined_goal_says_what_stays_unknown():
    with pytest.raises(UnderdeterminedError, match="LengthOfLine\\(A,C\\)"):
        solve(["Triangle(A,B,C)", "Equal(LengthOfLine(A,B),3)"], "LengthOfLine(A,C)")


@pytest.mark.parametrize("constraints, goal, match", [
    (["Rhombus(A,B,C,D)"], "LengthOfLine(A,B)", "unsupported predicate Rhombus"),
    (["Equal(LengthOfLine(A,B),5"], "LengthOfLine(A,B)", "does not parse"),
    (["Equal(MeasureOfAngle(A,B,A),5)"], "LengthOfLine(A,B)", "three different points"),
    (["Equal(LengthOfLine(A,B),5)"], "VolumeOf(A)", "unsupported function VolumeOf"),
    (["Equal(LengthOfLine(A,B),AB)"], "LengthOfLine(A,B)", "is a point where a number was expected"),
])
def test_bad_descriptions_raise_geometry_errors(constraints, goal, match):
    with pytest.raises(GeometryError, match=match):
        solve(constraints, goal)


def test_tool_classifies_bad_content_as_e4_and_bad_types_as_e3():
    tools = {"geometry_solve": GeometrySolve()}
    ok = vista.call_tool("geometry_solve", {"constraints": ["Circle(O)", "Equal(RadiusOfCircle(O),2)"],
                                            "goal": "PerimeterOfCircle(O)"}, tools=tools)
    assert ok.ok and ok.data["value"] == pytest.approx(4 * math.pi) and ok.data["exact"] == "4*π"
    assert ok.data["theorems"] == ["circumference of a circle"]
    unknown = vista.call_tool("geometry_solve", {"constraints": ["Kite(A,B,C,D)"], "goal": "x"}, tools=tools)
    assert unknown.error.error_class is ErrorClass.E4 and unknown.error.argument == "constraints"
    assert "Perpendicular" in unknown.error.message  # the message lists what is supported
    bad_goal = vista.call_tool("geometry_solve", {"constraints": ["Line(A,B)"], "goal": "LengthOfLine(A,B"},
                               tools=tools)
    assert bad_goal.error.error_class is ErrorClass.E4 and bad_goal.error.argument == "goal"
    unknown_goal = vista.call_tool("geometry_solve", {"constraints": ["Line(A,B)"], "goal": "VolumeOf(A)"},
                                   tools=tools)
    assert unknown_goal.error.argument == "goal" and "unsupported function VolumeOf" in unknown_goal.error.message
    wrong_type = vista.call_tool("geometry_solve", {"constraints": "Line(A,B)", "goal": "x"}, tools=tools)
    assert wrong_type.error.error_class is ErrorClass.E3
