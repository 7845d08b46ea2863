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


def vega_charts(split: str, n: int, seed: int = 0, kinds: tuple[str, ...] = KINDS):
    """`n` charts of each kind in `split`'s themes: (kind, theme, spec, truth), the same for the same seed."""
    for kind in kinds:
        for i in range(n):
            spec, truth = vega_chart(kind, split, random.Random(f"vega-{seed}-{split}-{kind}-{i}"))
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
