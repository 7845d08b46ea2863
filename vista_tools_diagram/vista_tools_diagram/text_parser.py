"""Geometry problem text to CDL: the givens as constraints and what is asked as the goal.

A rule-based parser of the language of geometry problems ("In triangle ABC, AB = 5, ∠ABC = 90°. Find AC.",
"PA is tangent to ⊙O at A", "D lies on BC", "AB ∥ CD"), in the spirit of Inter-GPS's text parser. Lines that
are already formal CDL are passed through verbatim; a ``Value(...)``/``Find(...)`` line names the goal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import cdl
from .equations import SUPPORTED_PREDICATES

PT = r"[A-Z]'?"
SEG = rf"(?<![A-Za-z'])(?:{PT}){{2}}(?![A-Za-z'])"
TRI = rf"(?<![A-Za-z'])(?:{PT}){{3}}(?![A-Za-z'])"
ANG = rf"(?<![A-Za-z'])(?:(?:{PT}){{3}}|{PT}|\d+)(?![A-Za-z'\d])"
ONE = rf"(?<![A-Za-z'])({PT})(?![A-Za-z'])"
ANGLE_WORD = r"(?:(?i:m\s*)?∠|(?i:the\s+)?(?i:measure\s+of\s+)?(?i:angle)\s+)"
# A value: numbers, one-letter variables, √ and π joined by operators; the lookahead ends it at units and words.
VALUE = (r"(?P<v>(?:[-(√π\d.]|(?<![A-Za-z])[a-z](?![a-z]))(?:[\s\d.()+\-*/^×√π]|(?<![a-z])[a-z](?![a-z]))*?)"
         r"(?=\s*(?:°|(?i:degrees?)\b|(?i:cm|mm|m|units?|inches|in|ft)\b|,|;|\?|\.(?:\s|$)|$|\s+(?i:and|then|"
         r"what|find|if|so|while|with|respectively)\b))")
IS = r"\s*(?:=|(?i:is|measures|equals|is equal to|has length|of length)\s*(?:=\s*)?)\s*"
SIDE = r"(?i:(?:side|segment|line)\s+)?"
GOAL_WORDS = r"(?i:find|what\s+is|what's|calculate|determine|compute|solve\s+for|how\s+long\s+is|evaluate)"


@dataclass
class ParsedText:
    constraints: list[str] = field(default_factory=list)
    goal: str = ""
    unparsed: list[str] = field(default_factory=list)  # statements seen but not understood, for the report

    def add(self, constraint: str) -> None:
        if constraint not in self.constraints:
            self.constraints.append(constraint)


def _normalise(text: str) -> str:
    replacements = {"△": "triangle ", "▵": "triangle ", "⊙": "circle ", "⊥": " perpendicular to ",
                    "∥": " parallel to ", "//": " parallel to ", "≅": " congruent to ", "∼": " similar to ",
                    "~": " similar to ", "−": "-", "\u00a0": " ", "angle of": "angle", "＝": "="}
    for old, new in replacements.items():
        text = text.replace(old, new)
    # LaTeX as benchmarks write it: $\overline{AB}$, m \angle ABC, 40^\circ, \odot O, \triangle ABC
    text = re.sub(r"\\(?:overline|overrightarrow|widehat|mathrm|text)\s*\{([^}]*)\}", r"\1", text)
    text = re.sub(r"\^\s*\{?\s*\\circ\s*\}?|\\circ", "°", text)
    for command, word in (("angle", "∠"), ("triangle", "triangle "), ("odot", "circle "), ("parallel", " parallel to "),
                          ("perp", " perpendicular to "), ("cong", " congruent to "), ("sim", " similar to "),
                          ("pi", "π"), ("sqrt", "√")):
        text = re.sub(rf"\\{command}(?![a-z])\s*", word, text)
    text = text.replace("$", "").replace("{", "(").replace("}", ")")
    return re.sub(r"[ \t]+", " ", text)


def _value(raw: str) -> str | None:
    """The value as a CDL expression, or None when the captured text is not arithmetic."""
    raw = raw.strip().rstrip("+-*/×.").strip()
    if not raw:
        return None
    try:
        node = cdl.parse(raw)
    except cdl.CDLSyntaxError:
        return None
    return None if isinstance(node, cdl.Call) else str(node).replace(" ", "")


def _pts(run: str) -> list[str]:
    return re.findall(PT, run)


def _line(run: str) -> str:
    return f"Line({','.join(_pts(run))})"


class _Parser:
    def __init__(self, text: str):
        self.text = _normalise(text)
        self.out = ParsedText()
        self.triangles: list[list[str]] = []
        self.circles: list[str] = []

    # -- names ---------------------------------------------------------------------------------------------------
    def angle(self, name: str) -> str | None:
        pts = _pts(name)
        if len(pts) == 3:
            return f"MeasureOfAngle({','.join(pts)})"
        if len(pts) == 1:
            for tri in self.triangles:
                if pts[0] in tri:
                    i = tri.index(pts[0])
                    return f"MeasureOfAngle({tri[i - 1]},{pts[0]},{tri[(i + 1) % 3]})"
            return f"MeasureOfAngle({pts[0]})"
        return None  # numbered angles (∠1) name a region of the diagram that text alone cannot resolve

    def circle(self, name: str | None = None) -> str:
        if name:
            if name not in self.circles:
                self.circles.append(name)
                self.out.add(f"Circle({name})")
            return name
        if not self.circles:
            self.circles.append("O")
            self.out.add("Circle(O)")
        return self.circles[-1]

    # -- givens -----------------------------------------------------------------------------------------------------
    def parse(self) -> ParsedText:
        text = self.formal(self.text)
        if not self.out.goal:
            goal = re.search(r"(?i:goal)\s*:\s*([A-Z][A-Za-z]*\(.*?\)|[a-z])\s*(?:\.|$)", text)
            if goal and (len(goal.group(1)) == 1 or cdl.is_cdl(goal.group(1))):
                self.out.goal = str(cdl.parse(goal.group(1)))
        if text.strip():
            self.shapes(text)
            self.incidences(text)
            self.measures(text)
            if not self.out.goal:
                self.goal(text)
        return self.out

    def formal(self, text: str) -> str:
        """Take out the CDL written in the text (a formal description, whole lines of CDL) and return the prose."""
        prose, last = [], 0
        for start, end in cdl.find_calls(text):
            call = text[start:end]
            name = call.split("(", 1)[0]
            if not cdl.is_cdl(call) or name not in SUPPORTED_PREDICATES + ("Value", "Find"):
                continue
            node = cdl.parse(call)
            if name in ("Value", "Find"):
                self.out.goal = str(node.args[0]) if node.args else self.out.goal
            else:
                self.out.add(str(node))
            prose.append(text[last:start])
            last = end
        prose.append(text[last:])
        return " ".join(prose)

    def shapes(self, t: str) -> None:
        for m in re.finditer(rf"(?i:(right|isosceles|equilateral)\s+)?(?i:triangle)\s*({TRI})", t):
            pts = _pts(m.group(2))
            if pts not in self.triangles:
                self.triangles.append(pts)
            kind = (m.group(1) or "").lower()
            args = ",".join(pts)
            self.out.add(f"Triangle({args})")
            if kind == "equilateral":
                self.out.add(f"EquilateralTriangle({args})")
            elif kind == "isosceles" and not re.search(
                    rf"{'|'.join(a + b for a in pts for b in pts if a != b)}\s*=\s*(?:{SEG})", t):
                self.out.add(f"IsoscelesTriangle({args})")
        for m in re.finditer(rf"(?i:circle)\s*(?:(?i:with\s+)?(?i:cent(?:er|re)|centered\s+at|centred\s+at)\s*)?"
                             rf"{ONE}", t):
            self.circle(m.group(1))
        for m in re.finditer(rf"(?i:cent(?:er|re)d?\s+(?:at\s+)?(?:point\s+)?){ONE}", t):
            self.circle(m.group(1))
        for m in re.finditer(rf"(?i:(?:the\s+)?(?:quadrilateral|polygon))\s*((?:{PT}){{4,}})(?![A-Za-z])", t):
            self.out.unparsed.append(f"polygon {m.group(1)}: only triangles and circles are formalised")

    def incidences(self, t: str) -> None:
        plural = rf"({PT}(?:\s*,\s*{PT})*(?:\s*,?\s*(?i:and)\s*{PT}))"
        on = (r"\s+(?i:(?:is|are|lies|lie)\s+)?(?i:(?:a\s+)?(?:points?\s+)?)?(?i:on)\s+"
              r"(?i:(?:the\s+)?(?:side|segment|line)s?\s+)?")
        for m in re.finditer(rf"(?<![A-Za-z']){plural}{on}({SEG})\s*(?i:and)\s*({SEG})\s*,?\s*(?i:respectively)", t):
            points = _pts(m.group(1))
            for p, seg in zip(points, (m.group(2), m.group(3))):
                self.on_line(p, seg)
        for m in re.finditer(rf"(?i:points?\s+)?{ONE}{on}({SEG})(?!\s*(?i:and)\s*{SEG}\s*,?\s*(?i:respectively))", t):
            self.on_line(m.group(1), m.group(2))
        for m in re.finditer(rf"({SEG})\s*(?i:and)\s*({SEG})\s*(?i:intersect|meet|cross)(?i:s)?\s+"
                             rf"(?i:at)\s+(?i:point\s+)?{ONE}", t):
            for seg in (m.group(1), m.group(2)):
                self.on_line(m.group(3), seg)
        for m in re.finditer(rf"{ONE}\s+(?i:is\s+|lies\s+)?(?i:between)\s+{ONE}\s+(?i:and)\s+{ONE}", t):
            self.on_line(m.group(1), m.group(2) + m.group(3))
        for m in re.finditer(rf"{ONE}\s+(?i:is\s+)?(?i:the\s+)?(?i:midpoint\s+of)\s+{SIDE}({SEG})", t):
            self.out.add(f"IsMidpointOf({m.group(1)},{_line(m.group(2))})")
        for m in re.finditer(rf"({SEG})\s*(?i:is\s+|are\s+)?(?i:perpendicular\s+to)\s*{SIDE}({SEG})", t):
            self.out.add(f"Perpendicular({_line(m.group(1))},{_line(m.group(2))})")
        for m in re.finditer(rf"({SEG})\s*(?i:is\s+)?(?i:the\s+)?(?i:altitude|height)\s+"
                             rf"(?i:(?:from\s+{PT}\s+)?(?:to|on)\s+){SIDE}({SEG})", t):
            foot = [p for p in _pts(m.group(1)) if p not in _pts(m.group(2))]
            self.out.add(f"Perpendicular({_line(m.group(1))},{_line(m.group(2))})")
            if len(foot) == 1:
                shared = [p for p in _pts(m.group(1)) if p != foot[0]]
                base = _pts(m.group(2))
                if shared and shared[0] not in base:
                    self.on_line(shared[0], m.group(2))
        for m in re.finditer(rf"({SEG})\s*(?i:is\s+|are\s+)?(?i:parallel\s+to)\s*{SIDE}({SEG})", t):
            self.out.add(f"Parallel({_line(m.group(1))},{_line(m.group(2))})")
        for m in re.finditer(rf"(?i:triangle\s+)({TRI})\s*(?i:is\s+)?(similar|congruent)\s+(?i:to\s+)?"
                             rf"(?i:triangle\s+)?({TRI})", t):
            kind = "Similar" if m.group(2).lower() == "similar" else "Congruent"
            self.out.add(f"{kind}(Triangle({','.join(_pts(m.group(1)))}),Triangle({','.join(_pts(m.group(3)))}))")
        for m in re.finditer(rf"({SEG})\s*(?i:bisects|is\s+the\s+(?:angle\s+)?bisector\s+of)\s*{ANGLE_WORD}?"
                             rf"\s*({TRI})", t):
            self.out.add(f"BisectsAngle({_line(m.group(1))},Angle({','.join(_pts(m.group(2)))}))")
        circle_ref = rf"(?i:(?:the\s+)?circle)\s*(?:{ONE})?"
        for m in re.finditer(rf"(?<![A-Za-z']){plural}\s+(?i:(?:are|lie|all lie)\s+on)\s+{circle_ref}", t):
            o = self.circle(m.group(2))
            for p in _pts(m.group(1)):
                self.out.add(f"PointLiesOnCircle({p},Circle({o}))")
        for m in re.finditer(rf"(?i:points?\s+)?{ONE}\s+(?i:(?:is|lies)\s+on)\s+{circle_ref}", t):
            o = self.circle(m.group(2))
            self.out.add(f"PointLiesOnCircle({m.group(1)},Circle({o}))")
        for m in re.finditer(rf"(?i:triangle\s+)?({TRI})\s+(?i:is\s+)?(?i:inscribed\s+in)\s+{circle_ref}", t):
            o = self.circle(m.group(2))
            for p in _pts(m.group(1)):
                self.out.add(f"PointLiesOnCircle({p},Circle({o}))")
        for m in re.finditer(rf"({SEG})\s+(?i:is\s+)?(?i:a\s+|the\s+)?(?i:diameter)(?:\s+(?i:of)\s+{circle_ref})?",
                             t):
            o = self.circle(m.group(2))
            self.out.add(f"IsDiameterOf({_line(m.group(1))},Circle({o}))")
        for m in re.finditer(rf"({SEG})\s+(?i:is\s+)?(?i:a\s+|the\s+)?(?i:tangent)\s*(?i:line\s+)?(?i:to)\s+"
                             rf"{circle_ref}"
                             rf"(?:\s*(?i:at)\s+(?:(?i:point)\s+)?{ONE})?", t):
            o = self.circle(m.group(2))
            if m.group(3):
                self.out.add(f"PointLiesOnCircle({m.group(3)},Circle({o}))")
            self.out.add(f"Tangent({_line(m.group(1))},Circle({o}))")

    def on_line(self, p: str, seg: str) -> None:
        a, b = _pts(seg)
        if p not in (a, b):
            self.out.add(f"PointLiesOnLine({p},Line({a},{b}))")

    def measures(self, t: str) -> None:
        goal_start = self.goal_start(t)
        givens = t[:goal_start] if goal_start is not None else t
        for m in re.finditer(rf"{ANGLE_WORD}\s*({ANG})\s*(?i:is\s+)?(?i:a\s+)?(?i:right\s+angle)", givens):
            if (angle := self.angle(m.group(1))):
                self.out.add(f"Equal({angle},90)")
        for m in re.finditer(rf"(?i:right\s+angle\s+at)\s+{ONE}", givens):
            if (angle := self.angle(m.group(1))) and "(" in angle and angle.count(",") == 2:
                self.out.add(f"Equal({angle},90)")
        for m in re.finditer(rf"{ANGLE_WORD}\s*({ANG})\s*=\s*{ANGLE_WORD}\s*({ANG})", givens):
            first, second = self.angle(m.group(1)), self.angle(m.group(2))
            if first and second:
                self.out.add(f"Equal({first},{second})")
        for m in re.finditer(rf"{ANGLE_WORD}\s*({ANG}){IS}{VALUE}", givens):
            value, angle = _value(m.group("v")), self.angle(m.group(1))
            if value and angle:
                self.out.add(f"Equal({angle},{value})")
            elif value:
                self.out.unparsed.append(f"∠{m.group(1)} = {value}: numbered angles need the diagram")
        length = rf"(?i:(?:the\s+)?(?:length\s+of\s+)?(?:side\s+|segment\s+|line\s+)?)({SEG})"
        for m in re.finditer(rf"(?<!∠)(?<!(?i:angle) ){length}\s*=\s*({SEG})(?:\s*=\s*({SEG}))?", givens):
            segs = [s for s in m.groups() if s]
            for s1, s2 in zip(segs, segs[1:]):
                self.out.add(f"Equal(LengthOfLine({','.join(_pts(s1))}),LengthOfLine({','.join(_pts(s2))}))")
        for m in re.finditer(rf"(?<!∠)(?<![A-Za-z'])(?<!(?i:angle) ){length}{IS}{VALUE}", givens):
            if (value := _value(m.group("v"))):
                self.out.add(f"Equal(LengthOfLine({','.join(_pts(m.group(1)))}),{value})")
        radius = rf"(?i:(?:the\s+)?(radius|diameter|circumference|area)(?:\s+of\s+(?:the\s+)?circle\s*(?:{ONE})?)?)"
        for m in re.finditer(rf"{radius}(?:\s*(?i:r|d)\b)?{IS}{VALUE}", givens):
            kind, o, value = m.group(1).lower(), self.circle(m.group(2)), _value(m.group("v"))
            function = {"radius": "RadiusOfCircle", "diameter": "DiameterOfCircle",
                        "circumference": "PerimeterOfCircle", "area": "AreaOfCircle"}[kind]
            if value:
                self.out.add(f"Equal({function}({o}),{value})")
        for m in re.finditer(rf"(?i:circle)\s*(?:{ONE})?\s*(?i:with|of|has(?:\s+a)?)\s+(?i:radius)\s*{VALUE}", givens):
            if (value := _value(m.group("v"))):
                self.out.add(f"Equal(RadiusOfCircle({self.circle(m.group(1))}),{value})")

    # -- the goal -----------------------------------------------------------------------------------------------
    def goal_start(self, t: str) -> int | None:
        matches = list(re.finditer(GOAL_WORDS, t))
        asked = list(re.finditer(r"(?:=|\bis)\s*(?:\?|_{2,}|\(\s*\))", t))
        if matches:
            return matches[-1].start()
        if asked:
            sentence = max(t.rfind(".", 0, asked[-1].start()), t.rfind(",", 0, asked[-1].start()))
            return sentence + 1
        return None

    def goal(self, t: str) -> None:
        start = self.goal_start(t)
        if start is None:
            return
        asked = t[start:]
        circle_name = rf"(?:(?i:the\s+)?(?i:circle)\s*(?:{ONE})?)?"
        patterns = [
            (rf"(?i:area)\s+(?i:of)\s+(?i:(?:the\s+)?triangle)\s*({TRI})",
             lambda m: f"AreaOfTriangle({','.join(_pts(m.group(1)))})"),
            (rf"(?i:perimeter)\s+(?i:of)\s+(?i:(?:the\s+)?triangle)\s*({TRI})",
             lambda m: f"PerimeterOfTriangle({','.join(_pts(m.group(1)))})"),
            (rf"(?i:area)\s*(?i:of)?\s*{circle_name}",
             lambda m: f"AreaOfCircle({self.circle(m.group(1))})" if self.circles or m.group(1) else None),
            (rf"(?i:circumference|perimeter)\s*(?i:of)?\s*{circle_name}",
             lambda m: f"PerimeterOfCircle({self.circle(m.group(1))})" if self.circles or m.group(1) else None),
            (rf"(?i:radius)\s*(?i:of)?\s*{circle_name}", lambda m: f"RadiusOfCircle({self.circle(m.group(1))})"),
            (rf"(?i:diameter)\s*(?i:of)?\s*{circle_name}",
             lambda m: f"DiameterOfCircle({self.circle(m.group(1))})"),
            (rf"{ANGLE_WORD}\s*({ANG})", lambda m: self.angle(m.group(1))),
            (rf"(?<![A-Za-z'])(?i:(?:the\s+)?(?:length\s+of\s+)?(?:side\s+|segment\s+)?)({SEG})",
             lambda m: f"LengthOfLine({','.join(_pts(m.group(1)))})"),
            (r"(?<![A-Za-z])([a-z])(?![A-Za-z])", lambda m: m.group(1) if m.group(1) not in "a" else None),
        ]
        for pattern, build in patterns:
            m = re.search(pattern, asked)
            if m and (goal := build(m)):
                self.out.goal = goal
                return


def parse_text(text: str) -> ParsedText:
    """Constraints and goal of a geometry problem written in words, formal CDL, or a mix of both."""
    return _Parser(text).parse()
