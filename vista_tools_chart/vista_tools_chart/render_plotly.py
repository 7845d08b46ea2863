"""Draw a chart of known data with Plotly (plotly.js in headless Chromium, offline): a third, independent source of
charts for measuring chart readers, with its own ground truth.

Plotly lays out axes, ticks, legends, value labels and pie text by its own rules (automatic margins, legends beside
or above the plot, percentages printed inside wedges, labels inside or above bars), and the browser draws its text.
Its templates are split like matplotlib's style sheets in `render` and Vega-Lite's themes in `render_vega`:
development templates (`TEMPLATES_DEV`) may be looked at while improving a reader; measure-only templates
(`TEMPLATES_MEASURE`) are only ever measured on. Both halves hold light templates with and without gridlines; the
development half holds the one dark template.

    figure, truth = plotly_chart("bar", "dev", random.Random(0))
    with PlotlyBrowser() as browser:
        image = browser.render(figure)

Needs `plotly` (its wheel carries plotly.js), `playwright` and a Chromium on the machine (Debian's `chromium`;
Playwright drives it and downloads nothing): the `plotly` extra of vista-tools-chart.
"""

from __future__ import annotations

import base64
import io
import json
import random

from PIL import Image

from .browser import HeadlessChromium
from .render import TITLES, check_choice, other_library_data, truth_table

KINDS = ("bar", "horizontal_bar", "grouped_bar", "line", "pie")
TEMPLATES_DEV = ("plotly", "plotly_dark", "ggplot2", "simple_white", "xgridoff")
TEMPLATES_MEASURE = ("plotly_white", "seaborn", "plotly_white+presentation", "gridon", "ygridoff", "none")
SPLITS = {"dev": TEMPLATES_DEV, "measure": TEMPLATES_MEASURE}
# families Chromium finds on the machine, and Plotly's own default, which falls back to the browser's sans-serif
FONTS = ('"Open Sans", verdana, arial, sans-serif', "DejaVu Sans", "Liberation Sans", "Liberation Serif",
         "DejaVu Serif")
# beside the plot (Plotly's default), above it in a row, or below the x axis in a row
LEGEND_PLACES = {"right": {}, "top": {"orientation": "h", "x": 0, "y": 1.02, "xanchor": "left", "yanchor": "bottom"},
                 "bottom": {"orientation": "h", "x": 0, "y": -0.18, "xanchor": "left", "yanchor": "top"}}


def plotly_chart(kind: str, split: str, rng: random.Random) -> tuple[dict, dict]:
    """A Plotly figure (plain JSON: data, layout, and the image's width, height and scale under "image") of `kind`
    with random data, in a template of `split`, and its ground truth in the shared table shape (pie values as
    percentages of the whole). Font, size, scale, legend place, value labels on bars, bar colours, markers and pie
    text are drawn from `rng` too."""
    check_choice("chart kind", kind, KINDS)
    check_choice("split", split, SPLITS)
    import plotly.graph_objects as go

    categories, series = other_library_data(kind, rng)
    names = list(series)
    n_series = len(names)
    template = rng.choice(SPLITS[split])
    # years as strings would still be read by Plotly as numbers on a date-like axis: make every category axis one
    category_axis = {"type": "category", "tickangle": 0, "title": {"text": rng.choice(["", "Category", "Item"])}}
    value_axis = {"title": {"text": rng.choice(["", "Value", "Units"])}}
    text = kind in ("bar", "horizontal_bar", "grouped_bar") and rng.random() < 0.4
    text_place = rng.choice(["outside", "inside", "auto"])
    traces = []
    for name in names:
        values = series[name]
        if kind in ("bar", "horizontal_bar", "grouped_bar"):
            horizontal = kind == "horizontal_bar"
            trace = go.Bar(name=name, x=values if horizontal else categories, y=categories if horizontal else values,
                           orientation="h" if horizontal else "v")
            if text:
                trace.update(text=values, textposition=text_place)
            if kind != "grouped_bar" and rng.random() < 0.3:
                trace.update(marker_color=[_colour(template, i) for i in range(len(categories))])
            traces.append(trace)
        elif kind == "line":
            traces.append(go.Scatter(name=name, x=categories, y=values,
                                     mode=rng.choice(["lines", "lines+markers"]), line_width=rng.choice([2, 2, 3])))
        else:
            traces.append(go.Pie(labels=categories, values=values, sort=rng.random() < 0.5,
                                 direction=rng.choice(["clockwise", "counterclockwise"]),
                                 textinfo=rng.choice(["percent", "percent", "none", "label+percent"]),
                                 marker_line_width=rng.choice([0, 1, 2])))
    width, height = rng.choice([(480, 340), (560, 380), (640, 420), (700, 460)])
    legend_place = rng.choice(sorted(LEGEND_PLACES))
    if legend_place == "bottom" and (kind == "pie" or n_series > 1):
        # Plotly sets a legend below the plot by the plot's height, not under the x axis's title: it would overprint
        # the title, so a chart with its legend there has none
        (value_axis if kind == "horizontal_bar" else category_axis)["title"] = {"text": ""}
    layout = go.Layout(
        template=template, title={"text": rng.choice(TITLES)},
        font={"family": rng.choice(FONTS), "size": rng.choice([11, 12, 13, 14])},
        showlegend=kind == "pie" or n_series > 1, legend=LEGEND_PLACES[legend_place],
        xaxis=value_axis if kind == "horizontal_bar" else category_axis,
        yaxis=category_axis if kind == "horizontal_bar" else value_axis,
        barmode="group", bargap=rng.choice([0.15, 0.2, 0.3]))
    if kind == "pie":
        width = height = min(width, height) + 60
    figure = json.loads(go.Figure(data=traces, layout=layout).to_json())
    figure["image"] = {"width": width, "height": height, "scale": rng.choice([1.0, 1.25, 1.5]),
                       "template": template}
    truth = truth_table(kind, categories, series)
    return figure, truth


def plotly_variety(figure: dict, kind: str, rng: random.Random) -> dict:
    """`figure` restyled with settings a user's Plotly chart plausibly has and `plotly_chart` leaves at the
    template's defaults, drawn from `rng`: fonts and sizes of the tick labels, their colour and angle, tick marks,
    axis lines, gridlines and zero lines on or off, number formats, a value axis on the far side, bar gaps, corner
    radii and edges, colour sequences, legend places, fonts and frames, page tints, line widths and marker symbols,
    donuts, pulled wedges and pie text places, plot sizes and scales. For development templates only
    (`plotly_charts(..., variety=True)`): a wider development split, since the plain one reads in full and no longer
    shows what a reader misses. None of these settings copies a measure-only template's."""
    import plotly.colors

    figure = json.loads(json.dumps(figure))
    layout, image = figure["layout"], figure["image"]
    dark = image["template"] == "plotly_dark"  # its light text stays on its own dark page
    layout["font"] = {"family": rng.choice([*FONTS, "DejaVu Sans Mono", "Liberation Mono", "Liberation Sans Narrow"]),
                      "size": rng.choice([10, 12, 14, 16])}
    layout["title"] = layout.get("title", {}) | {"x": rng.choice([0.02, 0.5, 0.95]),
                                                 "xanchor": rng.choice(["left", "center", "right"])}
    category, value = ("yaxis", "xaxis") if kind == "horizontal_bar" else ("xaxis", "yaxis")
    for name in ("xaxis", "yaxis"):
        axis = layout.setdefault(name, {})
        axis |= {"tickfont": {"size": rng.choice([8, 9, 10, 12, 14])}, "ticks": rng.choice(["", "outside", "inside"]),
                 "ticklen": rng.choice([3, 5, 8]), "showline": rng.random() < 0.5, "showgrid": rng.random() < 0.6,
                 "zeroline": rng.random() < 0.5}
        if axis["showline"]:
            axis["linecolor"] = rng.choice(["#444444", "#999999"] if not dark else ["#dddddd", "#888888"])
        if rng.random() < 0.3:
            axis["griddash"] = rng.choice(["dot", "dash"])
        if rng.random() < 0.3 and not dark:
            axis["tickfont"]["color"] = rng.choice(["#555555", "#333366", "#7a3b00", "#888888"])
    if kind != "pie":
        layout[category]["tickangle"] = 0 if kind == "horizontal_bar" else rng.choice([0, 0, -30, -45, 45, -90])
        layout[value]["tickformat"] = rng.choice(["", ",", "~s", ".1f", "$,"])
        if rng.random() < 0.33:
            layout[value]["side"] = "top" if kind == "horizontal_bar" else "right"
    layout["colorway"] = list(getattr(plotly.colors.qualitative, rng.choice(
        ["D3", "G10", "T10", "Set1", "Dark2", "Bold", "Vivid", "Safe", "Pastel1", "Antique"])))
    place = rng.choice(sorted(LEGEND_PLACES))
    layout["legend"] = LEGEND_PLACES[place] | {"font": {"size": rng.choice([9, 11, 13])},
                                               "itemsizing": rng.choice(["trace", "constant"])}
    if place == "bottom":  # under the x axis: no axis title for it to overprint (as in `plotly_chart`)
        for name in ("xaxis", "yaxis"):
            layout[name]["title"] = {"text": ""}
    if rng.random() < 0.3:
        layout["legend"] |= {"bordercolor": "#888888", "borderwidth": 1}
    if rng.random() < 0.3 and not dark:
        layout["paper_bgcolor"] = rng.choice(["#fbf7ee", "#eef3f8", "#f2f2f2"])
    if kind in ("bar", "horizontal_bar", "grouped_bar"):
        layout["bargap"] = rng.choice([0.05, 0.1, 0.3, 0.5])
        layout["barcornerradius"] = rng.choice([0, 0, 3, 6])
        edge = rng.choice([0, 0, 1, 2])
        for trace in figure["data"]:
            trace.setdefault("marker", {})["line"] = {"width": edge, "color": rng.choice(["#ffffff", "#333333"])}
    elif kind == "line":
        width, symbol, size = rng.choice([1, 2, 3, 4]), rng.choice(["circle", "square", "diamond"]), rng.choice([5, 8])
        for trace in figure["data"]:
            trace["line"] = trace.get("line", {}) | {"width": width}
            trace["marker"] = trace.get("marker", {}) | {"symbol": symbol, "size": size}
    else:
        for trace in figure["data"]:
            trace["hole"] = rng.choice([0, 0, 0.3, 0.5])
            trace["textposition"] = rng.choice(["inside", "outside", "auto"])
            if rng.random() < 0.3:
                trace["pull"] = [rng.choice([0, 0, 0.05, 0.1]) for _ in trace["labels"]]
    width, height = rng.choice([(360, 300), (480, 340), (640, 420), (800, 400)])
    image |= {"width": width, "height": width if kind == "pie" else height, "scale": rng.choice([1.0, 1.25, 1.5, 2.0])}
    return figure


def _colour(template: str, index: int) -> str:
    import plotly.io as pio

    colourway = pio.templates[template].layout.colorway or ("#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a",
                                                            "#19d3f3", "#ff6692")
    return colourway[index % len(colourway)]


def plotly_charts(split: str, n: int, seed: int = 0, kinds: tuple[str, ...] = KINDS, variety: bool = False):
    """`n` charts of each kind in `split`'s templates: (kind, template, figure, truth), the same for the same seed.
    With `variety` (development templates only), each restyled by `plotly_variety` from a draw of its own (the plain
    charts' draws stay as they are)."""
    if variety and split != "dev":
        raise ValueError("variety widens the development split only: measure-only charts stay as drawn")
    for kind in kinds:
        for i in range(n):
            figure, truth = plotly_chart(kind, split, random.Random(f"plotly-{seed}-{split}-{kind}-{i}"))
            if variety:
                figure = plotly_variety(figure, kind, random.Random(f"plotly-variety-{seed}-{kind}-{i}"))
            yield kind, figure["image"]["template"], figure, truth


class PlotlyBrowser:
    """Headless Chromium (`browser.HeadlessChromium`) holding one page with plotly.js loaded, started once, that
    draws Plotly figures to RGB images with plotly.js's own `toImage` (the figure at its width and height, times its
    scale). A context manager."""

    def __init__(self, executable: str | None = None):
        self._chromium = HeadlessChromium(executable, needs="pip install 'vista-tools-chart[plotly]'")

    def __enter__(self) -> PlotlyBrowser:
        try:
            from plotly.offline import get_plotlyjs
        except ImportError as exc:
            raise ImportError("drawing Plotly charts needs plotly and playwright (and a chromium on the machine): "
                              "pip install 'vista-tools-chart[plotly]'") from exc
        self._chromium.__enter__()
        self._page = self._chromium.page(1.0, scripts=[get_plotlyjs()], body="<div id='chart'></div>")
        return self

    def render(self, figure: dict) -> Image.Image:
        """`figure` (from `plotly_chart`) drawn to an RGB image on its template's page colour."""
        image = figure["image"]
        url = self._page.evaluate(
            "([figure, options]) => Plotly.toImage({data: figure.data, layout: figure.layout},"
            " {format: 'png', ...options})",
            [{"data": figure["data"], "layout": figure["layout"]},
             {"width": image["width"], "height": image["height"], "scale": image["scale"]}])
        png = base64.b64decode(url.split(",", 1)[1])
        return Image.open(io.BytesIO(png)).convert("RGB")

    def __exit__(self, *exc) -> None:
        self._chromium.__exit__(*exc)
