"""Geometry problems with known answers, for the tests and the benchmark: a figure (coordinates), its formal
description, a prose statement in which some structure (points on lines or circles) is left to the diagram,
and a matplotlib rendering with labelled points."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from PIL import Image


@dataclass
class Problem:
    kind: str
    points: dict[str, tuple[float, float]]
    segments: list[tuple[str, str]]
    constraints: list[str]
    goal: str
    text: str  # the prose statement and question; what it leaves out, the diagram shows
    answer: float
    circles: list[tuple[str, float]] = field(default_factory=list)


def _polar(r: float, degrees: float, origin=(0.0, 0.0)) -> tuple[float, float]:
    return origin[0] + r * math.cos(math.radians(degrees)), origin[1] + r * math.sin(math.radians(degrees))


def _pythagoras(rng):
    a, b, c = rng.choice([(3, 4, 5), (5, 12, 13), (6, 8, 10), (8, 15, 17), (7, 24, 25)])
    pts = {"A": (0.0, a / c * 4), "B": (0.0, 0.0), "C": (b / c * 4, 0.0)}
    return Problem("pythagoras", pts, [("A", "B"), ("B", "C"), ("A", "C")],
                   ["Triangle(A,B,C)", f"Equal(LengthOfLine(A,B),{a})", f"Equal(LengthOfLine(B,C),{b})",
                    "Equal(MeasureOfAngle(A,B,C),90)"], "LengthOfLine(A,C)",
                   f"In triangle ABC, AB = {a}, BC = {b} and ∠ABC = 90°. Find AC.", float(c))


def _angle_sum(rng):
    a, b = rng.randint(35, 80), rng.randint(35, 80)
    c = 180 - a - b
    pts = {"A": (0.0, 0.0), "B": (4.0, 0.0), "C": _polar(4 * math.sin(math.radians(b)) / math.sin(math.radians(c)), a)}
    return Problem("angle_sum", pts, [("A", "B"), ("B", "C"), ("A", "C")],
                   ["Triangle(A,B,C)", f"Equal(MeasureOfAngle(B,A,C),{a})", f"Equal(MeasureOfAngle(A,B,C),{b})"],
                   "MeasureOfAngle(A,C,B)", f"In △ABC, m∠BAC = {a}° and m∠ABC = {b}°. Find m∠ACB.", float(c))


def _isosceles(rng):
    x = rng.choice(range(30, 121, 4))
    half = math.radians(x / 2)
    pts = {"A": (0.0, 4 * math.cos(half)), "B": (-4 * math.sin(half), 0.0), "C": (4 * math.sin(half), 0.0)}
    return Problem("isosceles", pts, [("A", "B"), ("A", "C"), ("B", "C")],
                   ["Triangle(A,B,C)", "Equal(LengthOfLine(A,B),LengthOfLine(A,C))",
                    f"Equal(MeasureOfAngle(B,A,C),{x})"], "MeasureOfAngle(A,B,C)",
                   f"In triangle ABC, AB = AC and angle BAC = {x}°. What is the measure of angle ABC?",
                   (180 - x) / 2)


def _supplementary(rng):
    x = rng.choice([v for v in range(30, 151, 5) if abs(v - 90) > 10])
    pts = {"B": (0.0, 0.0), "C": (5.0, 0.0), "D": (2.2, 0.0), "A": _polar(3.0, 180 - x, (2.2, 0.0))}
    return Problem("supplementary", pts, [("A", "B"), ("A", "C"), ("B", "C"), ("A", "D")],
                   ["Triangle(A,B,C)", "PointLiesOnLine(D,Line(B,C))", "Line(A,D)",
                    f"Equal(MeasureOfAngle(A,D,B),{x})"],
                   "MeasureOfAngle(A,D,C)", f"In the figure, ∠ADB = {x}°. Find ∠ADC.", float(180 - x))


def _inscribed(rng):
    x = rng.choice(range(40, 141, 10))
    start = rng.randint(200, 250)
    pts = {"O": (0.0, 0.0), "A": _polar(3, start), "B": _polar(3, start + x), "C": _polar(3, start + x + (360 - x) / 2)}
    return Problem("inscribed_angle", pts, [("O", "A"), ("O", "B"), ("C", "A"), ("C", "B")],
                   ["Circle(O)", "PointLiesOnCircle(A,Circle(O))", "PointLiesOnCircle(B,Circle(O))",
                    "PointLiesOnCircle(C,Circle(O))", "Line(C,A)", "Line(C,B)", f"Equal(MeasureOfAngle(A,O,B),{x})"],
                   "MeasureOfAngle(A,C,B)", f"In circle O, ∠AOB = {x}°. Find ∠ACB.", x / 2, [("O", 3.0)])


def _tangent(rng):
    r, t, d = rng.choice([(3, 4, 5), (5, 12, 13), (6, 8, 10)])
    angle = math.degrees(math.atan2(t, r))
    pts = {"O": (0.0, 0.0), "P": (3.0 * d / r, 0.0), "A": _polar(3.0, angle)}
    return Problem("tangent", pts, [("O", "A"), ("P", "A"), ("O", "P")],
                   ["Circle(O)", "Tangent(Line(P,A),Circle(O))", "PointLiesOnCircle(A,Circle(O))",
                    f"Equal(RadiusOfCircle(O),{r})", f"Equal(LengthOfLine(O,P),{d})"], "LengthOfLine(P,A)",
                   f"PA is tangent to circle O at A. The radius of circle O is {r} and OP = {d}. Find PA.",
                   float(t), [("O", 3.0)])


def _parallel(rng):
    x = rng.choice(range(35, 76, 5))
    pts = {"A": (0.0, 3.0), "B": (5.0, 3.0), "C": (0.0, 0.0), "D": (3.0 / math.tan(math.radians(x)), 0.0)}
    return Problem("parallel", pts, [("A", "B"), ("C", "D"), ("A", "D")],
                   ["Parallel(Line(A,B),Line(C,D))", "Line(A,D)", f"Equal(MeasureOfAngle(B,A,D),{x})"],
                   "MeasureOfAngle(A,D,C)", f"AB ∥ CD and ∠BAD = {x}°. Find ∠ADC.", float(x))


def _similar(rng):
    ad, ab = rng.choice([(2, 6), (3, 9), (2, 5), (4, 10)])
    bc = rng.choice([6, 9, 10, 12, 15])
    apex = (1.5, 4.0)
    k = ad / ab
    pts = {"A": apex, "B": (0.0, 0.0), "C": (5.0, 0.0)}
    pts["D"] = (apex[0] + k * (0 - apex[0]), apex[1] + k * (0 - apex[1]))
    pts["E"] = (apex[0] + k * (5 - apex[0]), apex[1] + k * (0 - apex[1]))
    return Problem("similar", pts, [("A", "B"), ("A", "C"), ("B", "C"), ("D", "E")],
                   ["Triangle(A,B,C)", "PointLiesOnLine(D,Line(A,B))", "PointLiesOnLine(E,Line(A,C))",
                    "Parallel(Line(D,E),Line(B,C))", f"Equal(LengthOfLine(A,D),{ad})",
                    f"Equal(LengthOfLine(A,B),{ab})", f"Equal(LengthOfLine(B,C),{bc})"], "LengthOfLine(D,E)",
                   f"DE ∥ BC, AD = {ad}, AB = {ab} and BC = {bc}. Find DE.", bc * ad / ab)


def _area(rng):
    a, b = rng.randint(3, 12), rng.randint(3, 12)
    pts = {"A": (0.0, 4.0 * a / max(a, b)), "B": (0.0, 0.0), "C": (4.0 * b / max(a, b), 0.0)}
    return Problem("right_area", pts, [("A", "B"), ("B", "C"), ("A", "C")],
                   ["Triangle(A,B,C)", "Perpendicular(Line(A,B),Line(B,C))", f"Equal(LengthOfLine(A,B),{a})",
                    f"Equal(LengthOfLine(B,C),{b})"], "AreaOfTriangle(A,B,C)",
                   f"In triangle ABC, AB ⊥ BC, AB = {a} and BC = {b}. Find the area of triangle ABC.", a * b / 2)


def _circle(rng):
    r = rng.randint(2, 12)
    pts = {"O": (0.0, 0.0), "A": _polar(3.0, rng.randint(0, 359))}
    if rng.random() < 0.5:
        return Problem("circle_area", pts, [("O", "A")],
                       ["Circle(O)", "PointLiesOnCircle(A,Circle(O))", f"Equal(LengthOfLine(O,A),{r})"],
                       "AreaOfCircle(O)", f"OA = {r}. Find the area of circle O.", math.pi * r * r, [("O", 3.0)])
    return Problem("circumference", pts, [("O", "A")],
                   ["Circle(O)", "PointLiesOnCircle(A,Circle(O))", f"Equal(LengthOfLine(O,A),{r})"],
                   "PerimeterOfCircle(O)", f"OA = {r}. Find the circumference of circle O.", 2 * math.pi * r,
                   [("O", 3.0)])


def _law_of_cosines(rng):
    b, c = rng.randint(3, 12), rng.randint(3, 12)
    theta = rng.choice([v for v in range(35, 126, 5) if v != 90])
    scale = 4.0 / max(b, c)
    pts = {"A": (0.0, 0.0), "B": (c * scale, 0.0), "C": _polar(b * scale, theta)}
    value = math.sqrt(b * b + c * c - 2 * b * c * math.cos(math.radians(theta)))
    return Problem("law_of_cosines", pts, [("A", "B"), ("B", "C"), ("A", "C")],
                   ["Triangle(A,B,C)", f"Equal(LengthOfLine(A,B),{c})", f"Equal(LengthOfLine(A,C),{b})",
                    f"Equal(MeasureOfAngle(B,A,C),{theta})"], "LengthOfLine(B,C)",
                   f"In triangle ABC, AB = {c}, AC = {b} and ∠BAC = {theta}°. Find BC.", value)


def _thales(rng):
    a, b, c = rng.choice([(6, 8, 10), (5, 12, 13), (3, 4, 5)])
    angle = 180 - 2 * math.degrees(math.atan2(a, b))
    pts = {"O": (0.0, 0.0), "A": (-3.0, 0.0), "B": (3.0, 0.0), "C": _polar(3.0, angle)}
    return Problem("thales", pts, [("A", "B"), ("A", "C"), ("B", "C")],
                   ["Circle(O)", "IsDiameterOf(Line(A,B),Circle(O))", "PointLiesOnCircle(C,Circle(O))",
                    "Line(A,C)", "Line(B,C)", f"Equal(LengthOfLine(A,C),{b})", f"Equal(LengthOfLine(B,C),{a})"],
                   "RadiusOfCircle(O)", f"AB is a diameter of circle O, AC = {b} and BC = {a}. Find the radius of "
                   "circle O.", c / 2, [("O", 3.0)])


BUILDERS = {f.__name__.strip("_"): f for f in (_pythagoras, _angle_sum, _isosceles, _supplementary, _inscribed,
                                               _tangent, _parallel, _similar, _area, _circle, _law_of_cosines,
                                               _thales)}


def problems(n: int, seed: int = 0) -> list[Problem]:
    rng = random.Random(seed)
    kinds = sorted(BUILDERS)
    return [BUILDERS[kinds[i % len(kinds)]](rng) for i in range(n)]


def render(problem: Problem, size: int = 400, seed: int = 0,
           lengths: dict[tuple[str, str], str] | None = None) -> Image.Image:
    """The figure with dots at the points and bold letters beside them, rotated by a seed-chosen angle;
    `lengths` are numbers printed beside the middle of those segments, outside the figure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle

    rng = random.Random(seed)
    turn = math.radians(rng.uniform(-20, 20))
    pts = {n: (x * math.cos(turn) - y * math.sin(turn), x * math.sin(turn) + y * math.cos(turn))
           for n, (x, y) in problem.points.items()}
    xs = [p[0] for p in pts.values()] + [pts[c][0] + s * r for c, r in problem.circles for s in (-1, 1)]
    ys = [p[1] for p in pts.values()] + [pts[c][1] + s * r for c, r in problem.circles for s in (-1, 1)]
    span = max(max(xs) - min(xs), max(ys) - min(ys))
    mid = ((max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2)
    figure = Figure(figsize=(size / 100, size / 100), dpi=100, facecolor="white")
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_axis_off()
    axes.set_xlim(mid[0] - span * 0.66, mid[0] + span * 0.66)
    axes.set_ylim(mid[1] - span * 0.66, mid[1] + span * 0.66)
    axes.set_aspect("equal")
    for c, r in problem.circles:
        axes.add_patch(Circle(pts[c], r, fill=False, color="black", linewidth=1.5))
    for p, q in problem.segments:
        axes.plot([pts[p][0], pts[q][0]], [pts[p][1], pts[q][1]], color="black", linewidth=1.5)
    centre = (sum(p[0] for p in pts.values()) / len(pts), sum(p[1] for p in pts.values()) / len(pts))
    for name, (x, y) in pts.items():
        axes.plot([x], [y], "o", color="black", markersize=4)
        dx, dy = x - centre[0], y - centre[1]
        norm = math.hypot(dx, dy) or 1.0
        if problem.circles and name == problem.circles[0][0]:
            # the centre's label goes opposite the segments that leave it, so that no stroke crosses it
            ends = [q if p == name else p for p, q in problem.segments if name in (p, q)]
            dx = -sum((pts[e][0] - x) / math.dist(pts[e], (x, y)) for e in ends) if ends else -0.7
            dy = -sum((pts[e][1] - y) / math.dist(pts[e], (x, y)) for e in ends) if ends else -0.7
            norm = math.hypot(dx, dy) or 1.0
        offset = span * 0.07
        axes.text(x + dx / norm * offset, y + dy / norm * offset, name, ha="center", va="center", fontsize=14,
                  fontweight="bold")
    for (p, q), label in (lengths or {}).items():
        mx, my = (pts[p][0] + pts[q][0]) / 2, (pts[p][1] + pts[q][1]) / 2
        nx, ny = -(pts[q][1] - pts[p][1]), pts[q][0] - pts[p][0]
        norm = math.hypot(nx, ny) or 1.0
        if (mx - centre[0]) * nx + (my - centre[1]) * ny < 0:
            nx, ny = -nx, -ny
        axes.text(mx + nx / norm * span * 0.06, my + ny / norm * span * 0.06, label, ha="center", va="center",
                  fontsize=12)
    figure.canvas.draw()
    import numpy as np

    return Image.fromarray(np.asarray(figure.canvas.buffer_rgba())[..., :3].copy(), "RGB")
