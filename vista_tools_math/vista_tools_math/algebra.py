"""The sympy work behind `calculator`, `solve_equation` and `symbolic`: text in (read by `expression`), plain data out.

These functions run inside the sympy worker process (`worker.py`), which bounds their time and memory; each returns
JSON-compatible data and raises `ExpressionError` for input the policy should correct.
"""

from __future__ import annotations

import math
from typing import Any

import sympy as sp

from .expression import CONSTANTS, FUNCTIONS, ExpressionError, has_decimal_literal, magnitude_digits, parse

NUMERIC_DIGITS = 15
MAX_SOLUTIONS = 50
FLOAT_DIGITS = 308


def numeric(value: sp.Basic) -> float | None:
    """The value as a finite real float, or None when it is symbolic, complex or infinite."""
    if not value.is_number:
        return None
    if any(magnitude_digits(atom) > FLOAT_DIGITS for atom in value.atoms(sp.Rational)):
        return None  # beyond float range, and evaluating exp(10^4000) would take mpmath minutes
    approx = sp.N(value, NUMERIC_DIGITS)
    if not approx.is_real:
        # tiny imaginary parts from evaluating exact roots numerically are not complex answers
        re_part, im_part = approx.as_real_imag()
        if im_part.is_number and abs(float(im_part)) < 1e-12 * max(1.0, abs(float(re_part))):
            approx = re_part
        else:
            return None
    try:
        result = float(approx)
    except TypeError:
        return None
    return result if math.isfinite(result) else None


def _show(value: sp.Basic, decimal: bool) -> str:
    """Exact form, except that a non-integer rational from decimal input is shown as a decimal (0.3, not 3/10)."""
    if decimal and value.is_Rational and not value.is_Integer:
        as_float = float(value)
        if sp.Rational(repr(as_float)) == value:
            return repr(as_float)
    return sp.sstr(value)


def _approx_suffix(value: sp.Basic, shown: str) -> str:
    approx = numeric(value)
    if approx is None or f"{approx:.{NUMERIC_DIGITS}g}" == shown:
        return ""
    return f" ≈ {approx:.{NUMERIC_DIGITS}g}"


def calculate(expression: str) -> dict[str, Any]:
    value = parse(expression)
    if value.has(sp.zoo, sp.nan):
        raise ExpressionError(f"'{expression}' is undefined (division by zero or an indeterminate form)")
    shown = _show(value, has_decimal_literal(expression))
    return {"data": {"value": shown, "numeric": numeric(value)},
            "text": f"{expression} = {shown}{_approx_suffix(value, shown)}"}


def _unknown_symbols(unknowns: list[str], argument: str) -> dict[str, sp.Symbol]:
    symbols: dict[str, sp.Symbol] = {}
    for name in unknowns:
        if name in FUNCTIONS or name in CONSTANTS:
            raise ExpressionError(f"'{name}' is a function or constant name and cannot be a variable; "
                                  "pick another name such as 'x' or 'n'", argument)
        if name in symbols:
            raise ExpressionError(f"unknown '{name}' is listed twice", argument)
        symbols[name] = sp.Symbol(name)
    return symbols


def solve(equations: list[str], unknowns: list[str]) -> dict[str, Any]:
    symbols = _unknown_symbols(unknowns, "unknowns")
    parsed: list[sp.Basic] = []
    for i, text in enumerate(equations):
        try:
            equation = parse(text, symbols, free_symbols=True, allow_equation=True)
        except ExpressionError as exc:
            raise ExpressionError(f"equation {i} ('{text}'): {exc}") from None
        difference = sp.expand(equation.lhs - equation.rhs if isinstance(equation, sp.Eq) else equation)
        if difference.is_number:
            if difference.is_zero:
                raise ExpressionError(f"equation {i} ('{text}') holds for every value; remove it or correct it")
            return {"data": {"solutions": []},
                    "text": f"no solution: equation {i} ('{text}') reduces to {sp.sstr(difference)} = 0"}
        parsed.append(difference)
    present = set().union(*(e.free_symbols for e in parsed))
    absent = [name for name, s in symbols.items() if s not in present]
    if absent:
        raise ExpressionError(f"unknown(s) {', '.join(absent)} appear in no equation; list only variables that "
                              f"the equations contain ({', '.join(sorted(map(str, present))) or 'none'})",
                              "unknowns")
    found = sp.solve(parsed, list(symbols.values()), dict=True)
    solutions = [{str(var): sp.sstr(val) for var, val in solution.items()} for solution in found[:MAX_SOLUTIONS]]
    if not solutions:
        text = "no solution"
    else:
        lines = []
        for solution in found[:MAX_SOLUTIONS]:
            lines.append(", ".join(f"{var} = {sp.sstr(val)}{_approx_suffix(val, sp.sstr(val))}"
                                   for var, val in solution.items()))
        text = "\n".join(lines)
    return {"data": {"solutions": solutions}, "text": text}


OPERATIONS = ("simplify", "expand", "factor", "diff", "integrate")


def transform(expression: str, operation: str, variable: str | None) -> dict[str, Any]:
    symbols = _unknown_symbols([variable], "variable") if variable else {}
    value = parse(expression, symbols, free_symbols=True)
    if operation in ("diff", "integrate"):
        if variable is None:
            free = sorted(value.free_symbols, key=str)
            if len(free) > 1:
                raise ExpressionError(f"the expression has several variables ({', '.join(map(str, free))}); "
                                      f"name the one to {operation} by in 'variable'")
            var = free[0] if free else sp.Symbol("x")
        else:
            var = symbols[variable]
        result = sp.diff(value, var) if operation == "diff" else sp.integrate(value, var)
    else:
        result = {"simplify": sp.simplify, "expand": sp.expand, "factor": sp.factor}[operation](value)
    shown = sp.sstr(result)
    return {"data": {"result": shown}, "text": f"{operation}: {shown}"}
