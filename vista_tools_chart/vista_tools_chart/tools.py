"""The six chart tools: chart_to_table, chart_to_svg, chart_scene_graph, chart_caption, chart_analysis,
chart_model_qa."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any, Literal

from PIL import Image
from pydantic import BaseModel, Field
from vista import ImageName, Tool, ToolArgumentError, ToolArguments, ToolContext, ToolResult

from . import analysis, graphics, models
from .classical import ChartParse, ChartParseError, parse_chart

Backend = Literal["classical", "deplot", "unichart", "chartmoe"]
Cell = str | float | int | None


class _ParseCache:
    """Recent classical parses by image content: an episode often asks several chart tools about one image."""

    def __init__(self, size: int = 32):
        self.size = size
        self._items: OrderedDict[str, ChartParse] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, image: Image.Image) -> ChartParse:
        key = hashlib.sha1(image.tobytes() + repr((image.size, image.mode)).encode()).hexdigest()
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        try:
            parsed = parse_chart(image)
        except ChartParseError as exc:
            raise ToolArgumentError(f"the classical parser cannot read this image as a chart: {exc}. Check that "
                                    "'image' names the chart, or try another backend", argument="image") from exc
        with self._lock:
            self._items[key] = parsed
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return parsed


_cache = _ParseCache()


def classical_parse(image: Image.Image) -> ChartParse:
    return _cache.get(image)


def extract_table(image: Image.Image, backend: str, *, deplot_weights: str | None = None,
                  unichart_weights: str | None = None, endpoint: models.ChatEndpoint | None = None) -> dict:
    """{"header", "rows", "chart_type", "title"} from the chosen backend."""
    if backend == "classical":
        parsed = classical_parse(image)
        return {**parsed.table(), "chart_type": parsed.chart_type, "title": parsed.title}
    if backend == "deplot":
        table = models.deplot_table(image, deplot_weights)
    elif backend == "unichart":
        table = models.unichart_table(image, unichart_weights)
    elif backend == "chartmoe":
        table = models.chartmoe_table(image, endpoint or models.ChatEndpoint())
    else:
        raise ToolArgumentError(f"unknown backend '{backend}'; use classical, deplot, unichart or chartmoe",
                                argument="backend")
    return {"header": table["header"], "rows": table["rows"], "chart_type": "unknown", "title": table["title"]}


def _table_text(table: dict) -> str:
    lines = [" | ".join(str(h) for h in table["header"])]
    lines += [" | ".join("" if c is None else f"{c:g}" if isinstance(c, float) else str(c) for c in row)
              for row in table["rows"]]
    return "\n".join(lines)


class _ModelSettings:
    """Where model-backed tools find their weights and endpoint: constructor arguments, else the environment."""

    def __init__(self, deplot_weights: str | None = None, unichart_weights: str | None = None,
                 endpoint: models.ChatEndpoint | None = None):
        self.deplot_weights = deplot_weights
        self.unichart_weights = unichart_weights
        self.endpoint = endpoint

    def table(self, image: Image.Image, backend: str) -> dict:
        return extract_table(image, backend, deplot_weights=self.deplot_weights,
                             unichart_weights=self.unichart_weights, endpoint=self.endpoint)


# ---------------------------------------------------------------------------------------------------- chart_to_table

class ChartToTableArgs(ToolArguments):
    image: str = ImageName()
    backend: Backend = Field("classical", description=(
        "how to read the chart: 'classical' (OCR + colour segmentation, no model), 'deplot' (DePlot), "
        "'unichart' (UniChart), 'chartmoe' (served ChartMoE)"))


class ChartTableOutput(BaseModel):
    header: list[str]
    rows: list[list[Cell]]
    chart_type: str
    title: str
    backend: str


class ChartToTable(Tool, _ModelSettings):
    name = "chart_to_table"
    family = "chart"
    description = ("Read a chart (bar, horizontal bar, grouped bar, line, pie) into its data table: header "
                   "['label', series...] and one row per category with the numbers read off the chart. Pie values "
                   "are percentages of the whole.")
    Arguments = ChartToTableArgs
    Output = ChartTableOutput
    task_argument = "backend"
    examples = [{"backend": "classical"}]
    blocking = True  # every backend runs a model: OCR for "classical", a local or served model for the others

    def __init__(self, **settings: Any):
        _ModelSettings.__init__(self, **settings)

    def run(self, args: ChartToTableArgs, ctx: ToolContext) -> ToolResult:
        table = self.table(ctx.image(args.image), args.backend)
        text = (f"{table['chart_type']} chart" + (f' "{table["title"]}"' if table["title"] else "") + "\n"
                + _table_text(table))
        return ToolResult(text=text, data={**table, "backend": args.backend})


# ---------------------------------------------------------------------------------------------------- chart_to_svg

class ImageOnlyArgs(ToolArguments):
    image: str = ImageName()


class SvgOutput(BaseModel):
    svg: str
    primitives: list[dict[str, Any]]
    chart_type: str


class ChartToSvg(Tool):
    name = "chart_to_svg"
    family = "chart"
    description = ("Redraw a chart as vector graphics: its bars, lines, markers, pie slices and texts as an SVG "
                   "string and a list of primitives with pixel coordinates, colours, series and values.")
    Arguments = ImageOnlyArgs
    Output = SvgOutput
    examples = [{}]
    blocking = True  # the classical parse runs OCR (RapidOCR) on an image it has not seen

    def run(self, args: ImageOnlyArgs, ctx: ToolContext) -> ToolResult:
        parsed = classical_parse(ctx.image(args.image))
        primitives = graphics.primitives(parsed)
        counts: dict[str, int] = {}
        for p in primitives:
            counts[p["type"]] = counts.get(p["type"], 0) + 1
        summary = ", ".join(f"{n} {kind}" for kind, n in counts.items())
        return ToolResult(text=f"{parsed.chart_type} chart as SVG: {summary}",
                          data={"svg": graphics.to_svg(parsed, primitives), "primitives": primitives,
                                "chart_type": parsed.chart_type})


# ---------------------------------------------------------------------------------------------------- scene graph

class SceneGraphOutput(BaseModel):
    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]


class ChartSceneGraph(Tool):
    name = "chart_scene_graph"
    family = "chart"
    description = ("Describe a chart as a scene graph: nodes for its title, axes, ticks, legend entries, series "
                   "and marks (bars, points, slices); edges for series membership, axis association and "
                   "legend-colour bindings.")
    Arguments = ImageOnlyArgs
    Output = SceneGraphOutput
    examples = [{}]
    blocking = True  # the classical parse runs OCR (RapidOCR) on an image it has not seen

    def run(self, args: ImageOnlyArgs, ctx: ToolContext) -> ToolResult:
        nodes, edges = graphics.scene_graph(classical_parse(ctx.image(args.image)))
        kinds: dict[str, int] = {}
        for n in nodes:
            kinds[n["type"]] = kinds.get(n["type"], 0) + 1
        text = f"{len(nodes)} nodes ({', '.join(f'{v} {k}' for k, v in kinds.items())}), {len(edges)} edges"
        return ToolResult(text=text, data={"nodes": nodes, "edges": edges})


# ---------------------------------------------------------------------------------------------------- caption

class CaptionArgs(ToolArguments):
    image: str = ImageName()
    backend: Literal["classical", "unichart", "chartmoe", "chartassistant", "chartvlm"] = Field(
        "classical", description=(
            "'classical': a description built from the table the classical parser reads; 'unichart': UniChart's "
            "summary; 'chartmoe', 'chartassistant', 'chartvlm': that served model's description"))


class CaptionOutput(BaseModel):
    caption: str
    chart_type: str
    trends: list[dict[str, Any]]
    extrema: list[dict[str, Any]]


CAPTION_REQUEST = "Describe this chart: its type, what it shows, its trends and its extremes."


class ChartCaption(Tool, _ModelSettings):
    name = "chart_caption"
    family = "chart"
    description = "Caption a chart: its type, what each series does (rising, falling, fluctuating) and its extremes."
    Arguments = CaptionArgs
    Output = CaptionOutput
    task_argument = "backend"
    examples = [{"backend": "classical"}]
    blocking = True

    def __init__(self, **settings: Any):
        _ModelSettings.__init__(self, **settings)

    def run(self, args: CaptionArgs, ctx: ToolContext) -> ToolResult:
        image = ctx.image(args.image)
        served = args.backend in ("chartassistant", "chartvlm")
        if served:
            # served caption models write only the caption; trends and extremes come from the classical table when
            # it can be read, and are left empty (chart type "unknown") when it cannot
            try:
                table = self.table(image, "classical")
                _, trends, extrema = analysis.describe(table, table["chart_type"], table["title"])
                chart_type = table["chart_type"]
            except ToolArgumentError:
                trends, extrema, chart_type = [], [], "unknown"
            caption = models.ChatEndpoint(served=args.backend).ask(
                self.name, image, CAPTION_REQUEST)
            return ToolResult(text=caption, data={"caption": caption, "chart_type": chart_type, "trends": trends,
                                                  "extrema": extrema})
        table = self.table(image, args.backend)
        caption, trends, extrema = analysis.describe(table, table["chart_type"], table["title"])
        if args.backend == "unichart":
            caption = models.unichart_generate(image, models.UNICHART_SUMMARY_PROMPT, self.unichart_weights)
        elif args.backend == "chartmoe":
            caption = (self.endpoint or models.ChatEndpoint()).ask(
                self.name, image, CAPTION_REQUEST)
        return ToolResult(text=caption, data={"caption": caption, "chart_type": table["chart_type"],
                                              "trends": trends, "extrema": extrema})


# ---------------------------------------------------------------------------------------------------- analysis

class AnalysisArgs(ToolArguments):
    image: str = ImageName()
    operation: Literal[analysis.OPERATIONS] = Field(description=(
        "lookup (1 label), difference (a - b), ratio (a / b), sum, average (of the labels, or all when none), "
        "argmax, argmin (which label is largest/smallest), compare (which of 2 labels is larger)"))
    labels: list[str] = Field(default_factory=list, description="category labels as the chart writes them")
    series: str | None = Field(None, description="the series (legend entry) to use; needed when there are several")
    backend: Backend = Field("classical", description="how to read the chart's table (see chart_to_table)")


class AnalysisOutput(BaseModel):
    value: float | str
    explanation: str


class ChartAnalysis(Tool, _ModelSettings):
    name = "chart_analysis"
    family = "chart"
    description = ("Compute exactly over a chart's table: lookup, difference, ratio, sum, average, argmax, argmin "
                   "or compare of the values at the given labels of one series.")
    Arguments = AnalysisArgs
    Output = AnalysisOutput
    task_argument = "operation"
    examples = [{"operation": "argmax"}]
    blocking = True  # reads the table as chart_to_table does (OCR or a model)

    def __init__(self, **settings: Any):
        _ModelSettings.__init__(self, **settings)

    def run(self, args: AnalysisArgs, ctx: ToolContext) -> ToolResult:
        table = self.table(ctx.image(args.image), args.backend)
        value, explanation = analysis.analyse(table, args.operation, args.labels, args.series)
        return ToolResult(text=explanation, data={"value": value, "explanation": explanation})


# ---------------------------------------------------------------------------------------------------- model QA

class ModelQaArgs(ToolArguments):
    image: str = ImageName()
    question: str = Field("", max_length=2000, description="the question about the chart (needed for 'answer')")
    mode: Literal["answer", "describe"] = Field("answer", description=(
        "'answer': answer the question; 'describe': describe the chart (the question, if any, says what to stress)"))


class ModelQaOutput(BaseModel):
    answer: str


class ChartModelQa(Tool):
    name = "chart_model_qa"
    family = "chart"
    description = "Ask a served chart model (ChartMoE) a question about a chart, or ask it to describe the chart."
    Arguments = ModelQaArgs
    Output = ModelQaOutput
    task_argument = "mode"
    examples = [{"question": "What is the largest value?", "mode": "answer"}]
    blocking = True

    def __init__(self, endpoint: models.ChatEndpoint | None = None):
        self.endpoint = endpoint

    def run(self, args: ModelQaArgs, ctx: ToolContext) -> ToolResult:
        image = ctx.image(args.image)
        if args.mode == "answer" and not args.question.strip():
            raise ToolArgumentError("mode 'answer' needs a question; pass 'question', or use mode 'describe'",
                                    argument="question")
        prompt = (args.question.strip() + "\nAnswer briefly." if args.mode == "answer" else
                  "Describe this chart in detail: its type, data, trends and extremes. " + args.question.strip())
        answer = (self.endpoint or models.ChatEndpoint()).ask(self.name, image, prompt.strip())
        return ToolResult(text=answer, data={"answer": answer})


def all_tools() -> list[Tool]:
    return [ChartToTable(), ChartToSvg(), ChartSceneGraph(), ChartCaption(), ChartAnalysis(), ChartModelQa()]
