"""Draw a chart of known data with matplotlib, in one of many styles: the ground truth for testing chart readers.

`random_chart(kind, rng)` picks data and a style (fonts, palettes, gridlines, value labels, markers, legend place)
from a seeded generator; `render(spec)` draws it. Tests and `bench/chart_classical_parser.py` use both.

`evaluation_chart(kind, split, rng)` draws charts the parser is measured on, in matplotlib's built-in style sheets:
the development sheets (`STYLE_SHEETS_DEV`) may be looked at while improving a reader; the measure-only sheets
(`STYLE_SHEETS_MEASURE`) are only ever measured on. The split is fixed: both halves hold white, grey and tinted
plot backgrounds, spines and no spines, thin and thick lines; the development half holds the two extremes
(`dark_background`, `grayscale`) so that what a reader does about them is seen, not guessed.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field

from PIL import Image

KINDS = ("bar", "horizontal_bar", "grouped_bar", "line", "line_markers", "pie")
FONTS = ("DejaVu Sans", "DejaVu Serif", "DejaVu Sans Mono", "STIXGeneral")
PALETTES = {
    "tab10": ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf"],
    "set2": ["#66c2a5", "#fc8d62", "#8da0cb", "#e78ac3", "#a6d854", "#ffd92f", "#e5c494"],
    "dark2": ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d"],
    "bold": ["#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628", "#f781bf"],
}
WORDS = {
    "fruit": ["Apple", "Banana", "Cherry", "Mango", "Peach", "Grape", "Lemon", "Plum"],
    "country": ["France", "Japan", "Brazil", "Canada", "India", "Kenya", "Mexico", "Spain"],
    "month": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct"],
    "year": [str(y) for y in range(2012, 2024)],
    "team": ["Alpha", "Bravo", "Delta", "Echo", "Omega", "Sigma", "Zeta"],
}
SERIES_NAMES = ["North", "South", "East", "West", "Online", "Retail", "2021", "2022"]
TITLES = ["Annual sales", "Survey results", "Revenue by region", "Monthly visitors", "Market share",
          "Energy use", "Exports"]


@dataclass
class ChartSpec:
    """A chart's data (rows of `categories`, one value list per series) and how to draw it."""

    kind: str
    title: str
    categories: list[str]
    series: dict[str, list[float]]
    font: str = "DejaVu Sans"
    font_size: float | None = 10.0  # None: the style sheet's sizes
    palette: list[str] | None = field(default_factory=lambda: PALETTES["tab10"])  # None: the sheet's colour cycle
    grid: bool = False
    value_labels: bool = False
    legend: bool = True
    legend_loc: str = "best"
    marker: str = "o"
    size: tuple[float, float] = (6.4, 4.8)
    dpi: int = 100
    x_label: str = ""
    y_label: str = ""
    edge: bool = False
    style_sheet: str | None = None  # a matplotlib built-in style sheet, applied before everything else
    percent_labels: bool = False    # pies: each wedge's percentage printed inside it
    start_angle: float = 0.0        # pies
    counterclock: bool = True       # pies

    def table(self) -> dict:
        """The ground truth in the shared table shape; pie values are percentages of the whole."""
        return truth_table(self.kind, self.categories, self.series)


def check_choice(what: str, value: str, choices) -> None:
    """A one-line error for a `value` that is none of `choices` (a chart kind, a style split), naming them."""
    if value not in choices:
        raise ValueError(f"unknown {what} '{value}'; choose one of {', '.join(choices)}")


def truth_table(kind: str, categories: list[str], series: dict[str, list[float]]) -> dict:
    """A chart's ground truth in the shared table shape (a row per category, a column per series); a pie's values as
    percentages of the whole."""
    names = list(series)
    if kind == "pie":
        values = series[names[0]]
        total = sum(values)
        return {"header": ["label", "share (%)"], "rows": [[c, 100.0 * v / total] for c, v in zip(categories, values)]}
    return {"header": ["label", *names],
            "rows": [[c, *(series[n][i] for n in names)] for i, c in enumerate(categories)]}


def other_library_data(kind: str, rng: random.Random) -> tuple[list[str], dict[str, list[float]]]:
    """The categories and series (name -> values) of a chart the other plotting libraries draw (`render_vega`,
    `render_plotly`), from `rng`: 3-6 categories (lines 4-7; years and months in order), one series (grouped bars
    2-3, lines 1-2), values between a share of a random magnitude and it."""
    vocabulary = WORDS[rng.choice(sorted(WORDS))]
    n = rng.randint(4, 7) if kind == "line" else rng.randint(3, 6)
    ordered = vocabulary is WORDS["year"] or vocabulary is WORDS["month"]
    categories = list(vocabulary[:n] if ordered else rng.sample(vocabulary, n))
    n_series = rng.randint(2, 3) if kind == "grouped_bar" else (rng.choice([1, 1, 2]) if kind == "line" else 1)
    names = rng.sample(SERIES_NAMES, n_series)
    magnitude = rng.choice([5, 10, 50, 100, 1000])
    decimals = 0 if magnitude >= 50 else 1
    low = 0.15 * magnitude if kind != "line" else 0.1 * magnitude
    return categories, {name: [round(rng.uniform(low, magnitude), decimals) for _ in categories] for name in names}


def random_chart(kind: str, rng: random.Random) -> ChartSpec:
    """A chart of `kind` with random data and a random style, all drawn from `rng` (same seed, same chart)."""
    check_choice("chart kind", kind, KINDS)
    vocabulary = WORDS[rng.choice(list(WORDS))]
    n = rng.randint(3, 6) if kind in ("bar", "horizontal_bar", "pie") else rng.randint(3, 5)
    if kind.startswith("line"):
        n = rng.randint(4, 7)
    categories = rng.sample(vocabulary, n) if vocabulary is not WORDS["year"] and vocabulary is not WORDS["month"] \
        else vocabulary[:n]
    n_series = rng.randint(2, 3) if kind == "grouped_bar" else (rng.choice([1, 1, 2, 3]) if kind.startswith("line")
                                                                 else 1)
    magnitude = rng.choice([10, 50, 100, 1000, 5])
    decimals = 0 if magnitude >= 50 else rng.choice([0, 1])
    names = rng.sample(SERIES_NAMES, n_series)
    series = {}
    for name in names:
        low = 0.15 * magnitude if kind in ("bar", "horizontal_bar", "grouped_bar", "pie") else 0.1 * magnitude
        series[name] = [round(rng.uniform(low, magnitude), decimals) for _ in categories]
    palette_name = rng.choice(list(PALETTES))
    palette = list(PALETTES[palette_name])
    if kind in ("bar", "horizontal_bar") and rng.random() < 0.5:
        palette = [rng.choice(palette)]
    return ChartSpec(
        kind=kind, title=rng.choice(TITLES), categories=list(categories), series=series,
        font=rng.choice(FONTS), font_size=rng.choice([9.0, 10.0, 11.0, 12.0]), palette=palette,
        grid=rng.random() < 0.5, value_labels=kind in ("bar", "horizontal_bar", "grouped_bar") and rng.random() < 0.4,
        legend=n_series > 1 or kind == "pie" and rng.random() < 0.5,
        legend_loc=rng.choice(["best", "upper left", "upper right", "outside"]),
        marker=rng.choice(["o", "s", "^", "D"]) if kind == "line_markers" else "",
        size=rng.choice([(6.4, 4.8), (7.0, 4.5), (6.0, 5.0)]), dpi=rng.choice([90, 100, 110]),
        x_label=rng.choice(["", "Category", "Item"]) if kind != "pie" else "",
        y_label=rng.choice(["", "Value", "Units"]) if kind != "pie" else "",
        edge=rng.random() < 0.3)


STYLE_SHEETS_DEV = ("default", "classic", "dark_background", "grayscale", "ggplot", "fivethirtyeight", "fast",
                    "petroff10", "tableau-colorblind10", "seaborn-v0_8-dark", "seaborn-v0_8-deep",
                    "seaborn-v0_8-pastel", "seaborn-v0_8-poster", "seaborn-v0_8-whitegrid")
STYLE_SHEETS_MEASURE = ("Solarize_Light2", "bmh", "petroff6", "petroff8", "seaborn-v0_8", "seaborn-v0_8-bright",
                        "seaborn-v0_8-colorblind", "seaborn-v0_8-dark-palette", "seaborn-v0_8-darkgrid",
                        "seaborn-v0_8-muted", "seaborn-v0_8-notebook", "seaborn-v0_8-paper", "seaborn-v0_8-talk",
                        "seaborn-v0_8-ticks", "seaborn-v0_8-white")
SPLITS = {"dev": STYLE_SHEETS_DEV, "measure": STYLE_SHEETS_MEASURE}
FONT_FAMILIES = ("sans-serif", "serif", "monospace")
# inside the axes only where room is made for it above the data: a legend drawn over the data hides it from anyone
LEGEND_PLACES = ("best", "upper left", "upper right", "outside", "below")


def evaluation_chart(kind: str, split: str, rng: random.Random) -> ChartSpec:
    """A chart of `kind` in one of `split`'s style sheets ("dev" or "measure"), with data, font family (sans, serif,
    monospace), DPI (72-150), figure size and aspect, value labels, legend place, gridlines and markers drawn from
    `rng`. Grouped bars have 2-4 series and lines 1-4, sometimes of very different magnitudes (a bar series up to
    20 times smaller than another, a line series up to 2 times, its values from 0.3 of its largest: a line's small
    values must stay readable to 5%);
    pies have 4-7 wedges, one or two of them small (2-5%), labelled outside."""
    check_choice("chart kind", kind, KINDS)
    if split not in SPLITS:
        raise ValueError(f"unknown style split '{split}'; choose 'dev' (tune on it) or 'measure' (measure only)")
    sheet = rng.choice(SPLITS[split])
    vocabulary = WORDS[rng.choice(list(WORDS))]
    n = rng.randint(4, 8) if kind.startswith("line") else rng.randint(3, 6 if kind == "grouped_bar" else 7)
    n = min(n, len(vocabulary))
    ordered = vocabulary is WORDS["year"] or vocabulary is WORDS["month"]
    categories = vocabulary[:n] if ordered else rng.sample(vocabulary, n)
    n_series = rng.randint(2, 4) if kind == "grouped_bar" else rng.randint(1, 4) if kind.startswith("line") else 1
    names = rng.sample(SERIES_NAMES, n_series)
    magnitude = rng.choice([5, 10, 60, 100, 400, 1000, 20000])
    series: dict[str, list[float]] = {}
    for k, name in enumerate(names):
        scale = magnitude
        if k and rng.random() < 0.35:
            scale = magnitude / (rng.uniform(4, 20) if kind == "grouped_bar" else rng.uniform(1.25, 2))
        # a line's every value must be readable to 5% at the chart's resolution (a reader has no 1%-of-the-largest
        # allowance for lines): 5% of the smallest is about 1% of the axis, one or two pixels
        low = 0.3 * scale if kind.startswith("line") else 0.05 * scale
        decimals = 0 if scale >= 50 else 1
        series[name] = [round(rng.uniform(low, scale), decimals) or 10 ** -decimals for _ in categories]
    if kind == "pie":
        # no more wedges than the sheet has colours: two wedges of one colour side by side are one wedge to a reader
        n = min(n, len(_sheet_colours(sheet)))
        categories = categories[:n]
        series = {"share": _pie_values(rng, n)}
    width = rng.uniform(4.0, 8.0)
    size = (round(width, 2), round(width * rng.uniform(0.55, 1.0), 2))
    legend_place = rng.choice(LEGEND_PLACES)
    palette = None
    if kind in ("bar", "horizontal_bar") and rng.random() < 0.5:
        palette = [_sheet_colours(sheet)[0]]  # one colour for every bar (else one colour per bar)
    return ChartSpec(
        kind=kind, title=rng.choice(TITLES), categories=list(categories), series=series,
        font=rng.choice(FONT_FAMILIES), font_size=rng.choice([None, None, 8.0, 10.0, 12.0]), palette=palette,
        grid=rng.random() < 0.5, value_labels=kind != "pie" and rng.random() < 0.4,
        legend=n_series > 1 or kind == "pie" and rng.random() < 0.3, legend_loc=legend_place,
        marker=rng.choice(["o", "s", "^", "D", "."]) if kind == "line_markers" else "",
        size=size, dpi=rng.randint(72, 150),
        x_label=rng.choice(["", "Category", "Item"]) if kind != "pie" else "",
        y_label=rng.choice(["", "Value", "Units"]) if kind != "pie" else "",
        edge=rng.random() < 0.25, style_sheet=sheet, percent_labels=kind == "pie" and rng.random() < 0.5,
        start_angle=rng.choice([0.0, 90.0, 140.0]), counterclock=rng.random() < 0.5)


def _sheet_colours(sheet: str) -> list[str]:
    from matplotlib import rcParamsDefault, style

    cycle = style.library[sheet]["axes.prop_cycle"] if sheet in style.library \
        and "axes.prop_cycle" in style.library[sheet] else rcParamsDefault["axes.prop_cycle"]
    return [c["color"] for c in cycle]


def _pie_values(rng: random.Random, n: int) -> list[float]:
    """n wedge sizes (percent, summing to 100): one or two small ones (2-5%), never side by side, so that their
    outside labels do not collide (a chart that overprints its own labels is unreadable to anyone)."""
    small = [round(rng.uniform(2, 5), 1) for _ in range(rng.choice([1, 2]) if n >= 5 else 1)]
    rest = [rng.uniform(1, 4) for _ in range(n - len(small))]
    scale = (100 - sum(small)) / sum(rest)
    big = [round(v * scale, 1) for v in rest]
    big[0] = round(100 - sum(small) - sum(big[1:]), 1)
    slots = list(range(0, n, 2))[:len(small)] if len(small) == 2 else [rng.randrange(n)]
    values, small_iter, big_iter = [], iter(small), iter(big)
    for k in range(n):
        values.append(next(small_iter) if k in slots else next(big_iter))
    return values


def _legend_hides_data(fig, ax) -> bool:
    """Whether the axes' legend lies over a bar, a line's vertex or a stretch of a line."""
    import numpy as np

    legend = ax.get_legend()
    if legend is None:
        return False
    renderer = fig.canvas.get_renderer()
    box = legend.get_window_extent(renderer).padded(2)
    if any(box.overlaps(patch.get_window_extent(renderer)) for patch in ax.patches):
        return True
    for line in ax.get_lines():
        points = ax.transData.transform(np.asarray(line.get_xydata(), float))
        dense = np.concatenate([np.linspace(a, b, 50) for a, b in zip(points, points[1:])] or [points])
        inside = (dense[:, 0] >= box.x0) & (dense[:, 0] <= box.x1) & (dense[:, 1] >= box.y0) & (dense[:, 1] <= box.y1)
        if inside.any():
            return True
    return False


def evaluation_charts(split: str, n: int, seed: int = 0, kinds: tuple[str, ...] = KINDS):
    """(kind, spec) for `n` charts of each kind in `split`'s style sheets, the same for the same seed."""
    for kind in kinds:
        for i in range(n):
            yield kind, evaluation_chart(kind, split, random.Random(f"{seed}-{split}-{kind}-{i}"))


def render(spec: ChartSpec) -> Image.Image:
    """Draw `spec` with matplotlib (Agg, no display) and return the RGB image."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    with plt.style.context(spec.style_sheet or {}):
        rc = {"font.family": spec.font, **({"font.size": spec.font_size} if spec.font_size else {})}
        with plt.rc_context(rc):
            return _draw(spec, plt)


def _draw(spec: ChartSpec, plt) -> Image.Image:
    import numpy as np

    fig, ax = plt.subplots(figsize=spec.size, dpi=spec.dpi)
    try:
        names = list(spec.series)
        colours = spec.palette or [c["color"] for c in plt.rcParams["axes.prop_cycle"]]
        edge = {"edgecolor": "black", "linewidth": 0.8} if spec.edge else {}
        small_font = (spec.font_size or plt.rcParams["font.size"]) - 2
        x = np.arange(len(spec.categories))
        if spec.kind in ("bar", "horizontal_bar"):
            values = spec.series[names[0]]
            colour = colours[0] if len(colours) == 1 else colours[: len(values)]
            if spec.kind == "bar":
                bars = ax.bar(spec.categories, values, color=colour, **edge)
            else:
                bars = ax.barh(spec.categories, values, color=colour, **edge)
                ax.invert_yaxis()
            if spec.value_labels:
                ax.bar_label(bars, fmt="%g", padding=2)
        elif spec.kind == "grouped_bar":
            width = 0.8 / len(names)
            for k, name in enumerate(names):
                bars = ax.bar(x - 0.4 + width * (k + 0.5), spec.series[name], width, label=name,
                              color=colours[k % len(colours)], **edge)
                if spec.value_labels:
                    ax.bar_label(bars, fmt="%g", padding=2, fontsize=small_font)
            ax.set_xticks(x, spec.categories)
        elif spec.kind.startswith("line"):
            for k, name in enumerate(names):
                ax.plot(spec.categories, spec.series[name], label=name, color=colours[k % len(colours)],
                        marker=spec.marker or None, linewidth=2 if spec.style_sheet is None else None)
                if spec.value_labels:
                    for i, v in enumerate(spec.series[name]):
                        ax.annotate(f"{v:g}", (i, v), textcoords="offset points", xytext=(0, 5), ha="center",
                                    fontsize=small_font)
        elif spec.kind == "pie":
            values = spec.series[names[0]]
            autopct = {"autopct": "%1.1f%%", "pctdistance": 0.75} if spec.percent_labels else {}
            if spec.style_sheet is None:  # the charts drawn before the style sheets keep their look
                pie = {"colors": colours[: len(values)]} | ({"startangle": 90, "counterclock": False}
                                                            if spec.legend else {})
            else:
                pie = {"startangle": spec.start_angle, "counterclock": spec.counterclock}
            pie.update(autopct)
            if spec.legend:
                ax.pie(values, **pie)
                ax.legend(spec.categories, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
            else:
                ax.pie(values, labels=spec.categories, **pie)
            ax.set_aspect("equal")
        if spec.kind != "pie":
            if spec.grid:
                ax.grid(True, axis="y" if spec.kind != "horizontal_bar" else "x", alpha=0.6)
                ax.set_axisbelow(True)
            if spec.x_label:
                ax.set_xlabel(spec.x_label)
            if spec.y_label:
                ax.set_ylabel(spec.y_label)
            if spec.legend and len(names) > 1:
                if spec.legend_loc == "outside":
                    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
                elif spec.legend_loc == "below":
                    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=len(names))
                else:
                    ax.legend(loc=spec.legend_loc)
            if spec.kind != "horizontal_bar":
                low, high = ax.get_ylim()
                room = 0.08  # for value labels and the legend
                if spec.style_sheet and spec.legend and len(names) > 1 and spec.legend_loc in ("best", "upper left",
                                                                                                "upper right"):
                    room += 0.1 * len(names)
                ax.set_ylim(low, high + room * (high - low))
        ax.set_title(spec.title)
        fig.tight_layout()
        if spec.style_sheet and _legend_hides_data(fig, ax):
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))  # a chart must show its data to be read
            fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=spec.dpi)
    finally:
        plt.close(fig)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")
