"""The figure a formal description builds: points, collinear lines in order, segments, circles, and the sympy
symbols that stand for its lengths and angles.

Angles are named by rays, as Inter-GPS does, so that ∠ABC and ∠DBC are one quantity when D lies on ray BA;
an angle whose rays are opposite is the straight angle, 180°.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import sympy


class GeometryError(ValueError):
    """A formal description the solver cannot use: unsupported predicate, malformed arguments, degenerate figure.
    `argument` names the solver argument at fault (constraints or goal)."""

    def __init__(self, message: str, argument: str = "constraints"):
        super().__init__(message)
        self.argument = argument


@dataclass
class Quantity:
    symbol: sympy.Symbol
    kind: str  # length | angle | radius | area | perimeter | ratio | variable
    label: str  # how the policy writes it: LengthOfLine(A,B), MeasureOfAngle(A,B,C), x


@dataclass
class Figure:
    points: list[str] = field(default_factory=list)
    segments: set[frozenset[str]] = field(default_factory=set)
    lines: list[list[str]] = field(default_factory=list)  # collinear points in order along the line (>= 3)
    circles: dict[str, list[str]] = field(default_factory=dict)  # centre -> points on the circle
    quantities: dict[object, Quantity] = field(default_factory=dict)
    by_symbol: dict[sympy.Symbol, Quantity] = field(default_factory=dict)

    # -- points, lines, circles ------------------------------------------------------------------------------
    def point(self, name: str) -> str:
        if name not in self.points:
            self.points.append(name)
        return name

    def segment(self, a: str, b: str) -> None:
        if a == b:
            raise GeometryError(f"a line needs two different points, got {a}{b}")
        self.point(a), self.point(b)
        self.segments.add(frozenset((a, b)))

    def line_through(self, a: str, b: str) -> list[str]:
        """The points of the line through a and b, in order along it."""
        for line in self.lines:
            if a in line and b in line:
                return line
        return [a, b]

    def collinear(self, ordered: list[str]) -> None:
        """Declare points that lie on one line in this order (each inner point between its neighbours)."""
        if len(set(ordered)) != len(ordered) or len(ordered) < 2:
            raise GeometryError(f"collinear points must be distinct, got {','.join(ordered)}")
        for p in ordered:
            self.point(p)
        for a, b in itertools.combinations(ordered, 2):
            self.segments.add(frozenset((a, b)))
        if len(ordered) < 3:
            return
        for line in self.lines:
            shared = [p for p in ordered if p in line]
            if len(shared) >= 2:
                self._merge(line, ordered, shared)
                return
        self.lines.append(list(ordered))

    def _merge(self, line: list[str], ordered: list[str], shared: list[str]) -> None:
        if line.index(shared[0]) > line.index(shared[1]):
            ordered = ordered[::-1]
        anchor = ordered.index(shared[0])
        for offset in range(1, len(ordered)):
            for sign in (1, -1):
                k = anchor + sign * offset
                if 0 <= k < len(ordered) and ordered[k] not in line:
                    neighbour = ordered[k - sign]
                    at = line.index(neighbour)
                    line.insert(at + 1 if sign > 0 else at, ordered[k])
        for a, b in itertools.combinations(line, 2):
            self.segments.add(frozenset((a, b)))

    def between(self, p: str, m: str, q: str) -> None:
        self.collinear([p, m, q])

    def circle(self, centre: str) -> list[str]:
        self.point(centre)
        return self.circles.setdefault(centre, [])

    def on_circle(self, p: str, centre: str) -> None:
        on = self.circle(centre)
        if p == centre:
            raise GeometryError(f"the centre {centre} cannot lie on its own circle")
        if p not in on:
            on.append(self.point(p))

    def are_collinear(self, *points: str) -> bool:
        return any(all(p in line for p in points) for line in self.lines)

    def triangles(self) -> list[tuple[str, str, str]]:
        found = []
        for a, b, c in itertools.combinations(self.points, 3):
            if ({frozenset((a, b)), frozenset((b, c)), frozenset((a, c))} <= self.segments
                    and not self.are_collinear(a, b, c)):
                found.append((a, b, c))
        return found

    def neighbour(self, line: list[str], p: str, step: int) -> str | None:
        """The point next to p along `line`, one step forward (+1) or back (-1), or None at the end."""
        k = line.index(p) + step
        return line[k] if 0 <= k < len(line) else None

    def rays(self, vertex: str) -> list[str]:
        """One representative point per ray that leaves `vertex` along a segment."""
        seen, out = set(), []
        for seg in self.segments:
            if vertex in seg:
                (other,) = seg - {vertex}
                key = self._ray_key(vertex, other)
                if key not in seen:
                    seen.add(key)
                    out.append(other)
        return sorted(out)

    # -- quantities ------------------------------------------------------------------------------------------
    def _quantity(self, key: object, name: str, kind: str, label: str) -> sympy.Symbol:
        if key not in self.quantities:
            assumptions = {"real": True} if kind == "variable" else {"positive": True}
            quantity = Quantity(sympy.Symbol(name, **assumptions), kind, label)
            self.quantities[key] = self.by_symbol[quantity.symbol] = quantity
        return self.quantities[key].symbol

    def length(self, a: str, b: str) -> sympy.Symbol:
        self.segment(a, b)
        a, b = sorted((a, b))
        return self._quantity(("length", a, b), f"{a}{b}", "length", f"LengthOfLine({a},{b})")

    def _ray_key(self, vertex: str, p: str) -> frozenset[str]:
        line = self.line_through(vertex, p)
        i, j = line.index(vertex), line.index(p)
        return frozenset(q for k, q in enumerate(line) if (k - i) * (j - i) > 0)

    def angle(self, a: str, vertex: str, c: str) -> sympy.Expr:
        if vertex in (a, c) or a == c:
            raise GeometryError(f"angle {a}{vertex}{c} needs three different points")
        self.segment(vertex, a), self.segment(vertex, c)
        ray_a, ray_c = self._ray_key(vertex, a), self._ray_key(vertex, c)
        if ray_a == ray_c:
            raise GeometryError(f"angle {a}{vertex}{c} is zero: {a} and {c} lie on the same ray from {vertex}")
        line = self.line_through(vertex, a)
        if c in line:
            return sympy.Integer(180)  # opposite rays: the straight angle
        key = ("angle", vertex, frozenset((ray_a, ray_c)))
        first, last = sorted((a, c))
        return self._quantity(key, f"∠{first}{vertex}{last}", "angle", f"MeasureOfAngle({first},{vertex},{last})")

    def angle_at(self, vertex: str) -> sympy.Expr:
        """The angle at a vertex named by one letter: defined only when exactly two rays leave it."""
        rays = self.rays(vertex)
        if len(rays) != 2:
            raise GeometryError(f"angle {vertex} is ambiguous: {len(rays)} rays leave {vertex}; name it by three "
                                f"points, e.g. MeasureOfAngle(X,{vertex},Y)")
        return self.angle(rays[0], vertex, rays[1])

    def radius(self, centre: str) -> sympy.Symbol:
        self.circle(centre)
        return self._quantity(("radius", centre), f"r_{centre}", "radius", f"RadiusOfCircle({centre})")

    def variable(self, name: str) -> sympy.Symbol:
        return self._quantity(("variable", name), name, "variable", name)

    def derived(self, key: tuple, name: str, kind: str, label: str) -> sympy.Symbol:
        """A symbol for a derived quantity: an area, a perimeter, a similarity ratio."""
        return self._quantity(key, name, kind, label)

    def symbol(self, key: tuple) -> sympy.Symbol:
        return self.quantities[key].symbol

    def kind_of(self, symbol: sympy.Symbol) -> str:
        return self.by_symbol[symbol].kind

    def label_of(self, symbol: sympy.Symbol) -> str:
        return self.by_symbol[symbol].label
