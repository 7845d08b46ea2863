"""geometry_diagram: Geometry3K-style problems on rendered diagrams of triangles, angles and circles with labelled
points, each with its formal description (Inter-GPS-like logic form) written into the question and the metadata.

Problem types: triangle angle sum, supplementary angles on a line (difficulty 0); isosceles base angles,
Pythagorean theorem with integer triples, circle circumference/area from a radius (difficulty 1); Pythagorean
theorem with non-integer results or a missing leg, right-triangle trigonometry, inscribed angle from a central angle,
law of cosines (difficulty 2). Diagrams are drawn to scale; fonts, line colours and orientation vary by seed.
Answers are numbers, rounded to two decimal places when not whole.
Metadata: logic_form (constraints, goal), points (coordinates), segments, circles, problem_type, theorem, value
(the answer before rounding).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from vista import Example, OracleSolution, OracleStep

from ._base import ProceduralConfig, ProceduralTask, choose_from, format_value
from ._render import FONTS, figure_to_image, new_figure

PROBLEMS_BY_DIFFICULTY: dict[int, tuple[str, ...]] = {
    0: ("angle_sum", "supplementary"),
    1: ("isosceles", "pythagoras", "circle_measure"),
    2: ("pythagoras", "right_trig", "inscribed_angle", "law_of_cosines"),
}
PROBLEM_TYPES: tuple[str, ...] = ("angle_sum", "supplementary", "isosceles", "pythagoras", "circle_measure",
                                  "right_trig", "inscribed_angle", "law_of_cosines")
_TRIPLES = ((3, 4, 5), (6, 8, 10), (5, 12, 13), (8, 15, 17), (9, 12, 15), (7, 24, 25), (20, 21, 29), (12, 16, 20))


@dataclass
class GeometryConfig(ProceduralConfig):
    """`difficulty` picks the problem types (see the module docstring); `problem_types`, when given, overrides it."""

    problem_types: tuple[str, ...] | None = None

    def validate(self) -> None:
        super().validate()
        if self.problem_types is not None:
            choose_from("problem_types", self.problem_types, PROBLEM_TYPES)


@dataclass
class _Problem:
    """A problem before rendering: the figure (coordinates and marks) and its statement."""

    points: dict[str, tuple[float, float]]
    segments: list[tuple[str, str]]
    statement: str            # the problem in words, without the goal
    ask: str                  # the goal in words ("Find AC.")
    constraints: list[str]
    goal: str
    value: float
    theorem: str
    lengths: dict[tuple[str, str], str]                 # segment -> label drawn beside it
    angles: list[tuple[str, str, str, str]]             # (P, V, Q, label) arcs at V
    right_angles: Sequence[tuple[str, str, str]] = ()   # (P, V, Q) squares at V
    equal_ticks: Sequence[tuple[str, str]] = ()         # segments marked equal
    circles: Sequence[tuple[str, float]] = ()           # (centre, radius)


def _length(name: tuple[str, str]) -> str:
    return f"LengthOfLine({name[0]},{name[1]})"


def _angle(p: str, v: str, q: str) -> str:
    return f"MeasureOfAngle({p},{v},{q})"


def _polar(radius: float, degrees: float, origin: tuple[float, float] = (0.0, 0.0)) -> tuple[float, float]:
    return (origin[0] + radius * math.cos(math.radians(degrees)), origin[1] + radius * math.sin(math.radians(degrees)))


def _angle_sum(rng: random.Random, difficulty: int) -> _Problem:
    a = rng.randint(30, 85)
    b = rng.randint(30, min(85, 150 - a))
    c = 180 - a - b
    ac = math.sin(math.radians(b)) / math.sin(math.radians(c))
    points = {"A": (0.0, 0.0), "B": (1.0, 0.0), "C": _polar(ac, a)}
    return _Problem(
        points, [("A", "B"), ("B", "C"), ("A", "C")],
        f"In triangle ABC, angle BAC = {a}° and angle ABC = {b}°.", "Find the measure of angle ACB in degrees.",
        [f"Equal({_angle('B', 'A', 'C')},{a})", f"Equal({_angle('A', 'B', 'C')},{b})"],
        f"Value({_angle('A', 'C', 'B')})", c, f"triangle angle sum: 180 - {a} - {b} = {c}",
        {}, [("B", "A", "C", f"{a}°"), ("A", "B", "C", f"{b}°")])


def _supplementary(rng: random.Random, difficulty: int) -> _Problem:
    x = rng.choice([v for v in range(25, 156) if abs(v - 90) > 8])
    points = {"A": (-1.0, 0.0), "B": (0.0, 0.0), "C": (1.0, 0.0), "D": _polar(0.85, 180 - x)}
    return _Problem(
        points, [("A", "C"), ("B", "D")],
        f"Points A, B and C lie on a line with B between A and C, and angle ABD = {x}°.",
        "Find the measure of angle DBC in degrees.",
        ["PointLiesOnLine(B,Line(A,C))", f"Equal({_angle('A', 'B', 'D')},{x})"],
        f"Value({_angle('D', 'B', 'C')})", 180 - x, f"angles on a straight line: 180 - {x} = {180 - x}",
        {}, [("A", "B", "D", f"{x}°")])


def _isosceles(rng: random.Random, difficulty: int) -> _Problem:
    x = rng.choice(range(30, 121, 2))
    half = math.radians(x / 2)
    points = {"A": (0.0, math.cos(half)), "B": (-math.sin(half), 0.0), "C": (math.sin(half), 0.0)}
    value = (180 - x) / 2
    return _Problem(
        points, [("A", "B"), ("A", "C"), ("B", "C")],
        f"In triangle ABC, AB = AC and angle BAC = {x}°.", "Find the measure of angle ABC in degrees.",
        [f"Equal({_length(('A', 'B'))},{_length(('A', 'C'))})", f"Equal({_angle('B', 'A', 'C')},{x})"],
        f"Value({_angle('A', 'B', 'C')})", value,
        f"base angles of an isosceles triangle are equal: (180 - {x}) / 2 = {format_value(value)}",
        {}, [("B", "A", "C", f"{x}°")], equal_ticks=[("A", "B"), ("A", "C")])


def _pythagoras(rng: random.Random, difficulty: int) -> _Problem:
    if difficulty < 2:
        k = rng.choice((1, 1, 2))
        a, b, c = (k * v for v in rng.choice(_TRIPLES))
    else:
        a, b = rng.sample(range(2, 16), 2)
        c = math.hypot(a, b)
    if rng.random() < 0.5:
        a, b = b, a
    points = {"B": (0.0, 0.0), "A": (0.0, float(a)), "C": (float(b), 0.0)}
    right = ["Perpendicular(Line(A,B),Line(B,C))"]
    if difficulty == 2 and rng.random() < 0.5 and c == int(c):
        return _Problem(
            points, [("A", "B"), ("B", "C"), ("A", "C")],
            f"In triangle ABC, angle ABC is a right angle, AC = {format_value(c)} and AB = {a}.", "Find BC.",
            right + [f"Equal({_length(('A', 'C'))},{format_value(c)})", f"Equal({_length(('A', 'B'))},{a})"],
            f"Value({_length(('B', 'C'))})", float(b),
            f"Pythagorean theorem: BC = sqrt({format_value(c)}^2 - {a}^2) = {b}",
            {("A", "C"): format_value(c), ("A", "B"): str(a)}, [], right_angles=[("A", "B", "C")])
    return _Problem(
        points, [("A", "B"), ("B", "C"), ("A", "C")],
        f"In triangle ABC, angle ABC is a right angle, AB = {a} and BC = {b}.", "Find AC.",
        right + [f"Equal({_length(('A', 'B'))},{a})", f"Equal({_length(('B', 'C'))},{b})"],
        f"Value({_length(('A', 'C'))})", float(c),
        f"Pythagorean theorem: AC = sqrt({a}^2 + {b}^2) = {format_value(c)}",
        {("A", "B"): str(a), ("B", "C"): str(b)}, [], right_angles=[("A", "B", "C")])


def _circle_measure(rng: random.Random, difficulty: int) -> _Problem:
    r = rng.randint(2, 15)
    points = {"O": (0.0, 0.0), "A": _polar(1.0, rng.randint(0, 359))}
    base = dict(points=points, segments=[("O", "A")], constraints=["PointLiesOnCircle(A,Circle(O))",
                f"Equal({_length(('O', 'A'))},{r})"], lengths={("O", "A"): str(r)}, angles=[],
                circles=[("O", 1.0)], statement=f"Point A lies on circle O and OA = {r}.")
    if rng.random() < 0.5:
        value = math.pi * r * r
        return _Problem(**base, ask="Find the area of circle O.", goal="Value(AreaOf(Circle(O)))", value=value,
                        theorem=f"area of a circle: pi * {r}^2 = {format_value(value)}")
    value = 2 * math.pi * r
    return _Problem(**base, ask="Find the circumference of circle O.", goal="Value(CircumferenceOf(Circle(O)))",
                    value=value, theorem=f"circumference of a circle: 2 * pi * {r} = {format_value(value)}")


def _right_trig(rng: random.Random, difficulty: int) -> _Problem:
    theta = rng.randint(20, 70)
    h = rng.randint(5, 20)
    points = {"A": (0.0, 0.0), "B": (h * math.cos(math.radians(theta)), 0.0), "C": _polar(h, theta)}
    constraints = ["Perpendicular(Line(A,B),Line(B,C))", f"Equal({_length(('A', 'C'))},{h})",
                   f"Equal({_angle('B', 'A', 'C')},{theta})"]
    statement = f"In triangle ABC, angle ABC is a right angle, AC = {h} and angle BAC = {theta}°."
    common = dict(points=points, segments=[("A", "B"), ("B", "C"), ("A", "C")], statement=statement,
                  constraints=constraints, lengths={("A", "C"): str(h)}, angles=[("B", "A", "C", f"{theta}°")],
                  right_angles=[("A", "B", "C")])
    if rng.random() < 0.5:
        value = h * math.sin(math.radians(theta))
        return _Problem(**common, ask="Find BC. Round to two decimal places.", goal=f"Value({_length(('B', 'C'))})",
                        value=value, theorem=f"sine: BC = {h} * sin({theta}°) = {format_value(value)}")
    value = h * math.cos(math.radians(theta))
    return _Problem(**common, ask="Find AB. Round to two decimal places.", goal=f"Value({_length(('A', 'B'))})",
                    value=value, theorem=f"cosine: AB = {h} * cos({theta}°) = {format_value(value)}")


def _inscribed_angle(rng: random.Random, difficulty: int) -> _Problem:
    x = rng.choice(range(40, 161, 2))
    start = rng.randint(0, 359)
    far = start + x + (360 - x) * rng.uniform(0.35, 0.65)
    points = {"O": (0.0, 0.0), "A": _polar(1.0, start), "B": _polar(1.0, start + x), "C": _polar(1.0, far)}
    return _Problem(
        points, [("O", "A"), ("O", "B"), ("C", "A"), ("C", "B")],
        f"Points A, B and C lie on circle O, C on the major arc AB, and angle AOB = {x}°.",
        "Find the measure of angle ACB in degrees.",
        ["PointLiesOnCircle(A,Circle(O))", "PointLiesOnCircle(B,Circle(O))", "PointLiesOnCircle(C,Circle(O))",
         f"Equal({_angle('A', 'O', 'B')},{x})"],
        f"Value({_angle('A', 'C', 'B')})", x / 2,
        f"inscribed angle theorem: angle ACB = {x} / 2 = {format_value(x / 2)}",
        {}, [("A", "O", "B", f"{x}°")], circles=[("O", 1.0)])


def _law_of_cosines(rng: random.Random, difficulty: int) -> _Problem:
    b, c = rng.randint(3, 15), rng.randint(3, 15)
    theta = rng.choice([v for v in range(30, 131) if v != 90])
    value = math.sqrt(b * b + c * c - 2 * b * c * math.cos(math.radians(theta)))
    points = {"A": (0.0, 0.0), "B": (float(c), 0.0), "C": _polar(b, theta)}
    return _Problem(
        points, [("A", "B"), ("B", "C"), ("A", "C")],
        f"In triangle ABC, AB = {c}, AC = {b} and angle BAC = {theta}°.", "Find BC. Round to two decimal places.",
        [f"Equal({_length(('A', 'B'))},{c})", f"Equal({_length(('A', 'C'))},{b})",
         f"Equal({_angle('B', 'A', 'C')},{theta})"],
        f"Value({_length(('B', 'C'))})", value,
        f"law of cosines: BC = sqrt({c}^2 + {b}^2 - 2*{c}*{b}*cos({theta}°)) = {format_value(value)}",
        {("A", "B"): str(c), ("A", "C"): str(b)}, [("B", "A", "C", f"{theta}°")])


_BUILDERS = {"angle_sum": _angle_sum, "supplementary": _supplementary, "isosceles": _isosceles,
             "pythagoras": _pythagoras, "circle_measure": _circle_measure, "right_trig": _right_trig,
             "inscribed_angle": _inscribed_angle, "law_of_cosines": _law_of_cosines}


class GeometryDiagramTask(ProceduralTask):
    name = "geometry_diagram"
    category = "geometry"
    description = "Rendered triangle, angle and circle diagrams with labelled points and a formal description."
    Config = GeometryConfig
    tolerance = 0.005  # answers are rounded to two decimals; 3.6 for 3.61 passes, 3.5 does not
    recommended_tools = ("geometry_solve", "geometry_formalize", "calculator")

    def _generate(self, rng: random.Random, config: GeometryConfig) -> dict[str, Any]:
        kind = rng.choice(config.problem_types or PROBLEMS_BY_DIFFICULTY[config.difficulty])
        problem = _BUILDERS[kind](rng, config.difficulty)
        _transform(rng, problem)
        question = (f"{problem.statement} {problem.ask}\nFormal description: {'; '.join(problem.constraints)}. "
                    f"Goal: {problem.goal}.")
        return {
            "images": [_render(rng, problem)], "question": question,
            "answer": format_value(problem.value, 2), "answer_type": "float",
            "metadata": {"problem_type": kind, "logic_form": {"constraints": problem.constraints, "goal": problem.goal},
                         "value": problem.value,
                         "points": {k: [round(x, 6), round(y, 6)] for k, (x, y) in problem.points.items()},
                         "segments": [list(s) for s in problem.segments],
                         "circles": [{"center": c, "radius": r} for c, r in problem.circles],
                         "theorem": problem.theorem},
        }

    def oracle(self, example: Example) -> OracleSolution:
        form = example.metadata["logic_form"]
        step = OracleStep(think="The question gives the formal description; solve it symbolically.",
                          tool="geometry_solve", arguments={"constraints": form["constraints"], "goal": form["goal"]})
        # Evidence: the solver's line "<goal> = <exact> ≈ <value to 6 significant digits>".
        return OracleSolution(steps=[step], answer=str(example.answer),
                              rationale=f"By the {example.metadata['theorem']}.",
                              evidence=[form["goal"], f"{example.metadata['value']:.6g}"])


def _transform(rng: random.Random, problem: _Problem) -> None:
    """Rotate (and maybe mirror) the figure so orientation varies; circles keep their centres at the origin."""
    turn = math.radians(rng.uniform(-25, 25))
    mirror = -1.0 if rng.random() < 0.3 else 1.0
    for name, (x, y) in problem.points.items():
        x *= mirror
        problem.points[name] = (x * math.cos(turn) - y * math.sin(turn), x * math.sin(turn) + y * math.cos(turn))


def _render(rng: random.Random, problem: _Problem):
    from matplotlib import rc_context
    from matplotlib.patches import Arc, Circle, Polygon

    family = rng.choice(sorted(FONTS))
    ink = rng.choice(("black", "#1f3b73", "#333333"))
    size = rng.choice((360, 400))
    pts = problem.points
    xs = [p[0] for p in pts.values()] + [c[0] + s * r for name, r in problem.circles
                                         for c in [pts[name]] for s in (-1, 1)]
    ys = [p[1] for p in pts.values()] + [c[1] + s * r for name, r in problem.circles
                                         for c in [pts[name]] for s in (-1, 1)]
    span = max(max(xs) - min(xs), max(ys) - min(ys))
    centre = ((max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2)
    with rc_context({"font.family": family, "font.size": 12}):
        figure = new_figure(size, size)
        axes = figure.add_axes((0, 0, 1, 1))
        axes.set_axis_off()
        half = span * 0.65
        axes.set_xlim(centre[0] - half, centre[0] + half)
        axes.set_ylim(centre[1] - half, centre[1] + half)
        axes.set_aspect("equal")
        for name, radius in problem.circles:
            axes.add_patch(Circle(pts[name], radius, fill=False, color=ink, linewidth=1.5))
        for p, q in problem.segments:
            axes.plot([pts[p][0], pts[q][0]], [pts[p][1], pts[q][1]], color=ink, linewidth=1.6)
        mark = span * 0.07
        for p, v, q, label in problem.angles:
            a1, a2 = _direction(pts[v], pts[p]), _direction(pts[v], pts[q])
            if (a2 - a1) % 360 > 180:
                a1, a2 = a2, a1
            axes.add_patch(Arc(pts[v], 2 * mark, 2 * mark, theta1=a1, theta2=a2, color="#c0392b", linewidth=1.2))
            middle = a1 + ((a2 - a1) % 360) / 2
            axes.text(*_polar(mark * 2.3, middle, pts[v]), label, ha="center", va="center", color="#c0392b",
                      fontsize=11)
        for p, v, q in problem.right_angles:
            u, w = _unit(pts[v], pts[p]), _unit(pts[v], pts[q])
            s = mark * 0.8
            corner = [(pts[v][0] + s * u[0], pts[v][1] + s * u[1]),
                      (pts[v][0] + s * (u[0] + w[0]), pts[v][1] + s * (u[1] + w[1])),
                      (pts[v][0] + s * w[0], pts[v][1] + s * w[1])]
            axes.add_patch(Polygon([pts[v], *corner], closed=True, fill=False, color=ink, linewidth=1.0))
        for p, q in problem.equal_ticks:
            mid = ((pts[p][0] + pts[q][0]) / 2, (pts[p][1] + pts[q][1]) / 2)
            n = _normal(pts[p], pts[q])
            axes.plot([mid[0] - n[0] * mark * 0.4, mid[0] + n[0] * mark * 0.4],
                      [mid[1] - n[1] * mark * 0.4, mid[1] + n[1] * mark * 0.4], color=ink, linewidth=1.4)
        figure_centre = (sum(p[0] for p in pts.values()) / len(pts), sum(p[1] for p in pts.values()) / len(pts))
        for (p, q), label in problem.lengths.items():
            mid = ((pts[p][0] + pts[q][0]) / 2, (pts[p][1] + pts[q][1]) / 2)
            n = _normal(pts[p], pts[q])
            # Put the label on the side of the segment away from the figure's centre.
            if (mid[0] - figure_centre[0]) * n[0] + (mid[1] - figure_centre[1]) * n[1] < 0:
                n = (-n[0], -n[1])
            axes.text(mid[0] + n[0] * mark * 0.9, mid[1] + n[1] * mark * 0.9, label, ha="center", va="center",
                      color="#1a5276", fontsize=12)
        for name, (x, y) in pts.items():
            axes.plot([x], [y], "o", color=ink, markersize=3.5)
            away = _unit(figure_centre, (x, y)) if (x, y) != figure_centre else (0.0, 1.0)
            axes.text(x + away[0] * mark * 0.9, y + away[1] * mark * 0.9, name, ha="center", va="center",
                      fontsize=13, fontweight="bold", color=ink)
        return figure_to_image(figure)


def _direction(origin: tuple[float, float], target: tuple[float, float]) -> float:
    return math.degrees(math.atan2(target[1] - origin[1], target[0] - origin[0]))


def _unit(origin: tuple[float, float], target: tuple[float, float]) -> tuple[float, float]:
    dx, dy = target[0] - origin[0], target[1] - origin[1]
    norm = math.hypot(dx, dy) or 1.0
    return dx / norm, dy / norm


def _normal(p: tuple[float, float], q: tuple[float, float]) -> tuple[float, float]:
    u = _unit(p, q)
    return -u[1], u[0]
