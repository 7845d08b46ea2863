"""An Inter-GPS-style symbolic geometry solver.

The formal description builds a `Figure`; every applicable theorem instance becomes an equation over its
lengths and angles (degrees); forward chaining then solves equations that have one unknown left (pairs and
linear systems when none has), re-checking the rules that fire on derived facts (isosceles triangles), until the
goal is a number. Each derived value remembers the theorem that gave it, so the answer comes with its chain.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import sympy

from . import cdl
from .figure import Figure, GeometryError

DEG = sympy.pi / 180
TOLERANCE = 1e-7
# Theorems whose equations carry trigonometry of unknown angles: tried only when the plain ones make no progress,
# so the chain prefers angle sums and Pythagoras to the general laws.
TRIG_LAWS = ("law of sines", "law of cosines")

STRUCTURAL = {
    "Point", "Line", "Segment", "Collinear", "PointLiesOnLine", "IsMidpointOf", "Triangle", "Polygon",
    "RightTriangle", "IsoscelesTriangle", "EquilateralTriangle", "Circle", "PointLiesOnCircle", "Cocircular",
    "IsDiameterOf", "IsRadiusOf", "Tangent",
}
RELATIONS = {"Equal", "Equals", "Perpendicular", "Parallel", "Similar", "Congruent", "BisectsAngle"}
SUPPORTED_PREDICATES = tuple(sorted(STRUCTURAL | RELATIONS))
SUPPORTED_FUNCTIONS = (
    "LengthOfLine", "MeasureOfAngle", "RadiusOfCircle", "DiameterOfCircle", "AreaOfCircle", "PerimeterOfCircle",
    "AreaOfTriangle", "PerimeterOfTriangle", "Add", "Sub", "Mul", "Div", "Pow", "SqrtOf", "HalfOf",
    "SinOf", "CosOf", "TanOf",
)


class UnderdeterminedError(GeometryError):
    """The constraints do not fix the goal's value."""


@dataclass
class Equation:
    expr: sympy.Expr  # == 0
    theorem: str
    statement: str
    done: bool = False


@dataclass
class Step:
    symbol: sympy.Symbol
    value: sympy.Expr
    theorems: list[str]
    statement: str
    premises: frozenset[sympy.Symbol]


@dataclass
class Solution:
    value: float
    exact: str
    theorems: list[str]
    steps: list[str]
    goal: str


@dataclass
class _Problem:
    figure: Figure = field(default_factory=Figure)
    equations: list[Equation] = field(default_factory=list)
    added: set[str] = field(default_factory=set)
    perpendicular: list[tuple[tuple[str, str], tuple[str, str]]] = field(default_factory=list)
    parallel: list[tuple[tuple[str, str], tuple[str, str]]] = field(default_factory=list)
    tangents: list[tuple[str, str, str]] = field(default_factory=list)  # (outer point, touch point, centre)
    areas: list[tuple[str, str, str]] = field(default_factory=list)
    perimeters: list[tuple[str, str, str]] = field(default_factory=list)
    circle_measures: list[tuple[str, str]] = field(default_factory=list)  # (centre, "area" | "perimeter")

    def equate(self, lhs: sympy.Expr, rhs: sympy.Expr, theorem: str) -> None:
        expr = sympy.sympify(lhs) - sympy.sympify(rhs)
        statement = f"{_show(lhs)} = {_show(rhs)}"
        if expr == 0 or not expr.free_symbols or statement in self.added:
            return
        self.added.add(statement)
        self.equations.append(Equation(expr, theorem, statement))


def _show(expr: sympy.Expr) -> str:
    return sympy.sstr(expr).replace("pi", "π")


# -- reading the formal description ---------------------------------------------------------------------------
def _points(nodes: tuple[cdl.Node, ...], predicate: str) -> list[str]:
    try:
        return [p for node in nodes for p in cdl.split_points(node)]
    except cdl.CDLSyntaxError as exc:
        raise GeometryError(f"{predicate}: {exc}") from None


def _unwrap(node: cdl.Node, *names: str, predicate: str) -> list[str]:
    """Points of ``Line(A,B)`` / ``Circle(O)`` / ``Triangle(A,B,C)`` / ``Angle(A,B,C)`` (or bare ``AB``)."""
    if isinstance(node, cdl.Call):
        if node.name not in names:
            raise GeometryError(f"{predicate}: expected {' or '.join(names)}(...), got {node}")
        return _points(node.args, predicate)
    return _points((node,), predicate)


def _structure(problem: _Problem, call: cdl.Call) -> None:
    fig, name, args = problem.figure, call.name, call.args
    if name == "Point":  # Point(A) or Point(A,x,y) from a construction: pixel coordinates do not enter the algebra
        (p,) = _points(args[:1], name)
        fig.point(p)
    elif name in ("Line", "Segment"):
        a, b = _exactly(_points(args, name), 2, call)
        fig.segment(a, b)
    elif name == "Collinear":
        fig.collinear(_points(args, name))
    elif name in ("PointLiesOnLine", "IsMidpointOf"):
        (p,) = _points(args[:1], name)
        a, b = _exactly(_unwrap(args[1], "Line", "Segment", predicate=name), 2, call)
        fig.between(a, p, b)
        if name == "IsMidpointOf":
            problem.equate(fig.length(a, p), fig.length(p, b), "midpoint")
    elif name in ("Triangle", "Polygon", "RightTriangle", "IsoscelesTriangle", "EquilateralTriangle"):
        pts = _points(args, name) if not (len(args) == 1 and isinstance(args[0], cdl.Call)) else \
            _unwrap(args[0], "Triangle", predicate=name)
        if name != "Polygon" or len(pts) == 3:
            a, b, c = _exactly(pts, 3, call)
        for p, q in zip(pts, pts[1:] + pts[:1]):
            fig.segment(p, q)
        if name == "RightTriangle":
            problem.equate(fig.angle(a, b, c), 90, "right triangle")
        elif name == "IsoscelesTriangle":
            problem.equate(fig.length(a, b), fig.length(a, c), "isosceles triangle")
        elif name == "EquilateralTriangle":
            for p, v, q in ((b, a, c), (a, b, c), (a, c, b)):
                problem.equate(fig.angle(p, v, q), 60, "equilateral triangle")
            problem.equate(fig.length(a, b), fig.length(b, c), "equilateral triangle")
            problem.equate(fig.length(b, c), fig.length(a, c), "equilateral triangle")
    elif name == "Circle":
        (o,) = _exactly(_points(args[:1], name), 1, call)
        fig.circle(o)
        if len(args) == 2:
            problem.equate(fig.radius(o), _value(problem, args[1]), "given")
    elif name == "PointLiesOnCircle":
        (p,) = _points(args[:1], name)
        (o,) = _exactly(_unwrap(args[1], "Circle", predicate=name), 1, call)
        fig.on_circle(p, o)
    elif name == "Cocircular":
        o, *on = _points(args, name)
        for p in on:
            fig.on_circle(p, o)
    elif name in ("IsDiameterOf", "IsRadiusOf"):
        a, b = _exactly(_unwrap(args[0], "Line", "Segment", predicate=name), 2, call)
        (o,) = _exactly(_unwrap(args[1], "Circle", predicate=name), 1, call)
        if name == "IsDiameterOf":
            fig.on_circle(a, o), fig.on_circle(b, o)
            fig.between(a, o, b)
        else:
            if o not in (a, b):
                raise GeometryError(f"{call}: a radius must end at the centre {o}")
            fig.on_circle(b if a == o else a, o)
            fig.segment(a, b)
    elif name == "Tangent":
        a, b = _exactly(_unwrap(args[0], "Line", "Segment", predicate=name), 2, call)
        (o,) = _exactly(_unwrap(args[1], "Circle", predicate=name), 1, call)
        on = fig.circle(o)
        touch = a if a in on and b not in on else b
        fig.on_circle(touch, o)
        fig.segment(a, b)
        problem.tangents.append((a if touch == b else b, touch, o))


def _exactly(points: list[str], n: int, call: cdl.Call) -> list[str]:
    if len(points) != n:
        raise GeometryError(f"{call}: expected {n} point(s), got {len(points)}")
    return points


def _value(problem: _Problem, node: cdl.Node) -> sympy.Expr:
    """A CDL expression as a sympy expression over the figure's symbols."""
    fig = problem.figure
    if isinstance(node, cdl.Num):
        return node.value
    if isinstance(node, cdl.Neg):
        return -_value(problem, node.operand)
    if isinstance(node, cdl.BinOp):
        left, right = _value(problem, node.left), _value(problem, node.right)
        return {"+": left + right, "-": left - right, "*": left * right, "/": left / right,
                "^": left ** right}[node.op]
    if isinstance(node, cdl.Name):
        if node.text == "pi":
            return sympy.pi
        if node.text[0].isupper():
            raise GeometryError(f"'{node.text}' is a point where a number was expected; "
                                f"write e.g. LengthOfLine({','.join(node.text)}) for a length")
        return fig.variable(node.text)
    name, args = node.name, node.args
    if name in ("Value", "Find") and len(args) == 1:
        return _value(problem, args[0])
    if name == "LengthOf" and len(args) == 1:
        return _value(problem, cdl.Call("LengthOfLine", (args[0],)))
    if name == "MeasureOf" and len(args) == 1:
        return _value(problem, cdl.Call("MeasureOfAngle", (args[0],)))
    if name in ("RadiusOf", "DiameterOf", "AreaOf", "PerimeterOf", "CircumferenceOf") and len(args) == 1:
        inner = args[0]
        shape = inner.name if isinstance(inner, cdl.Call) else "Triangle"
        suffix = {"Circle": "Circle", "Triangle": "Triangle", "Polygon": "Triangle"}.get(shape)
        if suffix is None:
            raise GeometryError(f"{node}: only circles and triangles have {name[:-2].lower()}s here")
        base = "PerimeterOf" if name == "CircumferenceOf" else name
        return _value(problem, cdl.Call(base + suffix, (inner,)))
    if name == "LengthOfLine":
        a, b = _exactly(_unwrap(args[0], "Line", "Segment", predicate=name) if len(args) == 1
                        else _points(args, name), 2, node)
        return fig.length(a, b)
    if name == "MeasureOfAngle":
        pts = _unwrap(args[0], "Angle", predicate=name) if len(args) == 1 else _points(args, name)
        if len(pts) == 1:
            return fig.angle_at(pts[0])
        a, v, c = _exactly(pts, 3, node)
        return fig.angle(a, v, c)
    if name in ("RadiusOfCircle", "DiameterOfCircle", "AreaOfCircle", "PerimeterOfCircle", "CircumferenceOfCircle"):
        (o,) = _exactly(_unwrap(args[0], "Circle", predicate=name), 1, node)
        r = fig.radius(o)
        if name == "RadiusOfCircle":
            return r
        if name == "DiameterOfCircle":
            return 2 * r
        measure = "area" if name == "AreaOfCircle" else "perimeter"
        problem.circle_measures.append((o, measure))
        return fig.derived((measure, o), f"{'S' if measure == 'area' else 'C'}_⊙{o}", measure, f"{name}({o})")
    if name in ("AreaOfTriangle", "PerimeterOfTriangle"):
        pts = _unwrap(args[0], "Triangle", "Polygon", predicate=name) if len(args) == 1 else _points(args, name)
        a, b, c = _exactly(pts, 3, node)
        for p, q in ((a, b), (b, c), (a, c)):
            fig.segment(p, q)
        measure = "area" if name == "AreaOfTriangle" else "perimeter"
        (problem.areas if measure == "area" else problem.perimeters).append((a, b, c))
        key = (measure, frozenset((a, b, c)))
        return fig.derived(key, f"{'S' if measure == 'area' else 'P'}_{a}{b}{c}", measure, f"{name}({a},{b},{c})")
    arithmetic = {
        "Add": lambda *v: sympy.Add(*v), "Mul": lambda *v: sympy.Mul(*v), "Sub": lambda x, y: x - y,
        "Div": lambda x, y: x / y, "Pow": lambda x, y: x ** y, "SqrtOf": sympy.sqrt, "HalfOf": lambda x: x / 2,
        "SinOf": lambda x: sympy.sin(x * DEG), "CosOf": lambda x: sympy.cos(x * DEG),
        "TanOf": lambda x: sympy.tan(x * DEG),
    }
    if name in arithmetic:
        values = [_value(problem, arg) for arg in args]
        try:
            return arithmetic[name](*values)
        except TypeError:
            raise GeometryError(f"{node}: wrong number of arguments to {name}") from None
    raise GeometryError(f"unsupported function {name}(...) in {node}; supported: {', '.join(SUPPORTED_FUNCTIONS)}")


def _relation(problem: _Problem, call: cdl.Call) -> None:
    fig, name, args = problem.figure, call.name, call.args
    if name in ("Equal", "Equals"):
        if len(args) != 2:
            raise GeometryError(f"{call}: Equal takes two expressions")
        problem.equate(_value(problem, args[0]), _value(problem, args[1]), "given")
    elif name in ("Perpendicular", "Parallel"):
        if len(args) != 2:
            raise GeometryError(f"{call}: {name} takes two lines")
        l1 = tuple(_exactly(_unwrap(args[0], "Line", "Segment", predicate=name), 2, call))
        l2 = tuple(_exactly(_unwrap(args[1], "Line", "Segment", predicate=name), 2, call))
        fig.segment(*l1), fig.segment(*l2)
        (problem.perpendicular if name == "Perpendicular" else problem.parallel).append((l1, l2))
    elif name in ("Similar", "Congruent"):
        if len(args) != 2:
            raise GeometryError(f"{call}: {name} takes two triangles")
        t1 = _exactly(_unwrap(args[0], "Triangle", predicate=name), 3, call)
        t2 = _exactly(_unwrap(args[1], "Triangle", predicate=name), 3, call)
        theorem = "similar triangles" if name == "Similar" else "congruent triangles"
        ratio = 1 if name == "Congruent" else fig.derived(("ratio", tuple(t1), tuple(t2)),
                                                          f"k_{''.join(t1)}_{''.join(t2)}", "ratio",
                                                          f"ratio of {''.join(t1)} to {''.join(t2)}")
        for i in range(3):
            j, k = (i + 1) % 3, (i + 2) % 3
            problem.equate(fig.angle(t1[j], t1[i], t1[k]), fig.angle(t2[j], t2[i], t2[k]), theorem)
            problem.equate(fig.length(t1[i], t1[j]), ratio * fig.length(t2[i], t2[j]), theorem)
    elif name == "BisectsAngle":
        a, d = _exactly(_unwrap(args[0], "Line", "Segment", predicate=name), 2, call)
        p, v, q = _exactly(_unwrap(args[1], "Angle", predicate=name), 3, call)
        if v not in (a, d):
            raise GeometryError(f"{call}: the bisector must start at the angle's vertex {v}")
        ray = d if a == v else a
        problem.equate(fig.angle(p, v, ray), fig.angle(ray, v, q), "angle bisector")


# -- theorems ---------------------------------------------------------------------------------------------------
def _theorems(problem: _Problem) -> None:
    fig = problem.figure
    for o, on in fig.circles.items():  # radii first: they are sides of the triangles found below
        r = fig.radius(o)
        for p in on:
            problem.equate(fig.length(o, p), r, "radius of a circle")
    triangles = fig.triangles()
    for a, b, c in triangles:
        A, B, C = fig.angle(b, a, c), fig.angle(a, b, c), fig.angle(a, c, b)
        problem.equate(A + B + C, 180, "triangle angle sum")
    for l1, l2 in itertools.combinations(fig.lines, 2):
        for m in sorted(set(l1) & set(l2)):
            ends1 = [fig.neighbour(l1, m, s) for s in (-1, 1)]
            ends2 = [fig.neighbour(l2, m, s) for s in (-1, 1)]
            if None in ends1 or None in ends2:
                continue
            problem.equate(fig.angle(ends1[0], m, ends2[0]), fig.angle(ends1[1], m, ends2[1]), "vertical angles")
            problem.equate(fig.angle(ends1[0], m, ends2[1]), fig.angle(ends1[1], m, ends2[0]), "vertical angles")
    for line in fig.lines:
        for p, m, q in itertools.combinations(line, 3):
            problem.equate(fig.length(p, m) + fig.length(m, q), fig.length(p, q), "segment addition")
            for x in fig.points:
                if x in line:
                    continue
                if frozenset((x, m)) in fig.segments:
                    problem.equate(fig.angle(p, m, x) + fig.angle(x, m, q), 180, "supplementary angles")
                    if {frozenset((x, p)), frozenset((x, q))} <= fig.segments:
                        problem.equate(fig.angle(p, x, m) + fig.angle(m, x, q), fig.angle(p, x, q),
                                       "angle addition")
    for (a, b), (c, d) in problem.perpendicular:
        _perpendicular(problem, fig.line_through(a, b), fig.line_through(c, d))
    for (a, b), (c, d) in problem.parallel:
        _parallel(problem, (a, b), (c, d))
    for o, on in fig.circles.items():
        for p, q in itertools.combinations(on, 2):
            central = fig.angle(p, o, q)
            for x in on:
                if x not in (p, q) and {frozenset((x, p)), frozenset((x, q))} <= fig.segments:
                    theorem = "angle in a semicircle (Thales)" if central == 180 else "inscribed angle theorem"
                    problem.equate(fig.angle(p, x, q), central / 2, theorem)
    for outer, touch, o in problem.tangents:
        problem.equate(fig.angle(o, touch, outer), 90, "tangent perpendicular to radius")
    for (p1, t1, o1), (p2, t2, o2) in itertools.combinations(problem.tangents, 2):
        if p1 == p2 and o1 == o2 and t1 != t2:
            problem.equate(fig.length(p1, t1), fig.length(p2, t2), "tangent segments from a point")
    for o, measure in problem.circle_measures:
        r = fig.radius(o)
        symbol = fig.symbol((measure, o))
        if measure == "area":
            problem.equate(symbol, sympy.pi * r**2, "area of a circle")
        else:
            problem.equate(symbol, 2 * sympy.pi * r, "circumference of a circle")
    for a, b, c in problem.perimeters:
        symbol = fig.symbol(("perimeter", frozenset((a, b, c))))
        problem.equate(symbol, fig.length(a, b) + fig.length(b, c) + fig.length(a, c), "triangle perimeter")
    for a, b, c in problem.areas:
        _area(problem, a, b, c)
    for a, b, c in triangles:  # the general laws last: the chain should prefer the elementary theorems
        A, B, C = fig.angle(b, a, c), fig.angle(a, b, c), fig.angle(a, c, b)
        sides = {A: fig.length(b, c), B: fig.length(a, c), C: fig.length(a, b)}
        for (X, x), (Y, y) in itertools.combinations(sides.items(), 2):
            problem.equate(x * sympy.sin(Y * DEG), y * sympy.sin(X * DEG), "law of sines")
        for X, x in sides.items():
            others = [v for k, v in sides.items() if k != X]
            problem.equate(x**2, others[0]**2 + others[1]**2 - 2 * others[0] * others[1] * sympy.cos(X * DEG),
                           "law of cosines")


def _perpendicular(problem: _Problem, l1: list[str], l2: list[str]) -> None:
    fig = problem.figure
    for m in sorted(set(l1) & set(l2)):
        for s1, s2 in itertools.product((-1, 1), repeat=2):
            p, q = fig.neighbour(l1, m, s1), fig.neighbour(l2, m, s2)
            if p and q:
                problem.equate(fig.angle(p, m, q), 90, "perpendicular lines")


def _parallel(problem: _Problem, first: tuple[str, str], second: tuple[str, str]) -> None:
    """Angles a transversal makes with two parallel lines; the lines are taken to point the same way as written
    (AB ∥ CD: A→B along C→D), the convention of textbook figures."""
    fig = problem.figure
    l1, l2 = fig.line_through(*first), fig.line_through(*second)
    d1 = 1 if l1.index(first[0]) < l1.index(first[1]) else -1
    d2 = 1 if l2.index(second[0]) < l2.index(second[1]) else -1
    for p, q in itertools.product(l1, l2):
        if p in l2 or q in l1 or frozenset((p, q)) not in fig.segments:
            continue
        p_fwd, p_back = fig.neighbour(l1, p, d1), fig.neighbour(l1, p, -d1)
        q_fwd, q_back = fig.neighbour(l2, q, d2), fig.neighbour(l2, q, -d2)
        if p_fwd and q_back:
            problem.equate(fig.angle(p_fwd, p, q), fig.angle(q_back, q, p), "parallel lines: alternate angles")
        if p_back and q_fwd:
            problem.equate(fig.angle(p_back, p, q), fig.angle(q_fwd, q, p), "parallel lines: alternate angles")
        if p_fwd and q_fwd:
            problem.equate(fig.angle(p_fwd, p, q) + fig.angle(q_fwd, q, p), 180,
                           "parallel lines: co-interior angles")
        if p_back and q_back:
            problem.equate(fig.angle(p_back, p, q) + fig.angle(q_back, q, p), 180,
                           "parallel lines: co-interior angles")
        for x in fig.points:
            if x in l1 or x in l2 or not fig.are_collinear(x, p, q):
                continue
            for p2, q2 in itertools.product(l1, l2):
                if p2 != p and q2 != q and fig.are_collinear(x, p2, q2) and (p, q) < (p2, q2):
                    ratio = fig.derived(("ratio", x, p, p2, q, q2), f"k_{x}{p}{p2}_{x}{q}{q2}", "ratio",
                                        f"ratio of {x}{p}{p2} to {x}{q}{q2}")
                    for u, v in ((fig.length(x, p), fig.length(x, q)), (fig.length(x, p2), fig.length(x, q2)),
                                 (fig.length(p, p2), fig.length(q, q2))):
                        problem.equate(u, ratio * v, "similar triangles (parallel lines)")
        transversal = fig.line_through(p, q)
        beyond = fig.neighbour(transversal, p, 1 if transversal.index(p) > transversal.index(q) else -1)
        if beyond and p_fwd and q_fwd:
            problem.equate(fig.angle(beyond, p, p_fwd), fig.angle(p, q, q_fwd), "parallel lines: corresponding angles")


def _area(problem: _Problem, a: str, b: str, c: str) -> None:
    fig = problem.figure
    symbol = fig.symbol(("area", frozenset((a, b, c))))
    for v, p, q in ((a, b, c), (b, a, c), (c, a, b)):
        problem.equate(symbol, fig.length(v, p) * fig.length(v, q) * sympy.sin(fig.angle(p, v, q) * DEG) / 2,
                       "triangle area (½·a·b·sin C)")
        base = fig.line_through(p, q)
        for (l1, l2) in problem.perpendicular:
            lines = (fig.line_through(*l1), fig.line_through(*l2))
            if base not in lines:
                continue
            other = lines[1] if lines[0] is base else lines[0]
            if v in other:
                for foot in sorted(set(other) & set(base)):
                    if foot != v:
                        problem.equate(symbol, fig.length(p, q) * fig.length(v, foot) / 2,
                                       "triangle area (½·base·height)")


# -- forward chaining -----------------------------------------------------------------------------------------
class _Chainer:
    def __init__(self, problem: _Problem, goal: sympy.Expr):
        self.problem, self.fig, self.goal = problem, problem.figure, goal
        self.known: dict[sympy.Symbol, sympy.Expr] = {}
        self.steps: dict[sympy.Symbol, Step] = {}
        self.order: list[sympy.Symbol] = []

    def determined(self) -> bool:
        return not self.goal.xreplace(self.known).free_symbols

    def run(self) -> None:
        while not self.determined():
            if (self.singles(trig=False) or self.pairs() or self.linear() or self.isosceles()
                    or self.singles(trig=True)):
                continue
            return

    def assign(self, symbol: sympy.Symbol, value: sympy.Expr, equations: list[Equation]) -> None:
        value = _tidy(value)
        self.known[symbol] = value
        premises = frozenset(s for eq in equations for s in eq.expr.free_symbols) - {symbol}
        theorems = list(dict.fromkeys(eq.theorem for eq in equations))
        if theorems == ["law of cosines"] and len(equations) == 1 and self._right_angle_in(equations[0]):
            theorems = ["Pythagorean theorem"]
        statement = "; ".join(eq.statement for eq in equations)
        self.steps[symbol] = Step(symbol, value, theorems, statement, premises)
        self.order.append(symbol)

    def _right_angle_in(self, eq: Equation) -> bool:
        return any(self.fig.kind_of(s) == "angle" and self.known.get(s) == 90 for s in eq.expr.free_symbols)

    def pending(self, trig: bool | None = None):
        for eq in self.problem.equations:
            if eq.done or (trig is not None and (eq.theorem in TRIG_LAWS) != trig):
                continue
            expr = eq.expr.xreplace(self.known)
            free = expr.free_symbols
            if not free:
                eq.done = True
                continue
            yield eq, expr, free

    def singles(self, trig: bool) -> bool:
        progress = False
        for eq, _, _ in list(self.pending(trig)):
            expr = eq.expr.xreplace(self.known)  # earlier equations of this sweep may have solved more
            if len(expr.free_symbols) != 1:
                continue
            (symbol,) = expr.free_symbols
            roots = self.roots(expr, symbol)
            if len(roots) == 1:
                self.assign(symbol, roots[0], [eq])
                eq.done = progress = True
                if self.determined():
                    return True
        return progress

    def roots(self, expr: sympy.Expr, symbol: sympy.Symbol) -> list[sympy.Expr]:
        kind = self.fig.kind_of(symbol)
        trig = any(f.has(symbol) for f in expr.atoms(sympy.sin, sympy.cos, sympy.tan))
        if trig:
            found = _angle_roots(expr, symbol) if kind == "angle" else []
        else:
            found = _polynomial_roots(expr, symbol)
        valid = [r for r in found if _in_domain(kind, float(r))]
        unique: list[sympy.Expr] = []
        for r in valid:
            if all(abs(float(r) - float(u)) > TOLERANCE * max(1.0, abs(float(u))) for u in unique):
                unique.append(r)
        return unique

    def pairs(self) -> bool:
        """Two equations in the same two unknowns, one of them linear: eliminate, then solve the other."""
        by_unknowns: dict[frozenset, list[tuple[Equation, sympy.Expr]]] = {}
        for eq, expr, free in self.pending():
            if len(free) == 2 and not _has_trig_of(expr, free):
                by_unknowns.setdefault(frozenset(free), []).append((eq, expr))
        for unknowns, eqs in by_unknowns.items():
            for (e1, x1), (e2, x2) in itertools.permutations(eqs, 2):
                s, t = sorted(unknowns, key=str)
                for first, second in ((s, t), (t, s)):
                    if _degree(x1, first) != 1:
                        continue
                    slope, rest = sympy.Poly(x1, first).all_coeffs()
                    if slope.has(second):
                        continue
                    elimination = -rest / slope
                    reduced = x2.xreplace({first: elimination})
                    roots = [r for r in self.roots(reduced, second)
                             if _in_domain(self.fig.kind_of(first), float(elimination.xreplace({second: r})))]
                    if len(roots) == 1:
                        self.assign(second, roots[0], [e1, e2])
                        self.assign(first, elimination.xreplace({second: roots[0]}), [e1, e2])
                        e1.done = e2.done = True
                        return True
        return False

    def linear(self) -> bool:
        """Solve the linear equations left together; assign every unknown the system pins down."""
        rows, eqs = [], []
        symbols: list[sympy.Symbol] = []
        for eq, expr, free in self.pending():
            if _has_trig_of(expr, free):
                continue
            try:
                poly = sympy.Poly(expr, *sorted(free, key=str))
            except sympy.PolynomialError:
                continue
            if poly.total_degree() != 1:
                continue
            rows.append(expr)
            eqs.append(eq)
            symbols.extend(s for s in free if s not in symbols)
        if len(rows) < 2:
            return False
        matrix, rhs = sympy.linear_eq_to_matrix(rows, symbols)
        a = np.array(matrix.evalf(), dtype=float)
        b = np.array(rhs.evalf(), dtype=float).reshape(-1)
        solution, *_ = np.linalg.lstsq(a, b, rcond=None)
        _, sv, vt = np.linalg.svd(a)
        rank = int((sv > 1e-9 * max(sv.max(), 1)).sum())
        null = vt[rank:]
        progress = False
        for j, symbol in enumerate(symbols):
            if null.size and np.abs(null[:, j]).max() > 1e-9:
                continue
            if not _in_domain(self.fig.kind_of(symbol), solution[j]):
                continue
            used = [eq for eq, row in zip(eqs, a) if abs(row[j]) > 0] or eqs
            self.assign(symbol, sympy.nsimplify(solution[j], tolerance=1e-10, rational=True)
                        if abs(solution[j] - round(solution[j], 6)) < 1e-9 else sympy.Float(solution[j]), used)
            progress = True
        return progress

    def isosceles(self) -> bool:
        """Rules that fire on derived facts: equal sides give equal base angles, and conversely."""
        fig, before = self.fig, len(self.problem.equations)
        for a, b, c in fig.triangles():
            for v, p, q in ((a, b, c), (b, a, c), (c, a, b)):
                if self._equal(fig.length(v, p), fig.length(v, q)):
                    self.problem.equate(fig.angle(v, p, q), fig.angle(v, q, p), "isosceles triangle base angles")
                if self._equal(fig.angle(v, p, q), fig.angle(v, q, p)):
                    self.problem.equate(fig.length(v, p), fig.length(v, q), "isosceles triangle (equal angles)")
        return len(self.problem.equations) > before

    def _equal(self, x: sympy.Expr, y: sympy.Expr) -> bool:
        difference = (x - y).xreplace(self.known)
        if not difference.free_symbols:
            return abs(float(difference)) < TOLERANCE
        return any(eq.expr in (x - y, y - x) for eq in self.problem.equations)

    def solution(self, goal_text: str) -> Solution:
        value = self.goal.xreplace(self.known)
        needed, stack = set(), list(self.goal.free_symbols)
        while stack:
            symbol = stack.pop()
            if symbol in needed or symbol not in self.steps:
                continue
            needed.add(symbol)
            stack.extend(self.steps[symbol].premises)
        chain = [self.steps[s] for s in self.order if s in needed]
        theorems = list(dict.fromkeys(t for step in chain for t in step.theorems if t != "given"))
        steps = [f"{' + '.join(step.theorems)}: {step.statement} ⇒ {self.fig.label_of(step.symbol)} = "
                 f"{_show(step.value)}" for step in chain]
        numeric = float(sympy.N(value, 15))
        return Solution(value=numeric, exact=_show(sympy.nsimplify(value) if value.is_Rational else value),
                        theorems=theorems, steps=steps, goal=goal_text)


def _degree(expr: sympy.Expr, symbol: sympy.Symbol) -> int:
    try:
        return sympy.Poly(expr, symbol).degree()
    except sympy.PolynomialError:
        return -1


def _has_trig_of(expr: sympy.Expr, symbols: set) -> bool:
    return any(f.has(*symbols) for f in expr.atoms(sympy.sin, sympy.cos, sympy.tan))


def _in_domain(kind: str, value: float) -> bool:
    if not math.isfinite(value):
        return False
    if kind == "variable":
        return True
    if kind == "angle":
        return 1e-9 < value <= 180 + 1e-9
    return value > 1e-9


def _polynomial_roots(expr: sympy.Expr, symbol: sympy.Symbol) -> list[sympy.Expr]:
    numerator = sympy.numer(sympy.together(expr))
    try:
        poly = sympy.Poly(numerator, symbol)
    except sympy.PolynomialError:
        return []
    if poly.degree() < 1:
        return []
    if poly.degree() == 1 or (poly.degree() == 2 and all(c.is_Rational for c in poly.all_coeffs())):
        return [r for r in sympy.roots(poly) if abs(complex(sympy.N(r)).imag) < 1e-9]  # exact: 5, 2*sqrt(3)
    coefficients = [complex(sympy.N(c)) for c in poly.all_coeffs()]
    return [sympy.Float(r.real) for r in np.roots(coefficients) if abs(r.imag) < 1e-9 * max(1, abs(r))]


def _angle_roots(expr: sympy.Expr, symbol: sympy.Symbol) -> list[sympy.Expr]:
    """Roots in (0°, 180°] of an equation with trigonometry of one unknown angle, by a scan and bisection."""
    compiled = sympy.lambdify(symbol, expr, "math")

    def f(x: float) -> float:
        try:
            return float(compiled(x))
        except (ValueError, ZeroDivisionError, OverflowError, TypeError):
            return math.nan

    grid = np.linspace(1e-6, 180, 7201)
    values = np.array([f(x) for x in grid])
    roots = []
    for i in range(len(grid) - 1):
        lo, hi, flo, fhi = grid[i], grid[i + 1], values[i], values[i + 1]
        if not (np.isfinite(flo) and np.isfinite(fhi)):
            continue
        if flo == 0:
            roots.append(lo)
        elif flo * fhi < 0:
            for _ in range(60):
                mid = (lo + hi) / 2
                fmid = f(mid)
                if flo * fmid <= 0:
                    hi = mid
                else:
                    lo, flo = mid, fmid
            roots.append((lo + hi) / 2)
    if np.isfinite(values[-1]) and abs(values[-1]) < 1e-12:
        roots.append(180.0)
    return [_snap(r) for r in roots]


def _snap(x: float) -> sympy.Expr:
    nearest = round(x)
    return sympy.Integer(nearest) if abs(x - nearest) < 1e-7 else sympy.Float(x, 15)


def _tidy(value: sympy.Expr) -> sympy.Expr:
    """Keep exact values while they stay small; long exact forms become floats so later equations stay cheap."""
    value = sympy.nsimplify(value) if value.is_Float and abs(value - round(value)) < 1e-9 else value
    return value if sympy.count_ops(value) <= 12 else sympy.Float(sympy.N(value, 20), 20)


def _parse_all(constraints: list[str]) -> list[cdl.Call]:
    calls = []
    for text in constraints:
        try:
            node = cdl.parse(text)
        except cdl.CDLSyntaxError as exc:
            raise GeometryError(f"constraint {text!r} does not parse: {exc}") from None
        if not isinstance(node, cdl.Call):
            raise GeometryError(f"constraint {text!r} is not a predicate such as Equal(LengthOfLine(A,B),5)")
        if node.name not in STRUCTURAL and node.name not in RELATIONS:
            raise GeometryError(f"unsupported predicate {node.name} in {text!r}; supported predicates: "
                                f"{', '.join(SUPPORTED_PREDICATES)}")
        calls.append(node)
    return calls


def solve(constraints: list[str], goal: str) -> Solution:
    """Solve for `goal` (a CDL expression such as ``LengthOfLine(A,C)``) under the CDL `constraints`."""
    calls = _parse_all(constraints)
    problem = _Problem()
    for call in calls:
        if call.name in STRUCTURAL:
            _structure(problem, call)
    for call in calls:
        if call.name in RELATIONS:
            _relation(problem, call)
    try:
        goal_expr = _value(problem, cdl.parse(goal))
    except cdl.CDLSyntaxError as exc:
        raise GeometryError(f"goal {goal!r} does not parse: {exc}", argument="goal") from None
    except GeometryError as exc:
        raise GeometryError(f"goal {goal!r}: {exc}", argument="goal") from None
    _theorems(problem)
    chainer = _Chainer(problem, goal_expr)
    chainer.run()
    if not chainer.determined():
        unknown = sorted(problem.figure.label_of(s) for s in goal_expr.xreplace(chainer.known).free_symbols)
        known = ", ".join(f"{problem.figure.label_of(s)} = {_show(v)}" for s, v in chainer.known.items()) or "none"
        raise UnderdeterminedError(
            f"the constraints do not determine {goal}: {', '.join(unknown)} stay unknown after applying every "
            f"theorem (derived: {known}); add the missing given (a length, an angle, an incidence) or check the "
            "point names")
    return chainer.solution(goal)
