"""The five diagram tools: text to CDL, diagram primitives, diagram+text formalisation, the symbolic solver, and the
DiagramFormalizer model backend. sympy, OpenCV, rapidocr and torch are imported on first use, so that loading the
plugin stays fast."""

from __future__ import annotations

import functools
import os

from pydantic import BaseModel, Field
from vista import (
    ClassifiedError,
    ErrorClass,
    ImageName,
    Tool,
    ToolArgumentError,
    ToolArguments,
    ToolContext,
    ToolResult,
)

FAMILY = "diagram"
EXAMPLE_TEXT = "In triangle ABC, angle ABC = 90°, AB = 6 and BC = 8. Find AC."


class TextArgs(ToolArguments):
    text: str = Field(min_length=1, max_length=4000,
                      description="the geometry problem in words (e.g. 'In triangle ABC, AB = 5, angle B = 90°. "
                                  "Find AC.'); lines already in CDL are kept as they are")


class CDLOutput(BaseModel):
    constraints: list[str]
    goal: str
    unparsed: list[str] = []


class GeometryTextToCDL(Tool):
    name = "geometry_text_to_cdl"
    family = FAMILY
    description = ("Turn a geometry problem's text into formal CDL constraints (Equal(LengthOfLine(A,B),5), "
                   "PointLiesOnLine(D,Line(B,C)), Parallel(...), PointLiesOnCircle(...)) and the goal (what is "
                   "asked, e.g. LengthOfLine(A,C)), ready for geometry_solve.")
    Arguments = TextArgs
    Output = CDLOutput
    examples = [{"text": EXAMPLE_TEXT}]

    def run(self, args: TextArgs, ctx: ToolContext) -> ToolResult:
        from .text_parser import parse_text

        parsed = parse_text(args.text)
        if not parsed.constraints and not parsed.goal:
            raise ToolArgumentError(
                "no geometry givens or question were recognised in the text; state them as in 'In triangle ABC, "
                "AB = 5 and angle ABC = 90°. Find AC.' or pass CDL such as Equal(LengthOfLine(A,B),5)",
                argument="text")
        lines = [f"constraints: {'; '.join(parsed.constraints) or 'none'}",
                 f"goal: {parsed.goal or 'not found (name what is asked: Find AC / find angle ABC)'}"]
        if parsed.unparsed:
            lines.append(f"not formalised: {'; '.join(parsed.unparsed)}")
        return ToolResult(text="\n".join(lines), data=CDLOutput(constraints=parsed.constraints, goal=parsed.goal,
                                                                unparsed=parsed.unparsed).model_dump())


class ImageArgs(ToolArguments):
    image: str = ImageName()


class PointOut(BaseModel):
    label: str
    x: float
    y: float


class LineOut(BaseModel):
    points: list[str] = Field(description="labelled points on the drawn line, in order along it")
    endpoints: list[float] = Field(min_length=4, max_length=4)


class CircleOut(BaseModel):
    center: list[float] = Field(min_length=2, max_length=2)
    radius: float
    center_label: str | None
    points: list[str]


class LabelOut(BaseModel):
    text: str
    bbox: list[float] = Field(min_length=4, max_length=4)
    score: float
    kind: str


class PrimitivesOutput(BaseModel):
    points: list[PointOut]
    lines: list[LineOut]
    circles: list[CircleOut]
    labels: list[LabelOut]
    incidences: list[str]
    segments: list[list[float]] = Field(description="every straight stroke found, labelled or not: [x0,y0,x1,y1]")


def primitives_data(prims) -> dict:
    return PrimitivesOutput(
        points=[PointOut(label=n, x=x, y=y) for n, (x, y) in sorted(prims.points.items())],
        lines=[LineOut(points=line, endpoints=[*prims.points[line[0]], *prims.points[line[-1]]])
               for line in prims.lines],
        circles=[CircleOut(center=[round(cx, 1), round(cy, 1)], radius=round(r, 1),
                           center_label=prims.circle_centres.get(i), points=prims.circle_points.get(i, []))
                 for i, (cx, cy, r) in enumerate(prims.circles)],
        labels=[LabelOut(**label) for label in prims.labels],
        incidences=prims.incidences,
        segments=[[round(float(v), 1) for v in s] for s in prims.segments],
    ).model_dump()


class DiagramPrimitives(Tool):
    name = "diagram_primitives"
    family = FAMILY
    description = ("Read a geometry diagram: labelled points (with pixel coordinates), drawn lines and the points on "
                   "them, circles with their centre and points, OCR'd labels, and the incidences as CDL "
                   "(Line(A,B), PointLiesOnLine(D,Line(B,C)), PointLiesOnCircle(A,Circle(O))).")
    Arguments = ImageArgs
    Output = PrimitivesOutput
    examples = [{}]
    blocking = True  # OCR (RapidOCR) of the labels

    def run(self, args: ImageArgs, ctx: ToolContext) -> ToolResult:
        from .primitives import extract

        prims = extract(ctx.image(args.image))
        if not prims.points:
            text = (f"no labelled points found ({len(prims.segments)} strokes, {len(prims.circles)} circles); the "
                    "image may not be a labelled geometry diagram")
        else:
            text = (f"points: {', '.join(sorted(prims.points))}; lines: "
                    f"{', '.join(''.join(line) for line in prims.lines) or 'none'}; circles: {len(prims.circles)}\n"
                    f"incidences: {'; '.join(prims.incidences) or 'none'}")
        return ToolResult(text=text, data=primitives_data(prims))


class FormalizeArgs(ToolArguments):
    image: str = ImageName()
    text: str = Field("", max_length=4000, description="the problem text, which gives the givens and the question")


class FormalizeOutput(BaseModel):
    constraints: list[str]
    goal: str
    construction: list[str] = Field(description="the figure step by step: Point(name,x,y), lines, circles, "
                                                "incidences")
    unparsed: list[str] = []


class GeometryFormalize(Tool):
    name = "geometry_formalize"
    family = FAMILY
    description = ("Formalise a geometry problem from its diagram and text: the diagram's structure (lines, points "
                   "on lines and circles, numbers printed on it) plus the text's givens become CDL constraints, with "
                   "the goal and the construction sequence; pass constraints and goal to geometry_solve.")
    Arguments = FormalizeArgs
    Output = FormalizeOutput
    examples = [{"text": EXAMPLE_TEXT}]
    blocking = True  # reads the diagram as diagram_primitives does (OCR)

    def run(self, args: FormalizeArgs, ctx: ToolContext) -> ToolResult:
        from .formalize import formalize

        result = formalize(ctx.image(args.image), args.text)
        text = (f"constraints: {'; '.join(result.constraints) or 'none'}\n"
                f"goal: {result.goal or 'not found in the text'}\nconstruction: {'; '.join(result.construction)}")
        return ToolResult(text=text, data=FormalizeOutput(constraints=result.constraints, goal=result.goal,
                                                          construction=result.construction,
                                                          unparsed=result.unparsed).model_dump())


class SolveArgs(ToolArguments):
    constraints: list[str] = Field(min_length=1, max_length=200,
                                   description="CDL predicates, one per item: Triangle(A,B,C), "
                                               "Equal(LengthOfLine(A,B),5), Equal(MeasureOfAngle(A,B,C),90), "
                                               "PointLiesOnLine(D,Line(B,C)), Parallel(Line(A,B),Line(C,D)), "
                                               "PointLiesOnCircle(A,Circle(O)), ... (angles in degrees)")
    goal: str = Field(min_length=1, max_length=500,
                      description="the quantity asked, as a CDL expression: LengthOfLine(A,C), "
                                  "MeasureOfAngle(A,B,C), AreaOfTriangle(A,B,C), AreaOfCircle(O), x, ...")


class SolveOutput(BaseModel):
    value: float
    theorems: list[str]
    steps: list[str]
    exact: str


class GeometrySolve(Tool):
    name = "geometry_solve"
    family = FAMILY
    description = ("Solve a formalised geometry problem symbolically (Inter-GPS style): applies angle sums, "
                   "supplementary and vertical angles, parallel lines, isosceles and similar triangles, Pythagoras, "
                   "the laws of sines and cosines, circle theorems and area formulas until the goal is known; "
                   "returns the value (angles in degrees) and the theorems used.")
    Arguments = SolveArgs
    Output = SolveOutput
    examples = [{"constraints": ["Triangle(A,B,C)", "Equal(LengthOfLine(A,B),6)", "Equal(LengthOfLine(B,C),8)",
                                 "Equal(MeasureOfAngle(A,B,C),90)"], "goal": "LengthOfLine(A,C)"}]
    blocking = True  # a sympy solver, in this process

    def run(self, args: SolveArgs, ctx: ToolContext) -> ToolResult:
        from .equations import SUPPORTED_FUNCTIONS, SUPPORTED_PREDICATES
        from .solver import GeometryError, solve

        try:
            solution = solve(args.constraints, args.goal)
        except GeometryError as exc:
            raise ToolArgumentError(f"{exc}. Predicates: {', '.join(SUPPORTED_PREDICATES)}; functions: "
                                    f"{', '.join(SUPPORTED_FUNCTIONS)}", argument=exc.argument) from None
        text = (f"{args.goal} = {solution.exact} ≈ {solution.value:.6g}\n"
                f"theorems: {', '.join(solution.theorems) or 'the givens alone'}\n" + "\n".join(solution.steps))
        return ToolResult(text=text, data=SolveOutput(value=solution.value, theorems=solution.theorems,
                                                      steps=solution.steps, exact=solution.exact).model_dump())


class FormalizerModelOutput(FormalizeOutput):
    raw: str = Field(description="the model's own text")
    rejected: list[str] = Field(description="predicate-like pieces of the output that are not valid CDL")


class DiagramFormalizerModel(Tool):
    name = "diagram_formalizer_model"
    family = FAMILY
    description = ("Formalise a geometry diagram with the DiagramFormalizer vision-language model: CDL constraints "
                   "of the figure, the goal from the text, and the construction; needs the model's weights.")
    Arguments = FormalizeArgs
    Output = FormalizerModelOutput
    examples = [{"text": EXAMPLE_TEXT}]
    blocking = True

    def __init__(self, weights: str | os.PathLike | None = None, max_new_tokens: int = 384):
        self.weights = weights
        self.max_new_tokens = max_new_tokens

    @functools.cached_property
    def backend(self):
        from .model import DiagramFormalizer

        return DiagramFormalizer(self.name, self.weights, self.max_new_tokens)

    def run(self, args: FormalizeArgs, ctx: ToolContext) -> ToolResult:
        from .text_parser import parse_text

        result = self.backend.formalize(ctx.image(args.image), args.text)
        goal = result.goal or (parse_text(args.text).goal if args.text else "")
        if not result.constraints:
            # The model broke its contract (no usable CDL): the policy's call was fine, so this is E5, not E4.
            error = ClassifiedError(error_class=ErrorClass.E5, code="no_cdl_in_model_output", tool=self.name,
                                    message=f"tool '{self.name}': the DiagramFormalizer wrote no valid CDL "
                                            f"predicate ({len(result.rejected)} malformed); its output began: "
                                            f"{result.raw[:200]!r}. Use geometry_formalize instead.")
            return ToolResult.failure(self.name, error)
        text = (f"constraints: {'; '.join(result.constraints)}\ngoal: {goal or 'not found'}"
                + (f"\nrejected: {'; '.join(result.rejected)}" if result.rejected else ""))
        return ToolResult(text=text, data=FormalizerModelOutput(
            constraints=result.constraints, goal=goal, construction=result.construction, raw=result.raw,
            rejected=result.rejected).model_dump())


TOOLS = (GeometryTextToCDL, DiagramPrimitives, GeometryFormalize, GeometrySolve, DiagramFormalizerModel)
