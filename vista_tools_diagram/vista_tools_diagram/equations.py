"""From a formal description (CDL) to equations: the `Figure` its predicates build, and every applicable theorem
instance as an equation over the figure's lengths and angles (degrees), each with the theorem that gave it.
`vista_tools_diagram.solver` chains them to the goal's value."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

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


@dataclass
class Equation:
    expr: sympy.Expr  # == 0
    theorem: str
    statement: str
    done: bool = False


@dataclass
class Problem:
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
        statement = f"{show(lhs)} = {show(rhs)}"
        if expr == 0 or not expr.free_symbols or statement in self.added:
            return
        self.added.add(statement)
        self.equations.append(Equation(expr, theorem, statement))


def show(expr: sympy.Expr) -> str:
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


def _structure(problem: Problem, call: cdl.Call) -> None:
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


def _value(problem: Problem, node: cdl.Node) -> sympy.Expr:
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


def _relation(problem: Problem, call: cdl.Call) -> None:
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
def _theorems(problem: Problem) -> None:
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


def _perpendicular(problem: Problem, l1: list[str], l2: list[str]) -> None:
    fig = problem.figure
    for m in sorted(set(l1) & set(l2)):
        for s1, s2 in itertools.product((-1, 1), repeat=2):
            p, q = fig.neighbour(l1, m, s1), fig.neighbour(l2, m, s2)
            if p and q:
                problem.equate(fig.angle(p, m, q), 90, "perpendicular lines")


def _parallel(problem: Problem, first: tuple[str, str], second: tuple[str, str]) -> None:
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


def _area(problem: Problem, a: str, b: str, c: str) -> None:
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


def parse_all(constraints: list[str]) -> list[cdl.Call]:
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


def equations_of(constraints: list[str], goal: str) -> tuple[Problem, sympy.Expr]:
    """The figure and equations of the CDL ``constraints``, and the ``goal`` expression over the figure's symbols."""
    calls = parse_all(constraints)
    problem = Problem()
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
    return problem, goal_expr
