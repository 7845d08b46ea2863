"""Draw a chart of known data with Vega-Lite (rendered by vl-convert, no matplotlib involved): a second,
independent source of charts for measuring chart readers, with its own ground truth.

Vega-Lite lays out axes, ticks, labels, legends and marks by its own rules and draws text with its own renderer,
so a reader tuned on matplotlib's charts meets here what it was not shaped on. Vega-Lite's themes are split like
matplotlib's style sheets in `render`: development themes (`THEMES_DEV`) may be looked at while improving a reader;
measure-only themes (`THEMES_MEASURE`) are only ever measured on. Both halves hold light themes with and without
gridlines; the development half holds the one dark theme.

    spec, truth = vega_chart("bar", "measure", random.Random(0))
    image = render_vega(spec)

Needs `vl-convert-python` (the `vega` extra of vista-tools-chart).
"""

from __future__ import annotations

import io
import random

from PIL import Image

from .render import TITLES, check_choice, other_library_data, truth_table

KINDS = ("bar", "horizontal_bar", "grouped_bar", "line", "pie")
THEMES_DEV = ("default", "dark", "ggplot2", "quartz", "vox", "carbong10")
THEMES_MEASURE = ("excel", "fivethirtyeight", "googlecharts", "latimes", "powerbi", "urbaninstitute", "carbonwhite")
SPLITS = {"dev": THEMES_DEV, "measure": THEMES_MEASURE}


def vega_chart(kind: str, split: str, rng: random.Random) -> tuple[dict, dict]:
    """A Vega-Lite spec of `kind` with random data, in a theme of `split`, and its ground truth in the shared table
    shape (pie values as percentages of the whole)."""
    check_choice("chart kind", kind, KINDS)
    check_choice("split", split, SPLITS)
    categories, series = other_library_data(kind, rng)
    names = list(series)
    rows = [{"label": c, "series": name, "value": series[name][i]} for name in names for i, c in enumerate(categories)]
    width, height = rng.choice([(360, 240), (420, 260), (480, 300)])
    spec: dict = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": rng.choice(TITLES), "width": width, "height": height, "data": {"values": rows},
        # fonts that vl-convert finds on the machine (a missing one draws no text at all)
        "config": {"font": rng.choice(["DejaVu Sans", "Liberation Sans", "Liberation Serif", "DejaVu Serif"]),
                   "axis": {"labelFontSize": rng.choice([10, 11, 12]), "titleFontSize": 11},
                   "_theme": rng.choice(SPLITS[split]), "_scale": rng.choice([1.0, 1.25, 1.5])},
    }
    label = {"field": "label", "type": "nominal", "sort": None, "title": rng.choice([None, "Category"])}
    value = {"field": "value", "type": "quantitative", "title": rng.choice([None, "Value", "Units"])}
    colour = {"field": "series", "type": "nominal", "title": None, "sort": names}
    if kind == "bar":
        spec |= {"mark": "bar", "encoding": {"x": label | {"axis": {"labelAngle": 0}}, "y": value}}
    elif kind == "horizontal_bar":
        spec |= {"mark": "bar", "encoding": {"y": label, "x": value}}
    elif kind == "grouped_bar":
        spec |= {"mark": "bar", "encoding": {"x": label | {"axis": {"labelAngle": 0}}, "y": value,
                                             "xOffset": {"field": "series", "sort": names}, "color": colour}}
    elif kind == "line":
        spec |= {"mark": {"type": "line", "point": rng.random() < 0.5},
                 "encoding": {"x": label | {"axis": {"labelAngle": 0}}, "y": value}}
        if len(names) > 1:
            spec["encoding"]["color"] = colour
    else:
        spec |= {"mark": {"type": "arc", "stroke": rng.choice([None, "white"])},
                 "encoding": {"theta": {"field": "value", "type": "quantitative"},
                              "color": {"field": "label", "type": "nominal", "sort": None, "title": None}}}
        spec["width"] = spec["height"] = min(width, height)
    truth = truth_table(kind, categories, series)
    return spec, truth


def vega_variety(spec: dict, kind: str, rng: random.Random) -> dict:
    """`spec` restyled with settings a user's Vega-Lite (or Altair) chart plausibly has and `vega_chart` leaves at the
    theme's defaults, drawn from `rng`: fonts, sizes and colours of the labels, label angles and padding, axis lines,
    tick marks and gridlines on or off, number formats, a value axis on the far side, band padding, colour schemes,
    legend places and symbols, page tints, corner radii, line widths, donuts and plot sizes. For development themes
    only (`vega_charts(..., variety=True)`): a wider development split, since the plain one reads in full and no
    longer shows what a reader misses. None of these settings copies a measure-only theme's."""
    spec = {**spec, "config": dict(spec["config"]), "encoding": {k: dict(v) for k, v in spec["encoding"].items()}}
    config = spec["config"]
    config["axis"] = dict(config["axis"]) | {
        "labelFontSize": rng.choice([8, 9, 10, 12, 13, 14]),
        "labelFont": rng.choice(["DejaVu Sans Mono", "Liberation Mono", "Liberation Sans Narrow", "DejaVu Sans",
                                 "Liberation Serif"]),
        "labelPadding": rng.choice([0, 2, 4, 8]), "domain": rng.random() < 0.6, "ticks": rng.random() < 0.6,
        "tickSize": rng.choice([3, 5, 8]), "grid": rng.random() < 0.6}
    if rng.random() < 0.3:
        config["axis"] |= {"gridDash": rng.choice([[2, 2], [4, 2], [1, 3]])}
    dark = config["_theme"] == "dark"  # its white text stays on its own dark page
    if rng.random() < 0.3 and not dark:
        config["axis"] |= {"labelColor": rng.choice(["#555555", "#333366", "#7a3b00", "#888888"])}
    config["scale"] = {"bandPaddingInner": rng.choice([0.05, 0.1, 0.25, 0.4, 0.55])}
    config["range"] = {"category": {"scheme": rng.choice(["category10", "tableau10", "set1", "set2", "dark2",
                                                          "accent", "paired", "tableau20"])}}
    # outside the plot: a legend drawn over the marks may hide a swatch on a wedge of its own colour
    config["legend"] = {"orient": rng.choice(["right", "left", "top", "bottom"]),
                        "symbolType": rng.choice(["circle", "square", "diamond", "triangle-up"]),
                        "symbolSize": rng.choice([40, 80, 150]), "labelFontSize": rng.choice([9, 11, 13])}
    config["title"] = {"anchor": rng.choice(["start", "middle", "end"]), "fontSize": rng.choice([12, 14, 18])}
    if rng.random() < 0.3 and not dark:
        config["background"] = rng.choice(["#fbf7ee", "#eef3f8", "#f2f2f2"])
    if rng.random() < 0.3:
        config["view"] = {"stroke": rng.choice([None, "#000000", "#999999"])}
    config["_scale"] = rng.choice([1.0, 1.25, 1.5, 2.0])
    mark = spec["mark"] if isinstance(spec["mark"], dict) else {"type": spec["mark"]}
    if kind in ("bar", "horizontal_bar", "grouped_bar"):
        mark = mark | {"cornerRadiusEnd": rng.choice([0, 0, 2, 4])}
    elif kind == "line":
        mark = mark | {"strokeWidth": rng.choice([1, 2, 3, 4])}
    else:
        spec["width"] = spec["height"] = rng.choice([160, 220, 300, 380])
        if rng.random() < 0.4:
            mark = mark | {"innerRadius": round(spec["width"] * rng.uniform(0.15, 0.3))}
        mark = mark | {"padAngle": rng.choice([0, 0, 0.01, 0.03])}
    spec["mark"] = mark
    category, value = ("y", "x") if kind == "horizontal_bar" else ("x", "y")
    if kind != "pie":
        axis = dict(spec["encoding"][category].get("axis") or {})
        if kind != "horizontal_bar":
            axis["labelAngle"] = rng.choice([0, 0, -30, -45, 45, -90])
        spec["encoding"][category]["axis"] = axis
        spec["encoding"][value]["axis"] = {
            "format": rng.choice([None, ",", "~s", ".1f", "~g", "$,"]),
            "orient": rng.choice(["left", "left", "right"] if value == "y" else ["bottom", "bottom", "top"])}
        spec["encoding"][value]["axis"] = {k: v for k, v in spec["encoding"][value]["axis"].items() if v is not None}
        spec["width"], spec["height"] = rng.choice([(240, 200), (300, 300), (420, 260), (560, 240), (640, 360)])
    return spec


def vega_charts(split: str, n: int, seed: int = 0, kinds: tuple[str, ...] = KINDS, variety: bool = False):
    """`n` charts of each kind in `split`'s themes: (kind, theme, spec, truth), the same for the same seed. With
    `variety` (development themes only), each restyled by `vega_variety` from a draw of its own (the plain charts'
    draws stay as they are)."""
    if variety and split != "dev":
        raise ValueError("variety widens the development split only: measure-only charts stay as drawn")
    for kind in kinds:
        for i in range(n):
            spec, truth = vega_chart(kind, split, random.Random(f"vega-{seed}-{split}-{kind}-{i}"))
            if variety:
                spec = vega_variety(spec, kind, random.Random(f"vega-variety-{seed}-{kind}-{i}"))
            yield kind, spec["config"]["_theme"], spec, truth


def render_vega(spec: dict) -> Image.Image:
    """The chart drawn to an RGB image by vl-convert, in the theme and at the scale the spec's config names."""
    try:
        import vl_convert
    except ImportError as exc:
        raise ImportError("drawing Vega-Lite charts needs vl-convert-python: pip install "
                          "'vista-tools-chart[vega]'") from exc
    config = dict(spec["config"])
    theme, scale = config.pop("_theme"), config.pop("_scale")
    png = vl_convert.vegalite_to_png({**spec, "config": config}, scale=scale, theme=None if theme == "default"
                                     else theme)
    image = Image.open(io.BytesIO(png))
    if image.mode in ("RGBA", "LA", "P"):
        # the PNG is transparent outside the theme's background: flatten it on the theme's own page colour
        rgba = image.convert("RGBA")
        page = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(page, rgba)
    return image.convert("RGB")
