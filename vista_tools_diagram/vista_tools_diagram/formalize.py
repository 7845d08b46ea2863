"""Diagram plus text to a formal description: the diagram gives the figure (which points are joined, which lie
on a line or a circle, lengths and angles printed on it), the text gives the givens and the goal."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from PIL import Image

from .primitives import Primitives, extract
from .text_parser import parse_text


@dataclass
class Formalization:
    constraints: list[str]
    goal: str
    construction: list[str]
    unparsed: list[str] = field(default_factory=list)
    primitives: Primitives | None = None


def construction_of(prims: Primitives) -> list[str]:
    """The figure as a construction sequence: points (pixel coordinates), then lines and circles, then incidences."""
    steps = [f"Point({name},{x:g},{y:g})" for name, (x, y) in sorted(prims.points.items())]
    return steps + [i for i in prims.incidences if i.startswith(("Line", "Circle"))] + \
        [i for i in prims.incidences if not i.startswith(("Line", "Circle"))]


def diagram_constraints(prims: Primitives, given: list[str]) -> list[str]:
    """Facts read off the diagram, leaving out measures the text already states (the text wins where they differ)."""
    stated = " ".join(given)
    out = list(prims.incidences)
    for (p, q), value in prims.lengths.items():
        if f"LengthOfLine({p},{q})" not in stated and f"LengthOfLine({q},{p})" not in stated:
            out.append(f"Equal(LengthOfLine({p},{q}),{value})")
    for (p, v, q), value in prims.angles.items():
        if f"MeasureOfAngle({p},{v},{q})" not in stated and f"MeasureOfAngle({q},{v},{p})" not in stated:
            out.append(f"Equal(MeasureOfAngle({p},{v},{q}),{value})")
    return out


def formalize(image: Image.Image, text: str) -> Formalization:
    parsed = parse_text(text)
    centres = tuple(dict.fromkeys(re.findall(r"Circle\(([A-Z]'?)\)", " ".join(parsed.constraints + [parsed.goal]))))
    prims = extract(image, centre_names=centres)
    constraints = list(dict.fromkeys(diagram_constraints(prims, parsed.constraints) + parsed.constraints))
    return Formalization(constraints=constraints, goal=parsed.goal, construction=construction_of(prims),
                         unparsed=parsed.unparsed, primitives=prims)
