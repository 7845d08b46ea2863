"""Exact computations over a chart's table (lookup, difference, ratio, sum, average, argmax, argmin, compare) and
the offline caption built from it (chart type, trends, extrema)."""

from __future__ import annotations

from vista import ToolArgumentError
from vista.errors import did_you_mean

from .tables import normalise_label

OPERATIONS = ("lookup", "difference", "ratio", "sum", "average", "argmax", "argmin", "compare")
_LABEL_COUNTS = {"lookup": (1, 1), "difference": (2, 2), "ratio": (2, 2), "compare": (2, 2)}


def _fmt(value: float) -> str:
    return f"{value:.6g}"


class TableView:
    """A chart table addressed by row label and series name, with E4 errors naming what the chart does have."""

    def __init__(self, table: dict):
        self.header = [str(h) for h in table["header"]]
        self.rows = table["rows"]
        self.series_names = self.header[1:]
        self.labels = [str(r[0]) for r in self.rows]

    def series_index(self, series: str | None) -> int:
        if not self.series_names:
            raise ToolArgumentError("the chart's table has no series", argument="series")
        if series is None:
            if len(self.series_names) == 1:
                return 0
            raise ToolArgumentError(f"this chart has {len(self.series_names)} series; say which with 'series': "
                                    f"{', '.join(self.series_names)}", argument="series")
        wanted = normalise_label(series)
        for i, name in enumerate(self.series_names):
            if normalise_label(name) == wanted:
                return i
        raise ToolArgumentError(f"series '{series}' is not in the chart.{did_you_mean(series, self.series_names)} "
                                f"The chart's series are: {', '.join(self.series_names)}", argument="series")

    def row_index(self, label: str) -> int:
        wanted = normalise_label(label)
        for i, name in enumerate(self.labels):
            if normalise_label(name) == wanted:
                return i
        raise ToolArgumentError(f"label '{label}' is not in the chart.{did_you_mean(label, self.labels)} "
                                f"The chart's labels are: {', '.join(self.labels)}", argument="labels")

    def value(self, label: str, column: int) -> float:
        row = self.rows[self.row_index(label)]
        value = row[column + 1] if column + 1 < len(row) else None
        if not isinstance(value, (int, float)):
            raise ToolArgumentError(f"the chart shows no number for '{label}' in series "
                                    f"'{self.series_names[column]}' (read: {value!r})", argument="labels")
        return float(value)


def analyse(table: dict, operation: str, labels: list[str], series: str | None) -> tuple[float | str, str]:
    """Run one operation; returns the value and an explanation that shows the numbers used."""
    view = TableView(table)
    low, high = _LABEL_COUNTS.get(operation, (0, None))
    if len(labels) < low or (high is not None and len(labels) > high):
        wanted = f"exactly {low}" if low == high else f"at least {low}"
        raise ToolArgumentError(f"operation '{operation}' needs {wanted} label(s), got {len(labels)}; the chart's "
                                f"labels are: {', '.join(view.labels)}", argument="labels")
    column = view.series_index(series)
    name = view.series_names[column]
    chosen = labels or [label for label, row in zip(view.labels, view.rows)
                        if len(row) > column + 1 and isinstance(row[column + 1], (int, float))]
    if not chosen:
        raise ToolArgumentError(f"series '{name}' has no numbers to compute with", argument="series")
    values = {label: view.value(label, column) for label in chosen}
    shown = ", ".join(f"{label} = {_fmt(v)}" for label, v in values.items())
    if operation == "lookup":
        (label, value), = values.items()
        return value, f"{name} at {label} is {_fmt(value)}"
    if operation == "difference":
        (a, va), (b, vb) = values.items()
        return va - vb, f"{name}: {a} - {b} = {_fmt(va)} - {_fmt(vb)} = {_fmt(va - vb)}"
    if operation == "ratio":
        (a, va), (b, vb) = values.items()
        if vb == 0:
            raise ToolArgumentError(f"the ratio {a} / {b} is undefined: {name} at {b} is 0", argument="labels")
        return va / vb, f"{name}: {a} / {b} = {_fmt(va)} / {_fmt(vb)} = {_fmt(va / vb)}"
    if operation == "sum":
        total = sum(values.values())
        return total, f"sum of {name} over {shown} = {_fmt(total)}"
    if operation == "average":
        mean = sum(values.values()) / len(values)
        return mean, f"average of {name} over {shown} = {_fmt(mean)}"
    if operation in ("argmax", "argmin"):
        pick = max if operation == "argmax" else min
        label = pick(values, key=values.get)
        return label, f"{name}: {shown}; the {'largest' if operation == 'argmax' else 'smallest'} is {label}"
    if operation == "compare":
        (a, va), (b, vb) = values.items()
        if va == vb:
            return "equal", f"{name}: {a} = {_fmt(va)} equals {b} = {_fmt(vb)}"
        bigger = a if va > vb else b
        return bigger, f"{name}: {a} = {_fmt(va)}, {b} = {_fmt(vb)}; {bigger} is larger by {_fmt(abs(va - vb))}"
    raise ToolArgumentError(f"unknown operation '{operation}'; use one of {', '.join(OPERATIONS)}",
                            argument="operation")


def trends(table: dict) -> list[dict]:
    """Per series: the direction over the categories in order, and the change from first to last."""
    view = TableView(table)
    found = []
    for column, name in enumerate(view.series_names):
        points = [(label, row[column + 1]) for label, row in zip(view.labels, view.rows)
                  if len(row) > column + 1 and isinstance(row[column + 1], (int, float))]
        if len(points) < 2:
            continue
        diffs = [b - a for (_, a), (_, b) in zip(points, points[1:])]
        if all(d == 0 for d in diffs):
            direction = "flat"
        elif all(d >= 0 for d in diffs):
            direction = "increasing"
        elif all(d <= 0 for d in diffs):
            direction = "decreasing"
        else:
            direction = "fluctuating"
        found.append({"series": name, "direction": direction, "from": points[0][0], "to": points[-1][0],
                      "start": points[0][1], "end": points[-1][1], "change": points[-1][1] - points[0][1]})
    return found


def extrema(table: dict) -> list[dict]:
    """Per series: the label and value of its maximum and minimum."""
    view = TableView(table)
    found = []
    for column, name in enumerate(view.series_names):
        points = [(label, row[column + 1]) for label, row in zip(view.labels, view.rows)
                  if len(row) > column + 1 and isinstance(row[column + 1], (int, float))]
        if points:
            high = max(points, key=lambda p: p[1])
            low = min(points, key=lambda p: p[1])
            found.append({"series": name, "max_label": high[0], "max": high[1], "min_label": low[0], "min": low[1]})
    return found


_TYPE_WORDS = {"bar": "vertical bar chart", "horizontal_bar": "horizontal bar chart", "line": "line chart",
               "pie": "pie chart"}


def describe(table: dict, chart_type: str, title: str) -> tuple[str, list[dict], list[dict]]:
    """A caption from the table alone: what the chart is, how each series moves, where its extremes are."""
    view = TableView(table)
    kind = _TYPE_WORDS.get(chart_type, "chart")
    about = f' titled "{title}"' if title else ""
    series = f" with {len(view.series_names)} series ({', '.join(view.series_names)})" \
        if len(view.series_names) > 1 else ""
    sentences = [f"A {kind}{about}{series} over {len(view.labels)} categories"
                 f"{' (' + ', '.join(view.labels) + ')' if view.labels else ''}."]
    found_trends, found_extrema = trends(table), extrema(table)
    if chart_type != "pie":
        for t in found_trends:
            sentences.append(f"{t['series']} is {t['direction']}, going from {_fmt(t['start'])} at {t['from']} to "
                             f"{_fmt(t['end'])} at {t['to']}.")
    for e in found_extrema:
        unit = "%" if chart_type == "pie" else ""
        sentences.append(f"{e['series']} peaks at {e['max_label']} ({_fmt(e['max'])}{unit}) and is lowest at "
                         f"{e['min_label']} ({_fmt(e['min'])}{unit}).")
    return " ".join(sentences), found_trends, found_extrema

