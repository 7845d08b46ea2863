"""What the chart parser finds: scales, series, marks, legend entries, and the parse whose `table()` is the
chart's data."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ocr import Text

CHART_TYPES = ("bar", "horizontal_bar", "line", "pie", "unknown")


@dataclass
class Scale:
    """A linear map value = slope * pixel + intercept along one image direction ('x' or 'y'); `far` when its tick
    labels stand on the plot's far side (a y axis on the right, an x axis on top)."""

    direction: str
    slope: float
    intercept: float
    ticks: list[Text]
    far: bool = False

    def value(self, pixel: float) -> float:
        return self.slope * pixel + self.intercept

    def pixel(self, value: float) -> float:
        return (value - self.intercept) / self.slope

    @property
    def step(self) -> float:
        values = sorted({t.number for t in self.ticks})
        diffs = [b - a for a, b in zip(values, values[1:]) if b > a]
        return min(diffs) if diffs else abs(self.slope) * 50


@dataclass
class Series:
    name: str
    color: tuple[int, int, int]


@dataclass
class Mark:
    """One data mark: a bar, a line vertex or a pie slice, with the category it belongs to and its value."""

    kind: str  # "bar" | "point" | "slice"
    series: int
    label: str
    value: float
    box: tuple[float, float, float, float]  # bar extent, point neighbourhood, or slice's disk box
    angles: tuple[float, float] | None = None  # for slices: start and end, degrees counter-clockwise from 3 o'clock
    color: tuple[int, int, int] = (0, 0, 0)


@dataclass
class LegendEntry:
    label: str
    color_index: int
    swatch: tuple[float, float, float, float]
    text: Text


@dataclass
class ChartParse:
    """Everything the parser found; `table()` is the chart's data in the shared table shape."""

    width: int
    height: int
    chart_type: str
    title: str
    x_label: str
    y_label: str
    texts: list[Text]
    series: list[Series]
    marks: list[Mark]
    categories: list[str]
    legend: list[LegendEntry]
    scale: Scale | None
    polylines: dict[int, list[tuple[float, float]]] = field(default_factory=dict)
    pie: tuple[float, float, float] | None = None  # centre x, centre y, radius

    def table(self) -> dict:
        header = ["label"] + [s.name for s in self.series]
        cells = {(m.label, m.series): m.value for m in self.marks}
        rows = [[label] + [cells.get((label, i)) for i in range(len(self.series))] for label in self.categories]
        return {"header": header, "rows": rows}


class ChartParseError(ValueError):
    """The image does not look like a chart the classical parser can read; the message says what was missing."""
