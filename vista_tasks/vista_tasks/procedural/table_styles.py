"""Tables drawn by matplotlib in many styles, for measuring table readers on drawings they were not tuned on.

`styled_table(seed, split)` draws one table with a known content: every matplotlib built-in style sheet, three font
families (sans, serif, monospace), 72-150 DPI, font sizes and cell paddings, ruling lines on all cells, between rows
only or none, rows shaded or not, a title or none. The style sheets are split once, by name: the development
split is what a reader may be looked at on while it is built, the measure-only split is only ever measured
(`bench/perception_ocr_tabmwp.py --generated`). The content is what TabMWP's tables hold (counts, prices per unit,
stem-and-leaf plots, x/y, schedules, two-way counts), and the reference is given as TabMWP's `table_for_pd`
(columns named by the header, or "Column 1", ... when the table has none), leaves as printed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from PIL import Image

from ._render import FONTS, figure_to_image, new_figure

StyleSplit = Literal["development", "measure"]
_NAMES = ("Ava", "Ben", "Chloe", "Diego", "Emma", "Felix", "Grace", "Hugo", "Iris", "Jonah", "Keiko", "Liam",
          "Maya", "Noah", "Olga", "Priya", "Quinn", "Rosa", "Sam", "Tariq")
_ITEMS = ("red pepper", "basil", "oat flour", "brown rice", "pecans", "dried figs", "green tea", "rye bread",
          "feta cheese", "sunflower seeds", "white sand", "fine gravel")
_UNITS = ("lb", "kg", "pound", "kilogram", "ounce")
_COUNT_COLUMNS = ("Number of books", "Points scored", "Number of stamps", "Laps swum", "Number of pages")
_PLACES = ("the library", "the zoo", "the mall", "the science museum", "the post office", "the park")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_EDGES = ("closed", "horizontal", "open")


def style_split(split: StyleSplit) -> list[str]:
    """matplotlib's built-in style sheets of one split: sorted by name, every other one is for development."""
    import matplotlib.style

    styles = sorted(name for name in matplotlib.style.available if not name.startswith("_"))
    return styles[0::2] if split == "development" else styles[1::2]


@dataclass
class StyledTable:
    image: Image.Image
    columns: dict[str, list[str]]  # the reference, as TabMWP's table_for_pd
    title: str | None
    style: str  # the style sheet, font family, DPI and edges it was drawn with, for reports
    kind: str


def _content(rng: random.Random) -> tuple[str, str | None, list[str] | None, list[list[str]]]:
    """(kind, title, header or None, rows) of one table."""
    kind = rng.choice(("counts", "prices", "stem_and_leaf", "xy", "schedule", "two_way"))
    n = rng.randint(3, 7)
    if kind == "counts":
        column = rng.choice(_COUNT_COLUMNS)
        rows = [[name, str(rng.randint(0, 120))] for name in rng.sample(_NAMES, n)]
        return kind, rng.choice((None, f"{column} by person")), ["Name", column], rows
    if kind == "prices":
        unit = rng.choice(_UNITS)
        rows = [[item, f"${rng.randint(1, 40) * 0.25:.2f} per {unit}"] for item in rng.sample(_ITEMS, n)]
        return kind, None, None, rows
    if kind == "stem_and_leaf":
        start = rng.randint(1, 5)
        rows = [[str(stem), " ".join(str(leaf) for leaf in sorted(rng.choices(range(10), k=rng.randint(0, 7))))]
                for stem in range(start, start + n)]
        return kind, rng.choice(("Pages per book", "Points per game", "Cars per lot")), ["Stem", "Leaf"], rows
    if kind == "xy":
        rows = [[str(x), str(rng.randint(0, 30))] for x in sorted(rng.sample(range(1, 20), n))]
        return kind, None, ["x", "y"], rows
    if kind == "schedule":
        stops = rng.sample(_PLACES, min(n, len(_PLACES)))
        start = rng.randint(7 * 4, 10 * 4)
        rows = []
        for index, stop in enumerate(stops):
            times = [start + index * 2 + trip * 4 for trip in range(3)]
            rows.append([stop, *(_clock(quarter) for quarter in times)])
        return kind, "Bus schedule", None, rows
    rows = [[day, str(rng.randint(0, 9)), str(rng.randint(0, 9))] for day in rng.sample(_DAYS, min(n, 4))]
    return kind, None, ["", "Rainy", "Sunny"], rows


def _clock(quarter: int) -> str:
    hour, minute = divmod(quarter * 15, 60)
    suffix = "A.M." if hour < 12 else "P.M."
    return f"{(hour - 1) % 12 + 1}:{minute:02d} {suffix}"


def styled_table(seed: int, split: StyleSplit = "measure") -> StyledTable:
    """One table, the same for the same seed and split."""
    import matplotlib

    rng = random.Random(f"styled-table-{split}-{seed}")
    kind, title, header, rows = _content(rng)
    style = rng.choice(style_split(split))
    family = rng.choice(sorted(FONTS))
    dpi = rng.randint(72, 150)
    # Sizes a reader is meant to read: at least 11 px (9 pt at 72 dpi is 9 px, under what any printed table uses).
    size = max(rng.choice((9, 10, 11, 12, 14)), round(11 * 72 / dpi))
    edges = rng.choice(_EDGES)
    shaded = rng.random() < 0.5
    with matplotlib.style.context(style), matplotlib.rc_context({"font.family": family}):
        image = _draw(title, header, rows, dpi, size, edges, shaded, rng)
    width = len(rows[0])
    names = header if header else [f"Column {i + 1}" for i in range(width)]
    columns = {name: [row[c] for row in rows] for c, name in enumerate(names)}
    return StyledTable(image=image, columns=columns, title=title, kind=kind,
                       style=f"{style}, {family}, {dpi} dpi, {size} pt, edges {edges}{', shaded' if shaded else ''}")


def _draw(title, header, rows, dpi, size, edges, shaded, rng: random.Random) -> Image.Image:
    import matplotlib

    params = matplotlib.rcParams
    figure = new_figure(1600, 1200, dpi=dpi, facecolor=params["figure.facecolor"])
    axes = figure.add_axes((0.02, 0.02, 0.96, 0.85))  # room above the table for its title
    axes.set_axis_off()
    background = params["axes.facecolor"]
    accent = params["axes.prop_cycle"].by_key().get("color", ["#4c72b0"])[0]
    colours = [[background if not shaded or r % 2 == 0 else _tint(accent) for _ in row] for r, row in enumerate(rows)]
    table = axes.table(cellText=rows, colLabels=header, cellColours=colours, loc="upper left", edges=edges,
                       cellLoc=rng.choice(("center", "left")),
                       colColours=[_tint(accent, 0.45)] * len(rows[0]) if header else None)
    table.auto_set_font_size(False)
    table.set_fontsize(size)
    table.auto_set_column_width(list(range(len(rows[0]))))
    table.scale(1, rng.uniform(1.4, 2.2))
    for cell in table.get_celld().values():
        cell.set_edgecolor(params["axes.edgecolor"])
        cell.get_text().set_color(params["text.color"])
    if header:
        for column in range(len(rows[0])):
            table[0, column].get_text().set_fontweight("bold")
    figure.canvas.draw()
    box = table.get_window_extent(figure.canvas.get_renderer())
    height = figure.bbox.height
    top = height - box.y1
    if title:
        text = figure.text((box.x0 + box.x1) / 2 / figure.bbox.width, (box.y1 + 1.2 * size * dpi / 72) / height,
                           title, ha="center", va="bottom", fontsize=size + 1, fontweight="bold",
                           color=params["text.color"])
        figure.canvas.draw()
        top = height - text.get_window_extent(figure.canvas.get_renderer()).y1
    image = figure_to_image(figure)
    margin = round(0.1 * size * dpi / 72) + 2
    return image.crop((max(0, round(box.x0) - margin), max(0, round(top) - margin),
                       min(image.width, round(box.x1) + margin), min(image.height, round(height - box.y0) + margin)))


def _tint(colour: str, strength: float = 0.18) -> tuple[float, float, float]:
    """The colour mixed into white: a shade light enough for dark text."""
    from matplotlib.colors import to_rgb

    red, green, blue = to_rgb(colour)
    return (1 - strength * (1 - red), 1 - strength * (1 - green), 1 - strength * (1 - blue))
