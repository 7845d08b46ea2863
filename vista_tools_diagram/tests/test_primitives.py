"""diagram_primitives and geometry_formalize on rendered diagrams with known structure: labelled points, which
segments are drawn, points on lines and circles, numbers printed on the figure; then solving from image + text."""

from __future__ import annotations

import math
import random

import pytest
import vista
from geometry_problems import BUILDERS, render
from vista_tools_diagram.formalize import formalize
from vista_tools_diagram.solver import solve
from vista_tools_diagram.tools import DiagramPrimitives, GeometryFormalize


def _problem(kind: str, seed: int = 0):
    return BUILDERS[kind](random.Random(seed))


def test_primitives_of_a_triangle_with_a_cevian():
    problem = _problem("supplementary")
    image = render(problem, seed=3)
    result = vista.call_tool("diagram_primitives", {}, [image], tools={"diagram_primitives": DiagramPrimitives()})
    assert result.ok, result.error
    data = result.data
    assert sorted(p["label"] for p in data["points"]) == ["A", "B", "C", "D"]
    assert "PointLiesOnLine(D,Line(B,C))" in data["incidences"] or "PointLiesOnLine(D,Line(C,B))" in data["incidences"]
    drawn = {frozenset(line["points"][i:i + 2]) for line in data["lines"] for i in range(len(line["points"]) - 1)}
    assert drawn == {frozenset("AB"), frozenset("AC"), frozenset("BD"), frozenset("DC"), frozenset("AD")}
    assert data["circles"] == []
    # pixel positions agree with the figure's shape: D lies between B and C
    xy = {p["label"]: (p["x"], p["y"]) for p in data["points"]}
    assert math.dist(xy["B"], xy["D"]) + math.dist(xy["D"], xy["C"]) == pytest.approx(math.dist(xy["B"], xy["C"]),
                                                                                      rel=0.02)


def test_primitives_of_a_circle_with_inscribed_and_central_angles():
    problem = _problem("inscribed")
    data = vista.call_tool("diagram_primitives", {}, [render(problem, seed=1)],
                           tools={"diagram_primitives": DiagramPrimitives()}).data
    assert len(data["circles"]) == 1
    circle = data["circles"][0]
    assert circle["center_label"] == "O" and sorted(circle["points"]) == ["A", "B", "C"]
    for name in "ABC":
        assert f"PointLiesOnCircle({name},Circle(O))" in data["incidences"]


@pytest.mark.parametrize("kind", ["similar", "tangent", "thales"])
def test_formalize_then_solve_from_image_and_text(kind):
    problem = _problem(kind, seed=2)
    result = formalize(render(problem, seed=5), problem.text)
    assert solve(result.constraints, result.goal).value == pytest.approx(problem.answer, rel=1e-9), result
    assert result.construction[0].startswith("Point(")


def test_numbers_printed_on_the_diagram_become_givens():
    problem = _problem("pythagoras", seed=1)
    lengths = {("A", "B"): "5", ("B", "C"): "12"}
    tools = {"geometry_formalize": GeometryFormalize()}
    result = vista.call_tool("geometry_formalize", {"text": "∠ABC = 90°. Find AC."}, [render(problem, seed=0,
                                                                                             lengths=lengths)],
                             tools=tools)
    assert result.ok, result.error
    assert {"Equal(LengthOfLine(A,B),5)", "Equal(LengthOfLine(B,C),12)"} <= set(result.data["constraints"])
    assert solve(result.data["constraints"], result.data["goal"]).value == 13
