"""Draw a chart of known data with Bokeh (BokehJS in headless Chromium, offline): a fourth, independent source of
charts for measuring chart readers, with its own ground truth.

Bokeh lays out axes, minor ticks, legends (inside the plot, beside it, above or below it in a row), toolbars and
labels by its own rules, draws pies as wedges or annular wedges on hidden axes, and the browser draws its text on a
canvas. Its styles are split like matplotlib's style sheets in `render`, Vega-Lite's themes in `render_vega` and
Plotly's templates in `render_plotly`: development styles (`THEMES_DEV` with `STYLES["dev"]`) may be looked at while
improving a reader; measure-only styles (`THEMES_MEASURE` with `STYLES["measure"]`) are only ever measured on. The
themes are Bokeh's built-in ones; besides them each split has its own fonts, category-label angles, gridlines, bar
widths and toolbar places. Both halves hold a light theme with and without gridlines and a dark one.

    chart, truth = bokeh_chart("bar", "dev", random.Random(0))
    with BokehBrowser() as browser:
        image = browser.render(chart)

Needs `bokeh` (its wheel carries BokehJS, loaded inline: no network), `playwright` and a Chromium on the machine
(Debian's `chromium`; Playwright drives it and downloads nothing): the `bokeh` extra of vista-tools-chart.
"""

from __future__ import annotations

import io
import math
import random

from PIL import Image

from .browser import HeadlessChromium
from .render import TITLES, check_choice, other_library_data, truth_table

KINDS = ("bar", "horizontal_bar", "grouped_bar", "line", "pie")
THEMES_DEV = ("default", "caliber", "dark_minimal", "contrast")
THEMES_MEASURE = ("default", "light_minimal", "night_sky")
SPLITS = {"dev": THEMES_DEV, "measure": THEMES_MEASURE}
# what else each split draws from ("theme": the theme's own); the measure-only half shares no font, label angle, bar
# width or toolbar place with the development half beyond the theme's own and level labels
STYLES = {
    "dev": {"font": ("theme", "DejaVu Sans", "Liberation Serif"), "angle": (0.0, 0.0, 0.8),
            "grid": ("theme", "none", "value"), "bar_width": (0.9, 0.7, 0.5), "toolbar": (None, None, "right"),
            "palette": ("Category10", "Category20c"), "legend": ("top_right", "right", "below")},
    "measure": {"font": ("theme", "Liberation Sans", "DejaVu Serif"), "angle": (0.0, 0.0, 0.5),
                "grid": ("theme", "value", "dashed"), "bar_width": (0.8, 0.6), "toolbar": (None, None, "above"),
                "palette": ("Colorblind", "Bokeh"), "legend": ("top_left", "right", "above")},
}


def bokeh_chart(kind: str, split: str, rng: random.Random) -> tuple[dict, dict]:
    """A Bokeh chart (`{"item": its standalone JSON, "image": {theme, width, height, scale}}`) of `kind` with random
    data, in a style of `split`, and its ground truth in the shared table shape (pie values as percentages of the
    whole). Theme, font, size, scale, label angle, gridlines, legend place, bar width, value labels, colours,
    markers, pie direction and donut hole are drawn from `rng` too."""
    check_choice("chart kind", kind, KINDS)
    check_choice("split", split, SPLITS)
    from bokeh import palettes
    from bokeh.embed import json_item
    from bokeh.models import ColumnDataSource, FactorRange, LabelSet, Range1d
    from bokeh.plotting import figure
    from bokeh.themes import built_in_themes
    from bokeh.transform import dodge

    categories, series = other_library_data(kind, rng)
    names = list(series)
    style = STYLES[split]
    theme = rng.choice(SPLITS[split])
    font = rng.choice(style["font"])
    width, height = rng.choice([(480, 340), (560, 380), (640, 420)])
    if kind == "pie":
        width = height = min(width, height) + 40
    palette_name = rng.choice(style["palette"])
    palette = {"Category10": palettes.Category10[10], "Category20c": palettes.Category20c[20],
               "Colorblind": palettes.Colorblind[8], "Bokeh": palettes.Bokeh[8]}[palette_name]
    legend_place = rng.choice(style["legend"])
    horizontal = kind == "horizontal_bar"
    bars = kind in ("bar", "horizontal_bar", "grouped_bar")
    factors = list(reversed(categories)) if horizontal and rng.random() < 0.7 else list(categories)
    options: dict = {"width": width, "height": height, "title": rng.choice(TITLES),
                     "toolbar_location": rng.choice(style["toolbar"])}
    if horizontal:
        options |= {"y_range": FactorRange(*factors), "x_axis_label": rng.choice(["", "Value", "Units"]),
                    "y_axis_label": rng.choice(["", "Category"])}
    elif kind != "pie":
        options |= {"x_range": FactorRange(*factors), "x_axis_label": rng.choice(["", "Category", "Item"]),
                    "y_axis_label": rng.choice(["", "Value", "Units"])}
    else:
        inside = legend_place in ("top_right", "top_left")
        options |= {"x_range": (-0.5, 1.0) if inside else (-0.5, 0.5), "y_range": (-0.5, 0.5), "match_aspect": True}
        if inside:
            options["width"] = int(height * 1.5)
    if options["toolbar_location"] is None:
        options["tools"] = ""
    p = figure(**options)
    largest = max(max(v) for v in series.values())
    smallest = min(min(v) for v in series.values())
    value_labels = bars and rng.random() < 0.3
    bar_width = rng.choice(style["bar_width"])
    single = rng.random() < 0.6
    renderers = []
    if kind in ("bar", "horizontal_bar"):
        values = series[names[0]]
        colours = [palette[0]] * len(values) if single else [palette[i % len(palette)] for i in range(len(values))]
        source = ColumnDataSource({"label": categories, "value": values, "colour": colours,
                                   "text": [f"{v:g}" for v in values]})
        if horizontal:
            p.hbar(y="label", right="value", height=bar_width, color="colour", source=source)
        else:
            p.vbar(x="label", top="value", width=bar_width, color="colour", source=source)
        if value_labels:
            place = {"x": "value", "y": "label", "x_offset": 3, "y_offset": -6} if horizontal else \
                {"x": "label", "y": "value", "y_offset": 3, "text_align": "center"}
            p.add_layout(LabelSet(text="text", source=source, text_font_size="11px", **place))
    elif kind == "grouped_bar":
        step = bar_width / len(names)
        data = {"label": categories} | {f"s{k}": series[name] for k, name in enumerate(names)}
        source = ColumnDataSource(data)
        for k, name in enumerate(names):
            offset = -bar_width / 2 + step * (k + 0.5)
            renderers.append(p.vbar(x=dodge("label", offset, range=p.x_range), top=f"s{k}", width=step * 0.92,
                                    color=palette[k % len(palette)], source=source, legend_label=name))
            if value_labels:
                p.add_layout(LabelSet(x=dodge("label", offset, range=p.x_range), y=f"s{k}", text=f"s{k}",
                                      source=source, y_offset=3, text_align="center", text_font_size="9px"))
    elif kind == "line":
        markers = rng.random() < 0.5
        line_width = rng.choice([2, 2, 3])
        for k, name in enumerate(names):
            colour = palette[k % len(palette)]
            legend = {"legend_label": name} if len(names) > 1 else {}
            renderers.append(p.line(categories, series[name], line_width=line_width, color=colour, **legend))
            if markers:
                p.scatter(categories, series[name], size=8, color=colour,
                          marker=rng.choice(["circle", "square", "triangle"]), **legend)
    else:
        values = series[names[0]]
        total = sum(values)
        start = rng.choice([0.0, math.pi / 2])
        sign = rng.choice([1, -1])  # counterclockwise (Bokeh's default) or clockwise
        ends = [start + sign * 2 * math.pi * sum(values[: i + 1]) / total for i in range(len(values))]
        starts = [start, *ends[:-1]]
        if sign < 0:
            starts, ends = ends, starts
        colours = [palette[i % len(palette)] for i in range(len(values))]
        source = ColumnDataSource({"label": categories, "start": starts, "end": ends, "colour": colours})
        line = rng.choice([None, "white"])
        if rng.random() < 0.3:
            p.annular_wedge(x=0, y=0, inner_radius=0.18, outer_radius=0.4, start_angle="start", end_angle="end",
                            fill_color="colour", line_color=line, source=source, legend_field="label")
        else:
            p.wedge(x=0, y=0, radius=0.4, start_angle="start", end_angle="end", fill_color="colour",
                    line_color=line, source=source, legend_field="label")
        p.axis.visible = False
        p.grid.grid_line_color = None
    if kind != "pie":
        _value_range(p, kind, legend_place, len(renderers), smallest, largest, value_labels, Range1d)
        grid = rng.choice(style["grid"])
        category_grid, value_grid = (p.ygrid, p.xgrid) if horizontal else (p.xgrid, p.ygrid)
        if grid == "none":
            p.grid.grid_line_color = None
        elif grid == "value":
            category_grid.grid_line_color = None
        elif grid == "dashed":
            category_grid.grid_line_color = None
            value_grid.grid_line_dash = [4, 4]
        if not horizontal:
            p.xaxis.major_label_orientation = rng.choice(style["angle"])
    if p.legend:
        legend = p.legend[0]
        if legend_place in ("top_left", "top_right"):
            legend.location = legend_place
        else:
            legend.orientation = "horizontal" if legend_place in ("above", "below") else "vertical"
            p.add_layout(legend, legend_place)
    # value labels in the colour of the theme's tick labels (Bokeh's themes leave labels dark on dark plots)
    axis_style = built_in_themes[theme]._json.get("attrs", {}).get("Axis", {}) if theme != "default" else {}
    for label in p.select(type=LabelSet):
        label.text_color = axis_style.get("major_label_text_color", "#444444")
    if font != "theme":
        p.title.text_font = font
        p.axis.major_label_text_font = font
        p.axis.axis_label_text_font = font
        for legend in p.legend:
            legend.label_text_font = font
        for label in p.select(type=LabelSet):
            label.text_font = font
    item = json_item(p, theme=None if theme == "default" else built_in_themes[theme])
    image = {"theme": theme, "width": options["width"], "height": height, "scale": rng.choice([1.0, 1.25, 1.5])}
    return {"item": item, "image": image}, truth_table(kind, categories, series)


def _value_range(p, kind: str, legend_place: str, n_legend: int, smallest: float, largest: float,
                 value_labels: bool, range_type) -> None:
    """The value axis's range: bars from 0 (Bokeh pads below 0 otherwise), lines Bokeh's own; room above the data for
    value labels and for a legend inside the plot, which must hide no data."""
    room = 0.12 if value_labels else 0.05
    if n_legend and legend_place in ("top_left", "top_right"):
        room += 0.12 * n_legend + 0.08
    if kind == "horizontal_bar":
        p.x_range = range_type(0, largest * (1 + room + (0.08 if value_labels else 0)))
    elif kind in ("bar", "grouped_bar"):
        p.y_range = range_type(0, largest * (1 + room))
    elif room > 0.05:
        span = largest - smallest or largest or 1.0
        p.y_range = range_type(smallest - 0.08 * span, largest + room * span + 0.05 * span)


def bokeh_charts(split: str, n: int, seed: int = 0, kinds: tuple[str, ...] = KINDS):
    """`n` charts of each kind in `split`'s styles: (kind, theme, chart, truth), the same for the same seed."""
    for kind in kinds:
        for i in range(n):
            chart, truth = bokeh_chart(kind, split, random.Random(f"bokeh-{seed}-{split}-{kind}-{i}"))
            yield kind, chart["image"]["theme"], chart, truth


_DRAW = """async (item) => {
    const el = document.getElementById('chart');
    for (const doc of Bokeh.documents.splice(0)) doc.clear();
    el.innerHTML = '';
    await Bokeh.embed.embed_item(item, 'chart');
    await document.fonts.ready;
    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
}"""


class BokehBrowser:
    """Headless Chromium (`browser.HeadlessChromium`) with BokehJS loaded inline (one page per device scale),
    started once, that draws Bokeh charts to RGB images: the chart's own element, at its width and height times its
    scale. A context manager."""

    def __init__(self, executable: str | None = None):
        self._chromium = HeadlessChromium(executable, needs="pip install 'vista-tools-chart[bokeh]'")

    def __enter__(self) -> BokehBrowser:
        try:
            from bokeh.resources import INLINE
        except ImportError as exc:
            raise ImportError("drawing Bokeh charts needs bokeh and playwright (and a chromium on the machine): "
                              "pip install 'vista-tools-chart[bokeh]'") from exc
        self._scripts = list(INLINE.js_raw)
        self._chromium.__enter__()
        return self

    def render(self, chart: dict) -> Image.Image:
        """`chart` (from `bokeh_chart`) drawn to an RGB image."""
        page = self._chromium.page(chart["image"]["scale"], scripts=self._scripts,
                                   body="<div id='chart' style='display:inline-block'></div>")
        page.evaluate(_DRAW, chart["item"])
        png = page.locator("#chart").screenshot()
        return Image.open(io.BytesIO(png)).convert("RGB")

    def __exit__(self, *exc) -> None:
        self._chromium.__exit__(*exc)
