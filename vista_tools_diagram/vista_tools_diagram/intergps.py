"""Inter-GPS's formal language (Geometry3K's annotated text and diagram logic forms) converted to our CDL.

Geometry3K (Lu et al., ACL 2021) annotates every problem with `text_logic_form` (`logic_form.json`, or
`logic_forms/text_logic_forms_annot_dissolved.json`) and `diagram_logic_form`
(`logic_forms/diagram_logic_forms_annot.json`), e.g. ``PointLiesOnCircle(A, Circle(X, radius_0_0))``,
``Equals(LengthOf(Line(A, B)), 5)``, ``Find(MeasureOf(Angle(Q)))``. Most of it is already CDL: the solver reads the
Inter-GPS wrappers. The conversion:

- ``Circle(X, radius_0_0)`` becomes ``Circle(X)`` (the radius name is an annotation artefact);
- ``Equals(Line(A,E), Line(B,E))`` (a length equality written on lines) becomes an equality of their lengths;
- ``Find(e)`` becomes the goal ``e``;
- ``Parallelogram(A,B,C,D)`` becomes its sides, the two pairs of parallel and equal opposite sides, equal opposite
  angles and supplementary consecutive angles; ``Parallelogram($)`` (``$``: the figure) is read as the quadrilateral
  the annotated `point_positions` span when their convex hull has four corners;
- each annotated `line_instances` segment (``"AB"``) becomes ``Line(A,B)``;
- a form that does not parse (``MeasureOf(angle 1)``, ``66--y``), or uses a predicate or function the solver lacks
  (arcs, ...), is left out and reported in `skipped` with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import cdl
from .equations import SUPPORTED_FUNCTIONS, SUPPORTED_PREDICATES

# Inter-GPS wrappers and shapes the solver reads as arguments
_WRAPPERS = {"LengthOf", "MeasureOf", "Line", "Segment", "Angle", "Circle", "Triangle", "Polygon", "RadiusOf",
             "DiameterOf", "AreaOf", "PerimeterOf", "CircumferenceOf", "Value", "Find"}
_KNOWN = set(SUPPORTED_PREDICATES) | set(SUPPORTED_FUNCTIONS) | _WRAPPERS
_RADIUS = re.compile(r"Circle\(\s*([A-Z]'?)\s*,\s*radius_\w+\s*\)")
_PARALLELOGRAM = re.compile(r"^Parallelogram\((.*)\)$")
_LINE_EQUALITY = re.compile(r"^Equals?\(\s*(Line\([^()]*\))\s*,\s*(Line\([^()]*\))\s*\)$")


@dataclass
class Conversion:
    constraints: list[str]
    goal: str | None
    skipped: list[tuple[str, str]] = field(default_factory=list)   # (form, why)


def _unknown_calls(node: cdl.Node) -> set[str]:
    if isinstance(node, cdl.Call):
        found = {node.name} - _KNOWN
        for arg in node.args:
            found |= _unknown_calls(arg)
        return found
    if isinstance(node, cdl.BinOp):
        return _unknown_calls(node.left) | _unknown_calls(node.right)
    if isinstance(node, cdl.Neg):
        return _unknown_calls(node.operand)
    return set()


def convert_form(form: str) -> tuple[str | None, str]:
    """(the CDL of one logic form, or None; why it was left out, or "")."""
    text = _RADIUS.sub(r"Circle(\1)", form.strip())
    if not text:
        return None, "empty"
    equality = _LINE_EQUALITY.match(text)
    if equality:
        text = f"Equals(LengthOf({equality.group(1)}),LengthOf({equality.group(2)}))"
    try:
        node = cdl.parse(text)
    except cdl.CDLSyntaxError as exc:
        return None, f"does not parse: {str(exc).splitlines()[0]}"
    if not isinstance(node, cdl.Call):
        return None, "not a predicate"
    unknown = _unknown_calls(node)
    if unknown:
        return None, f"the solver has no {', '.join(sorted(unknown))}"
    return str(node), ""


def _hull(points: dict[str, tuple[float, float]]) -> list[str]:
    """The names of the convex hull's corners, in order around it (Andrew's monotone chain)."""
    ordered = sorted(points, key=lambda name: tuple(points[name]))

    def cross(o: str, a: str, b: str) -> float:
        (ox, oy), (ax, ay), (bx, by) = points[o], points[a], points[b]
        return (ax - ox) * (by - oy) - (ay - oy) * (bx - ox)

    def half(names: list[str]) -> list[str]:
        chain: list[str] = []
        for name in names:
            while len(chain) >= 2 and cross(chain[-2], chain[-1], name) <= 0:
                chain.pop()
            chain.append(name)
        return chain[:-1]
    return half(ordered) + half(ordered[::-1]) if len(ordered) > 2 else ordered


def parallelogram(a: str, b: str, c: str, d: str) -> list[str]:
    """The properties of parallelogram ABCD as CDL."""
    def angle(p: str, v: str, q: str) -> str:
        return f"MeasureOf(Angle({p},{v},{q}))"
    return [f"Line({a},{b})", f"Line({b},{c})", f"Line({c},{d})", f"Line({d},{a})",
            f"Parallel(Line({a},{b}),Line({d},{c}))", f"Parallel(Line({b},{c}),Line({a},{d}))",
            f"Equals(LengthOf(Line({a},{b})),LengthOf(Line({d},{c})))",
            f"Equals(LengthOf(Line({b},{c})),LengthOf(Line({a},{d})))",
            f"Equals({angle(d, a, b)},{angle(b, c, d)})", f"Equals({angle(a, b, c)},{angle(c, d, a)})",
            f"Equals(Add({angle(d, a, b)},{angle(a, b, c)}),180)"]


def _parallelogram(form: str, points: dict | None) -> tuple[list[str] | None, str]:
    inside = _PARALLELOGRAM.match(form.replace(" ", "")).group(1)
    if inside == "$":
        corners = _hull({k: tuple(v) for k, v in (points or {}).items()})
        if len(corners) != 4:
            return None, f"'$' (the figure): the annotated points' hull has {len(corners)} corners, not 4"
    else:
        corners = [name for name in inside.split(",") if name]
        if len(corners) == 1 and len(corners[0]) == 4:
            corners = list(corners[0])
        if len(corners) != 4 or not all(re.fullmatch(r"[A-Z]'?", name) for name in corners):
            return None, "not four points"
    return parallelogram(*corners), ""


def convert(text_logic_form: list[str], diagram_logic_form: list[str], *,
            point_positions: dict[str, list[float]] | None = None,
            line_instances: list[str] | None = None) -> Conversion:
    """The givens of both forms as CDL constraints (duplicates dropped) and the goal of the text's ``Find``;
    `point_positions` and `line_instances` are the annotation's (diagram_logic_forms_annot.json, logic_form.json)."""
    constraints: list[str] = []
    goal, skipped = None, []
    for line in line_instances or []:
        names = re.findall(r"[A-Z]'?", line)
        if len(names) == 2 and f"Line({names[0]},{names[1]})" not in constraints:
            constraints.append(f"Line({names[0]},{names[1]})")
    for form in [*diagram_logic_form, *text_logic_form]:
        if _PARALLELOGRAM.match(form.replace(" ", "")):
            expanded, why = _parallelogram(form, point_positions)
            if expanded is None:
                skipped.append((form, why))
            constraints.extend(c for c in expanded or [] if c not in constraints)
            continue
        converted, why = convert_form(form)
        if converted is None:
            skipped.append((form, why))
        elif converted.startswith("Find("):
            goal = converted[len("Find("):-1]
        elif converted not in constraints:
            constraints.append(converted)
    if goal is None and not any(form.strip().startswith("Find(") for form, _ in skipped):
        skipped.append(("", "no Find(...) goal"))
    return Conversion(constraints=constraints, goal=goal, skipped=skipped)
