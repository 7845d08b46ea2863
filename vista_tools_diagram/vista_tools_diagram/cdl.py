"""The condition description language (CDL): parsing and printing of predicates such as
``Equal(LengthOfLine(A,B),5)`` or ``PointLiesOnLine(D,Line(B,C))``.

Accepts the comma form (Inter-GPS: ``Line(A,B)``), the concatenated form (FormalGeo: ``LengthOfLine(AB)``),
Inter-GPS wrappers (``LengthOf(Line(A,B))``, ``MeasureOf(Angle(A,B,C))``) and infix arithmetic inside values
(``Equal(LengthOfLine(A,B),2*x+1)``). Everything is parsed into a small tree that the solver interprets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union

import sympy


class CDLSyntaxError(ValueError):
    """A CDL string that does not parse; the message says where."""


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]

    def __str__(self) -> str:
        return f"{self.name}({','.join(map(str, self.args))})"


@dataclass(frozen=True)
class Name:
    """An identifier: a point (``A``, ``B1``, ``A'``), a run of points (``ABC``) or a variable (``x``)."""

    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Num:
    value: sympy.Expr

    def __str__(self) -> str:
        return str(self.value)


@dataclass(frozen=True)
class BinOp:
    op: str
    left: Node
    right: Node

    def __str__(self) -> str:
        mine = _PRECEDENCE[self.op]
        left = _wrap(self.left) if _precedence(self.left) < mine else str(self.left)
        right = _wrap(self.right) if _precedence(self.right) < mine + (self.op in "-/^") else str(self.right)
        return f"{left}{self.op}{right}"


@dataclass(frozen=True)
class Neg:
    operand: Node

    def __str__(self) -> str:
        return f"-{_wrap(self.operand)}"


Node = Union[Call, Name, Num, BinOp, Neg]


_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "^": 3}


def _precedence(node: Node) -> int:
    return _PRECEDENCE[node.op] if isinstance(node, BinOp) else 2 if isinstance(node, Neg) else 4


def _wrap(node: Node) -> str:
    return f"({node})" if isinstance(node, (BinOp, Neg)) else str(node)


_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?|\.\d+)|([A-Za-z_][A-Za-z0-9_']*|[α-ωΑ-Ω][0-9]*)|(\*\*|[-+*/^(),√π]))")
_POINT = re.compile(r"[A-Z][0-9]*'*")


def _tokens(text: str) -> list[tuple[str, str]]:
    text = text.replace("°", "").replace("×", "*").replace("·", "*").replace("−", "-")
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise CDLSyntaxError(f"unexpected character {text[pos]!r} at position {pos} in {text!r}")
        number, name, op = match.groups()
        kind, value = ("num", number) if number else ("name", name) if name else ("op", op)
        # implicit multiplication as people write it: 2x, 3(x+1), 2√3, 2π
        if out and ((out[-1][0] == "num" and (kind == "name" or value in ("(", "√", "π")))
                    or (out[-1][1] == ")" and (kind in ("num", "name") or value == "("))):
            out.append(("op", "*"))
        out.append((kind, value))
        pos = match.end()
    return out


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            found = token[1] if token else "end of text"
            raise CDLSyntaxError(f"expected {value or 'a term'} but found {found!r} in {self.text!r}")
        self.i += 1
        return token

    def expression(self) -> Node:
        node = self.term()
        while (token := self.peek()) and token[1] in ("+", "-"):
            self.take()
            node = BinOp(token[1], node, self.term())
        return node

    def term(self) -> Node:
        node = self.unary()
        while (token := self.peek()) and token[1] in ("*", "/"):
            self.take()
            node = BinOp(token[1], node, self.unary())
        return node

    def unary(self) -> Node:
        token = self.peek()
        if token and token[1] == "-":
            self.take()
            return Neg(self.unary())
        if token and token[1] == "+":
            self.take()
            return self.unary()
        return self.power()

    def power(self) -> Node:
        node = self.atom()
        if (token := self.peek()) and token[1] in ("^", "**"):
            self.take()
            return BinOp("^", node, self.unary())
        return node

    def atom(self) -> Node:
        kind, value = self.take()
        if kind == "num":
            return Num(sympy.nsimplify(value, rational=True))
        if value == "(":
            node = self.expression()
            self.take(")")
            return node
        if value == "√":
            return Call("SqrtOf", (self.atom(),))
        if value == "π":
            return Name("pi")
        if kind == "name":
            if (token := self.peek()) and token[1] == "(":
                self.take("(")
                args: list[Node] = []
                if (token := self.peek()) and token[1] != ")":
                    args.append(self.expression())
                    while (token := self.peek()) and token[1] == ",":
                        self.take()
                        args.append(self.expression())
                self.take(")")
                return Call(value, tuple(args))
            return Name(value)
        raise CDLSyntaxError(f"unexpected {value!r} in {self.text!r}")


def parse(text: str) -> Node:
    """Parse one CDL statement or expression."""
    parser = _Parser(text.strip())
    if not parser.tokens:
        raise CDLSyntaxError("empty CDL statement")
    node = parser.expression()
    if parser.peek() is not None:
        raise CDLSyntaxError(f"unexpected {parser.peek()[1]!r} after {node} in {text!r}")
    return node


def split_points(node: Node) -> list[str]:
    """Point names from a ``Name`` that is one point (``A``) or a run of points (``ABC``, ``A1B1``)."""
    if not isinstance(node, Name):
        raise CDLSyntaxError(f"expected point names, got {node}")
    points = _POINT.findall(node.text)
    if not points or "".join(points) != node.text:
        raise CDLSyntaxError(f"{node.text!r} is not a point name (points are capital letters, e.g. A, B1, A')")
    return points


def is_cdl(text: str) -> bool:
    """Whether a line of text is a CDL statement (a predicate call that parses), not prose."""
    stripped = text.strip().rstrip(".;")
    if not re.match(r"^[A-Z][A-Za-z]+\(.*\)$", stripped):
        return False
    try:
        return isinstance(parse(stripped), Call)
    except CDLSyntaxError:
        return False


def find_calls(text: str) -> list[tuple[int, int]]:
    """Spans of predicate-like calls in free text: a capitalised name, '(' and the matching ')'. An unclosed call
    is given as the span of its name and '(' only, so that complete calls inside it are still found."""
    spans, i = [], 0
    while i < len(text):
        if text[i].isupper() and (i == 0 or not text[i - 1].isalnum()):
            j = i
            while j < len(text) and text[j].isalpha():
                j += 1
            if j < len(text) and text[j] == "(" and j > i + 1:
                depth, k = 0, j
                while k < len(text):
                    depth += {"(": 1, ")": -1}.get(text[k], 0)
                    if depth == 0:
                        break
                    k += 1
                spans.append((i, k + 1 if k < len(text) else j + 1))
                i = k + 1 if k < len(text) else j + 1
                continue
        i += 1
    return spans
