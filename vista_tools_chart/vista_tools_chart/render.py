"""Draw a chart of known data with matplotlib, in one of many styles: the ground truth for testing chart readers.

`random_chart(kind, rng)` picks data and a style (fonts, palettes, gridlines, value labels, markers, legend place)
from a seeded generator; `render(spec)` draws it. Tests and `bench/chart_classical_parser.py` use both.
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
    font_size: float = 10.0
    palette: list[str] = field(default_factory=lambda: PALETTES["tab10"])
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

    def table(self) -> dict:
        """The ground truth in the shared table shape; pie values are percentages of the whole."""
        names = list(self.series)
        if self.kind == "pie":
            values = self.series[names[0]]
            total = sum(values)
            return {"header": ["label", "share (%)"],
                    "rows": [[c, 100.0 * v / total] for c, v in zip(self.categories, values)]}
        return {"header": ["label", *names],
                "rows": [[c, *(self.series[n][i] for n in names)] for i, c in enumerate(self.categories)]}


def random_chart(kind: str, rng: random.Random) -> ChartSpec:
    """A chart of `kind` with random data and a random style, all drawn from `rng` (same seed, same chart)."""
    if kind not in KINDS:
        raise ValueError(f"unknown chart kind '{kind}'; choose one of {', '.join(KINDS)}")
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


def render(spec: ChartSpec) -> Image.Image:
    """Draw `spec` with matplotlib (Agg, no display) and return the RGB image."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import numpy as np

    with plt.rc_context({"font.family": spec.font, "font.size": spec.font_size}):
        fig, ax = plt.subplots(figsize=spec.size, dpi=spec.dpi)
        try:
            names = list(spec.series)
            colours = spec.palette
            edge = {"edgecolor": "black", "linewidth": 0.8} if spec.edge else {}
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
                        ax.bar_label(bars, fmt="%g", padding=2, fontsize=spec.font_size - 2)
                ax.set_xticks(x, spec.categories)
            elif spec.kind.startswith("line"):
                for k, name in enumerate(names):
                    ax.plot(spec.categories, spec.series[name], label=name, color=colours[k % len(colours)],
                            marker=spec.marker or None, linewidth=2)
            elif spec.kind == "pie":
                values = spec.series[names[0]]
                if spec.legend:
                    ax.pie(values, colors=colours[: len(values)], startangle=90, counterclock=False)
                    ax.legend(spec.categories, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
                else:
                    ax.pie(values, labels=spec.categories, colors=colours[: len(values)])
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
                    else:
                        ax.legend(loc=spec.legend_loc)
                if spec.kind != "horizontal_bar":
                    low, high = ax.get_ylim()
                    ax.set_ylim(low, high + 0.08 * (high - low))  # room for value labels and the legend
            ax.set_title(spec.title)
            fig.tight_layout()
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png")
        finally:
            plt.close(fig)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")
