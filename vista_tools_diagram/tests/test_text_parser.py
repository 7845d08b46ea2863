"""geometry_text_to_cdl: phrasings of geometry problems to CDL constraints and goals, on written examples and on the
real geometry questions of MathVista."""

from __future__ import annotations

import json

import pytest
import vista
from vista import ErrorClass
from vista.testing import real_data_dir
from vista_tools_diagram.solver import solve
from vista_tools_diagram.text_parser import parse_text
from vista_tools_diagram.tools import GeometryTextToCDL

from vista_tools_diagram import cdl

MATHVISTA = real_data_dir() / "mathvista" / "testmini.json"


@pytest.mark.parametrize("text, constraints, goal", [
    ("In triangle ABC, AB = 5, BC = 12 and angle ABC = 90°. Find AC.",
     ["Triangle(A,B,C)", "Equal(MeasureOfAngle(A,B,C),90)", "Equal(LengthOfLine(A,B),5)",
      "Equal(LengthOfLine(B,C),12)"], "LengthOfLine(A,C)"),
    ("In △ABC, ∠A = 50°, ∠B = 60°. Find the measure of angle C.",
     ["Triangle(A,B,C)", "Equal(MeasureOfAngle(C,A,B),50)", "Equal(MeasureOfAngle(A,B,C),60)"],
     "MeasureOfAngle(B,C,A)"),
    ("PA is tangent to ⊙O at A. The radius of circle O is 3 and OP = 5 cm. What is PA?",
     ["Circle(O)", "PointLiesOnCircle(A,Circle(O))", "Tangent(Line(P,A),Circle(O))", "Equal(LengthOfLine(O,P),5)",
      "Equal(RadiusOfCircle(O),3)"], "LengthOfLine(P,A)"),
    ("D and E are on AB and AC respectively, DE ∥ BC. AD = 2, AB = 6. Find DE.",
     ["PointLiesOnLine(D,Line(A,B))", "PointLiesOnLine(E,Line(A,C))", "Parallel(Line(D,E),Line(B,C))",
      "Equal(LengthOfLine(A,D),2)", "Equal(LengthOfLine(A,B),6)"], "LengthOfLine(D,E)"),
    ("In triangle ABC, AB = 2x + 1, AC = 3x - 4 and AB = AC. Solve for x.",
     ["Triangle(A,B,C)", "Equal(LengthOfLine(A,B),LengthOfLine(A,C))", "Equal(LengthOfLine(A,B),2*x+1)",
      "Equal(LengthOfLine(A,C),3*x-4)"], "x"),
    ("AD bisects ∠BAC, AD ⊥ BC and M is the midpoint of BC. Find the area of triangle ABC.",
     ["Triangle(A,B,C)", "IsMidpointOf(M,Line(B,C))", "Perpendicular(Line(A,D),Line(B,C))",
      "BisectsAngle(Line(A,D),Angle(B,A,C))"],
     "AreaOfTriangle(A,B,C)"),
    ("$\\overline{AB} \\parallel \\overline{CD}$, $m \\angle BAD = 65^\\circ$. Find $m \\angle ADC$.",
     ["Parallel(Line(A,B),Line(C,D))", "Equal(MeasureOfAngle(B,A,D),65)"], "MeasureOfAngle(A,D,C)"),
    ("AB = 4 and BC = 3. Find AC.\nFormal description: Perpendicular(Line(A,B),Line(B,C)); "
     "Equal(LengthOfLine(A,B),4). Goal: Value(LengthOfLine(A,C)).",
     ["Perpendicular(Line(A,B),Line(B,C))", "Equal(LengthOfLine(A,B),4)", "Equal(LengthOfLine(B,C),3)"],
     "LengthOfLine(A,C)"),
    ("Triangle(A,B,C)\nEqual(LengthOfLine(A,B),3)\nValue(PerimeterOfTriangle(A,B,C))",
     ["Triangle(A,B,C)", "Equal(LengthOfLine(A,B),3)"], "PerimeterOfTriangle(A,B,C)"),
])
def test_phrasings_to_cdl(text, constraints, goal):
    parsed = parse_text(text)
    assert parsed.constraints == constraints
    assert parsed.goal == goal


def test_numbered_angles_are_reported_not_guessed():
    parsed = parse_text("∠1 = 40°. Find ∠2.")
    assert parsed.constraints == [] and "numbered angles need the diagram" in parsed.unparsed[0]


@pytest.mark.skipif(not MATHVISTA.exists(), reason=f"no MathVista testmini at {MATHVISTA} (set VISTA_DATA_DIR)")
def test_real_geometry_questions_parse_into_valid_cdl():
    items = json.loads(MATHVISTA.read_text())
    english = [v for v in items.values() if v["metadata"]["source"] in ("Geometry3K", "UniGeo", "GEOS")]
    with_goal = 0
    for item in english:
        parsed = parse_text(item["question"])
        for constraint in parsed.constraints:  # whatever is produced must be well-formed CDL
            assert isinstance(cdl.parse(constraint), cdl.Call), (item["question"], constraint)
        with_goal += bool(parsed.goal)
    assert len(english) > 100
    assert with_goal / len(english) > 0.6, with_goal  # most questions name what they ask


@pytest.mark.skipif(not MATHVISTA.exists(), reason=f"no MathVista testmini at {MATHVISTA} (set VISTA_DATA_DIR)")
def test_a_real_geometry3k_problem_solves_with_the_diagram_fact_added():
    items = json.loads(MATHVISTA.read_text())
    item = next(v for v in items.values() if v["question"].startswith("$\\overline{AB}$ is a diameter, $AC=8$"))
    parsed = parse_text(item["question"])
    # the diagram shows C on the circle; as geometry_formalize would, add it in CDL
    solution = solve(parsed.constraints + ["PointLiesOnCircle(C,Circle(O))"], parsed.goal)
    assert f"{solution.value:g}" == item["answer"] == "8.5"
    assert "angle in a semicircle (Thales)" in solution.theorems


def test_tool_output_and_e4_on_text_without_geometry():
    tools = {"geometry_text_to_cdl": GeometryTextToCDL()}
    result = vista.call_tool("geometry_text_to_cdl", {"text": "If AB = 3 and BC = 4, find AC."}, tools=tools)
    assert result.ok and result.data == {"constraints": ["Equal(LengthOfLine(A,B),3)", "Equal(LengthOfLine(B,C),4)"],
                                         "goal": "LengthOfLine(A,C)", "unparsed": []}
    empty = vista.call_tool("geometry_text_to_cdl", {"text": "the weather is nice today"}, tools=tools)
    assert empty.error.error_class is ErrorClass.E4 and empty.error.argument == "text"
    too_short = vista.call_tool("geometry_text_to_cdl", {"text": ""}, tools=tools)
    assert too_short.error.error_class is ErrorClass.E3
