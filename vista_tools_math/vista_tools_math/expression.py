"""A parser for model-written math that builds sympy objects from a whitelist, so nothing is ever evaluated as Python.

`sympy.sympify` and `parse_expr` run `eval` on the text they are given; a policy that writes
`().__class__.__bases__[0].__subclasses__()` must not get to run it. This module reads the text with its own tokenizer
and a precedence-climbing parser whose only outputs are numbers, whitelisted constants and functions, declared
symbols and the arithmetic operators, and it refuses everything else by naming the token at fault.

Accepted: integers, decimals (read exactly, ``0.1`` is 1/10), ``1e-3``; ``+ - * / ^ **``; ``%`` as a percent sign
(``45%``) or as modulo between two operands (``7 % 3``); ``!`` factorial; ``°`` degrees; ``√`` square root;
implicit multiplication (``2x``, ``2sqrt(3)``, ``(a+1)(a-1)``); ``=`` in equations; the unicode signs
``× ÷ − π``. Sizes are bounded: the text, the nesting depth, integer literals and the digits a power may produce.
"""

from __future__ import annotations

import keyword
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import sympy as sp
from vista.errors import did_you_mean

from .bounds import MAX_DEPTH, MAX_FACTORIAL, MAX_LENGTH, MAX_LITERAL_DIGITS, MAX_NAME_LENGTH, MAX_RESULT_DIGITS


class ExpressionError(ValueError):
    """The text is not an expression this parser accepts; the message names the token and says what is valid.
    ``argument`` names the tool argument at fault when it is not the expression itself."""

    def __init__(self, message: str, argument: str | None = None):
        super().__init__(message)
        self.argument = argument


@dataclass(frozen=True)
class _Token:
    kind: str  # "num", "name", "op", "end"
    text: str
    pos: int


_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*|π)
  | (?P<op>\*\*|==|[-+*/^%(),=×÷−√°!])
""", re.VERBOSE)

_UNICODE_OPS = {"×": "*", "÷": "/", "−": "-", "==": "="}

_EXPLAINED = {
    ".": "'.' (attribute access) is not allowed; write numbers as 0.5, not .attribute",
    "[": "'[' (indexing, lists) is not allowed; use parentheses for grouping",
    "]": "']' is not allowed; use parentheses for grouping",
    "{": "'{' is not allowed; use parentheses for grouping",
    "}": "'}' is not allowed; use parentheses for grouping",
    "'": "quotes (strings) are not allowed; write a math expression",
    '"': "quotes (strings) are not allowed; write a math expression",
    ";": "';' is not allowed: write one expression",
    ":": "':' is not allowed: write one expression",
    "@": "'@' is not allowed; use * for multiplication",
    "\\": "'\\' is not allowed: write plain math, not LaTeX (sqrt(2), not \\sqrt{2})",
    "&": "'&' is not allowed", "|": "'|' is not allowed; write abs(x)", "~": "'~' is not allowed",
    "<": "comparisons are not allowed", ">": "comparisons are not allowed", "#": "'#' is not allowed",
    "$": "'$' is not allowed: write the number without a currency sign",
}


def tokenize(text: str) -> list[_Token]:
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression is {len(text)} characters long; the limit is {MAX_LENGTH}")
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            char = text[pos]
            explained = _EXPLAINED.get(char, f"unexpected character {char!r}")
            raise ExpressionError(f"{explained} (at position {pos})")
        kind = match.lastgroup
        value = match.group()
        if kind != "space":
            if kind == "name":
                _check_name(value)  # at once, so that '__import__("os")' is refused for its name, not its quotes
            if kind == "op":
                value = _UNICODE_OPS.get(value, value)
            tokens.append(_Token(kind, value, pos))
        pos = match.end()
    if not tokens:
        raise ExpressionError("the expression is empty")
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _deg(fn: Callable) -> Callable:
    return lambda x: fn(x * sp.pi / 180)


def _adeg(fn: Callable) -> Callable:
    return lambda x: fn(x) * 180 / sp.pi


def _log(x, base=None):
    return sp.log(x) if base is None else sp.log(x, base)


def _round(x, digits=sp.S.Zero):
    value = sp.N(x, 50)
    if not value.is_number or not value.is_real:
        raise ExpressionError(f"round() needs a real number, got {x}")
    if not digits.is_Integer or abs(int(digits)) > 100:
        raise ExpressionError(f"round(x, n): n must be an integer between -100 and 100, got {digits}")
    # half away from zero, as people round (Python's round() rounds half to even)
    rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-int(digits)), rounding=ROUND_HALF_UP)
    return sp.Rational(str(rounded))


def _factorial(n):
    if n.is_Number and (not n.is_integer or n < 0):
        raise ExpressionError(f"factorial needs a non-negative integer, got {n}")
    if n.is_Number and n > MAX_FACTORIAL:
        raise ExpressionError(f"factorial({n}) is too large; the limit is {MAX_FACTORIAL}")
    return sp.factorial(n)


def _int_args(name: str, fn: Callable) -> Callable:
    def checked(*args):
        for a in args:
            if a.is_Number and not a.is_integer:
                raise ExpressionError(f"{name}() needs integers, got {a}")
        return fn(*args)
    return checked


# name -> (function, fewest arguments, most arguments or None for any number)
FUNCTIONS: dict[str, tuple[Callable, int, int | None]] = {
    "sqrt": (sp.sqrt, 1, 1), "cbrt": (lambda x: sp.real_root(x, 3), 1, 1),
    "root": (sp.real_root, 2, 2),  # the real root, as people mean cbrt(-8) = -2, not a complex principal root
    "exp": (sp.exp, 1, 1), "ln": (sp.log, 1, 1), "log": (_log, 1, 2),
    "log10": (lambda x: sp.log(x, 10), 1, 1), "log2": (lambda x: sp.log(x, 2), 1, 1),
    "sin": (sp.sin, 1, 1), "cos": (sp.cos, 1, 1), "tan": (sp.tan, 1, 1),
    "cot": (sp.cot, 1, 1), "sec": (sp.sec, 1, 1), "csc": (sp.csc, 1, 1),
    "asin": (sp.asin, 1, 1), "acos": (sp.acos, 1, 1), "atan": (sp.atan, 1, 1),
    "arcsin": (sp.asin, 1, 1), "arccos": (sp.acos, 1, 1), "arctan": (sp.atan, 1, 1),
    "atan2": (sp.atan2, 2, 2), "sinh": (sp.sinh, 1, 1), "cosh": (sp.cosh, 1, 1), "tanh": (sp.tanh, 1, 1),
    "sind": (_deg(sp.sin), 1, 1), "cosd": (_deg(sp.cos), 1, 1), "tand": (_deg(sp.tan), 1, 1),
    "asind": (_adeg(sp.asin), 1, 1), "acosd": (_adeg(sp.acos), 1, 1), "atand": (_adeg(sp.atan), 1, 1),
    "degrees": (lambda x: x * 180 / sp.pi, 1, 1), "radians": (lambda x: x * sp.pi / 180, 1, 1),
    "abs": (sp.Abs, 1, 1), "sign": (sp.sign, 1, 1),
    "floor": (sp.floor, 1, 1), "ceil": (sp.ceiling, 1, 1), "ceiling": (sp.ceiling, 1, 1), "round": (_round, 1, 2),
    "factorial": (_factorial, 1, 1), "binomial": (_int_args("binomial", sp.binomial), 2, 2),
    "comb": (_int_args("comb", sp.binomial), 2, 2),
    "perm": (_int_args("perm", lambda n, k: sp.factorial(n) / sp.factorial(n - k)), 2, 2),
    "gcd": (_int_args("gcd", lambda *a: sp.igcd(*a) if all(x.is_Integer for x in a) else sp.gcd(*a)), 2, None),
    "lcm": (_int_args("lcm", lambda *a: sp.ilcm(*a) if all(x.is_Integer for x in a) else sp.lcm(*a)), 2, None),
    "min": (sp.Min, 1, None), "max": (sp.Max, 1, None), "mod": (sp.Mod, 2, 2),
    "hypot": (lambda x, y: sp.sqrt(x**2 + y**2), 2, 2),
}

CONSTANTS: dict[str, sp.Basic] = {
    "pi": sp.pi, "π": sp.pi, "e": sp.E, "E": sp.E, "oo": sp.oo, "inf": sp.oo, "deg": sp.pi / 180,
}

_PYTHON_TRAPS = {"import", "eval", "exec", "open", "compile", "globals", "locals", "getattr", "setattr", "lambda",
                 "os", "sys", "subprocess", "builtins", "vars", "dir", "input", "print", "type", "object"}


def _check_name(name: str) -> None:
    if name.startswith("_"):
        raise ExpressionError(f"'{name}' is not allowed: names starting with '_' are never evaluated; "
                              "write a math expression")
    if keyword.iskeyword(name):
        raise ExpressionError(f"'{name}' is not allowed: it is a Python keyword, and this tool reads math, "
                              "not Python (use python_exec for code)")
    if len(name) > MAX_NAME_LENGTH:
        raise ExpressionError(f"name '{name[:MAX_NAME_LENGTH]}…' is longer than {MAX_NAME_LENGTH} characters")


def magnitude_digits(value: sp.Basic) -> float:
    """log10 of the magnitude of an exact rational or float (0 for zero)."""
    if value.is_zero:
        return 0.0
    if value.is_Rational:
        return abs(math.log10(abs(int(value.p)))) + abs(math.log10(int(value.q)))
    return abs(math.log10(abs(float(value))))


def _power(base: sp.Basic, exponent: sp.Basic) -> sp.Basic:
    if base.is_Number and exponent.is_Number and exponent.is_Rational and not base.is_zero:
        produced = abs(float(exponent)) * magnitude_digits(base)
        if produced > MAX_RESULT_DIGITS:
            raise ExpressionError(f"{base}^{exponent} would have about {produced:.0f} digits; the limit is "
                                  f"{MAX_RESULT_DIGITS}: use a smaller exponent or work with logarithms")
    return sp.Pow(base, exponent)


class Parser:
    """One parse of one text. ``symbols`` are names that become sympy symbols (declared unknowns);
    with ``free_symbols=True`` any other plain name becomes a symbol too, otherwise it is an unknown name."""

    def __init__(self, text: str, symbols: Mapping[str, sp.Symbol] | None = None, *, free_symbols: bool = False,
                 allow_equation: bool = False):
        self.tokens = tokenize(text)
        self.index = 0
        self.symbols = dict(symbols or {})
        self.free_symbols = free_symbols
        self.allow_equation = allow_equation
        self.depth = 0

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect(self, text: str) -> None:
        if self.token.text != text:
            found = f"'{self.token.text}'" if self.token.kind != "end" else "the end of the expression"
            raise ExpressionError(f"expected '{text}' at position {self.token.pos}, found {found}")
        self.advance()

    def parse(self) -> sp.Basic:
        left = self.expression()
        if self.token.text == "=":
            if not self.allow_equation:
                raise ExpressionError(f"'=' at position {self.token.pos}: write an expression to evaluate, "
                                      "not an equation (use solve_equation to solve equations)")
            self.advance()
            right = self.expression()
            if self.token.text == "=":
                raise ExpressionError(f"a second '=' at position {self.token.pos}: write one equation per string")
            result: sp.Basic = sp.Eq(left, right, evaluate=False)
        else:
            result = left
        if self.token.kind != "end":
            raise ExpressionError(f"unexpected '{self.token.text}' at position {self.token.pos}")
        return result

    def expression(self) -> sp.Basic:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"the expression is nested more than {MAX_DEPTH} levels deep")
        value = self.term()
        while self.token.text in ("+", "-"):
            op = self.advance().text
            right = self.term()
            value = value + right if op == "+" else value - right
        self.depth -= 1
        return value

    def term(self) -> sp.Basic:
        value = self.unary()
        while True:
            text = self.token.text
            if text in ("*", "/") or (text == "%" and self._starts_operand(self.index + 1)):
                self.advance()
                right = self.unary()
                if text == "*":
                    value = value * right
                elif text == "/":
                    if right.is_zero:
                        raise ExpressionError("division by zero")
                    value = value / right
                else:
                    if right.is_zero:
                        raise ExpressionError("modulo by zero")
                    value = sp.Mod(value, right)
            elif self.token.kind == "name" or self.token.text in ("(", "√"):
                value = value * self.power()  # implicit multiplication: 2x, 2sqrt(3), (a+1)(a-1)
            else:
                return value

    def _starts_operand(self, index: int) -> bool:
        token = self.tokens[index]
        return token.kind in ("num", "name") or token.text in ("(", "√")

    def unary(self) -> sp.Basic:
        if self.token.text == "-":
            self.advance()
            return -self.unary()
        if self.token.text == "+":
            self.advance()
            return self.unary()
        return self.power()

    def power(self) -> sp.Basic:
        base = self.postfix()
        if self.token.text in ("^", "**"):
            self.advance()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise ExpressionError(f"the expression is nested more than {MAX_DEPTH} levels deep")
            exponent = self.unary()  # right-associative, and 2^-1 is allowed
            self.depth -= 1
            return _power(base, exponent)
        return base

    def postfix(self) -> sp.Basic:
        value = self.atom()
        while True:
            text = self.token.text
            if text == "!":
                self.advance()
                value = _factorial(value)
            elif text == "°":
                self.advance()
                value = value * sp.pi / 180
            elif text == "%" and not self._starts_operand(self.index + 1):
                self.advance()
                value = value / 100
            else:
                return value

    def atom(self) -> sp.Basic:
        token = self.advance()
        if token.kind == "num":
            return self.number(token)
        if token.kind == "name":
            return self.name(token)
        if token.text == "(":
            value = self.expression()
            self.expect(")")
            return value
        if token.text == "√":
            return sp.sqrt(self.postfix())
        if token.kind == "end":
            raise ExpressionError("the expression ends too early: an operand is missing at the end")
        raise ExpressionError(f"unexpected '{token.text}' at position {token.pos}: an operand is missing")

    def number(self, token: _Token) -> sp.Basic:
        mantissa = re.split(r"[eE]", token.text)[0]
        if len(mantissa.replace(".", "")) > MAX_LITERAL_DIGITS:
            raise ExpressionError(f"number at position {token.pos} has more than {MAX_LITERAL_DIGITS} digits")
        if re.search(r"[eE]", token.text) and abs(int(re.split(r"[eE]", token.text)[1])) > MAX_RESULT_DIGITS:
            raise ExpressionError(f"exponent of {token.text} is too large")
        return sp.Rational(token.text)  # exact: 0.1 is 1/10, 1e-3 is 1/1000

    def name(self, token: _Token) -> sp.Basic:
        name = token.text
        if self.token.text == "(" and self._is_symbol(name):
            return self._symbol(name)  # x(x+1) is a product; the term loop multiplies
        if self.token.text == "(":
            if name not in FUNCTIONS:
                hint = did_you_mean(name, FUNCTIONS)
                product = f" For a product write {name}*(...)." if name in self.symbols or self.free_symbols else ""
                raise ExpressionError(f"unknown function '{name}'.{hint}{product} Known functions: "
                                      f"{', '.join(sorted(FUNCTIONS))}")
            return self.call(name)
        if name in self.symbols:
            return self.symbols[name]
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in FUNCTIONS:
            raise ExpressionError(f"function '{name}' needs parentheses: {name}(...)")
        if name in _PYTHON_TRAPS:
            raise ExpressionError(f"unknown name '{name}': this tool reads math, not Python "
                                  "(use python_exec for code)")
        if self.free_symbols:
            return self._symbol(name)
        raise ExpressionError(f"unknown name '{name}'.{did_you_mean(name, list(CONSTANTS) + list(FUNCTIONS))} "
                              f"Known constants: pi, e, deg; functions: {', '.join(sorted(FUNCTIONS))}")

    def _is_symbol(self, name: str) -> bool:
        return name in self.symbols or (self.free_symbols and len(name) == 1 and name not in CONSTANTS)

    def _symbol(self, name: str) -> sp.Symbol:
        return self.symbols.setdefault(name, sp.Symbol(name))

    def call(self, name: str) -> sp.Basic:
        fn, fewest, most = FUNCTIONS[name]
        self.expect("(")
        args: list[sp.Basic] = []
        if self.token.text != ")":
            args.append(self.expression())
            while self.token.text == ",":
                self.advance()
                args.append(self.expression())
        self.expect(")")
        if len(args) < fewest or (most is not None and len(args) > most):
            wanted = str(fewest) if fewest == most else (f"{fewest} or more" if most is None else f"{fewest} to {most}")
            raise ExpressionError(f"{name}() takes {wanted} argument(s), got {len(args)}")
        try:
            return sp.sympify(fn(*args))  # some sympy helpers (igcd) return Python ints; never a string here
        except ExpressionError:
            raise
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise ExpressionError(f"{name}{tuple(str(a) for a in args)}: {exc}") from None


def parse(text: str, symbols: Mapping[str, sp.Symbol] | None = None, *, free_symbols: bool = False,
          allow_equation: bool = False) -> sp.Basic:
    """Parse ``text`` into a sympy expression (or an unevaluated ``Eq`` when ``allow_equation``)."""
    return Parser(text, symbols, free_symbols=free_symbols, allow_equation=allow_equation).parse()


def has_decimal_literal(text: str) -> bool:
    return any(t.kind == "num" and ("." in t.text) for t in tokenize(text))
