"""An Inter-GPS-style symbolic geometry solver.

The formal description builds a `Figure`; every applicable theorem instance becomes an equation over its lengths
and angles (degrees; `vista_tools_diagram.equations`); forward chaining, here, then solves equations that have one
unknown left (pairs and linear systems when none has), re-checking the rules that fire on derived facts (isosceles
triangles), until the goal is a number. Each derived value remembers the theorem that gave it, so the answer comes
with its chain.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import sympy

from .equations import TOLERANCE, TRIG_LAWS, Equation, Problem, equations_of, show
from .figure import GeometryError

__all__ = ["GeometryError", "Solution", "UnderdeterminedError", "solve"]


class UnderdeterminedError(GeometryError):
    """The constraints do not fix the goal's value."""


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


# -- forward chaining -----------------------------------------------------------------------------------------
class _Chainer:
    def __init__(self, problem: Problem, goal: sympy.Expr):
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
                 f"{show(step.value)}" for step in chain]
        numeric = float(sympy.N(value, 15))
        return Solution(value=numeric, exact=show(sympy.nsimplify(value) if value.is_Rational else value),
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


def solve(constraints: list[str], goal: str) -> Solution:
    """Solve for `goal` (a CDL expression such as ``LengthOfLine(A,C)``) under the CDL `constraints`."""
    problem, goal_expr = equations_of(constraints, goal)
    chainer = _Chainer(problem, goal_expr)
    chainer.run()
    if not chainer.determined():
        unknown = sorted(problem.figure.label_of(s) for s in goal_expr.xreplace(chainer.known).free_symbols)
        known = ", ".join(f"{problem.figure.label_of(s)} = {show(v)}" for s, v in chainer.known.items()) or "none"
        raise UnderdeterminedError(
            f"the constraints do not determine {goal}: {', '.join(unknown)} stay unknown after applying every "
            f"theorem (derived: {known}); add the missing given (a length, an angle, an incidence) or check the "
            "point names")
    return chainer.solution(goal)
