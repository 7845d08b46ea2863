"""Chart generation shared by the chart tasks: the data behind a chart, its style, rendering with matplotlib (Agg),
and the questions asked about it with their oracle solutions.

To render a chart of a chosen type and style, e.g. to measure a chart parser on it::

    from vista_tasks.procedural.charts import ChartStyle, random_chart_data, render_chart
    data = random_chart_data(random.Random(0), "bar_horizontal", difficulty=1)
    image = render_chart(data, "bar_horizontal", ChartStyle(value_labels=False, gridlines=True))
    data.table()   # the ground truth, in the tool catalogue's table shape

or fix the style of a task: ``ChartBarTask(ChartBarConfig(kinds=("bar_grouped",), style=ChartStyle(...)))``.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from vista import Example, OracleSolution, OracleStep

from ._base import ProceduralConfig, ProceduralTask, calculated, choose_from, format_value
from ._render import FONTS, figure_to_image, new_figure

CHART_KINDS: tuple[str, ...] = ("bar_vertical", "bar_horizontal", "bar_grouped", "line", "pie")
QUESTION_TYPES: tuple[str, ...] = ("lookup", "argmax", "argmin", "difference", "ratio", "sum", "compare")
PALETTES: tuple[str, ...] = ("tab10", "Set1", "Dark2", "Set2")


@dataclass(frozen=True)
class ChartStyle:
    """How a chart looks. `random_style` draws one per seed; pass one to a task's config to fix it."""

    font: str = "DejaVu Sans"
    font_size: int = 9
    palette: str = "tab10"
    single_color: bool = True      # single-series bars: one colour for all bars, else one per bar
    gridlines: bool = False
    value_labels: bool = False     # numbers printed on bars, points or wedges (pies always show percentages)
    markers: bool = True           # line charts: a marker at every data point
    legend: bool = False           # pies: a legend instead of labels beside the wedges (multi-series: always)
    title: bool = True
    start_angle: int = 90          # pies
    width: int = 400
    height: int = 300

    def validate(self) -> None:
        if self.font not in FONTS:
            raise ValueError(f"ChartStyle.font must be one of {list(FONTS)}, got {self.font!r}")
        if self.palette not in PALETTES:
            raise ValueError(f"ChartStyle.palette must be one of {PALETTES}, got {self.palette!r}")
        if not 6 <= self.font_size <= 16:
            raise ValueError(f"ChartStyle.font_size must be in [6, 16], got {self.font_size}")
        if not (200 <= self.width <= 1200 and 150 <= self.height <= 1000):
            raise ValueError(f"ChartStyle size must be 200-1200 x 150-1000 px, got {self.width}x{self.height}")


def random_style(rng: random.Random, difficulty: int) -> ChartStyle:
    """A style drawn from the seed; harder charts print values less often."""
    return ChartStyle(
        font=rng.choice(sorted(FONTS)), font_size=rng.choice((8, 9, 10)), palette=rng.choice(PALETTES),
        single_color=rng.random() < 0.6, gridlines=rng.random() < 0.5,
        value_labels=rng.random() < (0.8, 0.5, 0.3)[difficulty], markers=rng.random() < 0.6,
        legend=rng.random() < 0.4, title=rng.random() < 0.85, start_angle=rng.choice((0, 90, 140)),
        width=rng.choice((360, 400, 440)), height=rng.choice((280, 300, 320)),
    )


@dataclass
class ChartData:
    """The table behind a chart: `values[s][i]` is series `series[s]` at category `labels[i]`."""

    title: str
    category_noun: str        # what a label is ("fruit", "year"), for the questions
    value_name: str           # the value axis's title ("units sold")
    measure: str              # what a value is, in the questions ("the number of units sold")
    labels: list[str]
    series: list[str]
    values: list[list[float]]
    decimals: int = 0

    def table(self) -> dict[str, Any]:
        """The chart as the tool catalogue's table: header ["label", series...], one row per label."""
        return {"header": ["label", *self.series],
                "rows": [[label, *(self.number(self.values[s][i]) for s in range(len(self.series)))]
                         for i, label in enumerate(self.labels)]}

    def number(self, value: float) -> float | int:
        return int(value) if self.decimals == 0 else round(value, self.decimals)

    def text(self, value: float) -> str:
        return f"{value:.{self.decimals}f}"


# (title, category noun, value axis title, measure, category pool, series pool)
_CATEGORY_TOPICS = (
    ("Fruit sales", "fruit", "units sold", "the number of units sold",
     ["Apples", "Bananas", "Cherries", "Grapes", "Mangoes", "Oranges", "Pears", "Plums", "Kiwis"],
     ["Store A", "Store B", "Store C"]),
    ("Club membership", "club", "members", "the number of members",
     ["Chess", "Drama", "Music", "Robotics", "Art", "Science", "Debate", "Soccer", "Poetry"],
     ["Boys", "Girls", "Staff"]),
    ("Electricity generation", "source", "terawatt-hours", "the electricity generated in terawatt-hours",
     ["Solar", "Wind", "Hydro", "Coal", "Gas", "Nuclear", "Biomass", "Geothermal", "Tidal"],
     ["2020", "2022", "2024"]),
    ("Books borrowed", "genre", "books", "the number of books borrowed",
     ["Fantasy", "History", "Poetry", "Mystery", "Science", "Travel", "Comics", "Biography", "Cooking"],
     ["Adults", "Teens", "Kids"]),
    ("Average rainfall", "city", "millimetres", "the average rainfall in millimetres",
     ["Oslo", "Lima", "Nairobi", "Madrid", "Osaka", "Cairo", "Toronto", "Perth", "Quito"],
     ["Spring", "Autumn", "Winter"]),
)
_TIME_TOPICS = (
    ("Company revenue", "year", "revenue (million $)", "the revenue in million dollars", ["Alpha", "Beta", "Gamma"]),
    ("Visitors to the museum", "year", "visitors (thousands)", "the number of visitors in thousands",
     ["Adults", "Children", "Seniors"]),
    ("Average temperature", "month", "degrees Fahrenheit", "the average temperature in degrees Fahrenheit",
     ["Paris", "Rome", "Dublin"]),
    ("Bicycles sold", "month", "bicycles", "the number of bicycles sold", ["City", "Mountain", "Road"]),
)
_SHARE_TOPICS = (
    ("Market share of phone makers", "company", "share (%)", "the market share in percent",
     ["Nova", "Orbit", "Pixelon", "Quanta", "Radix", "Solis", "Terra"]),
    ("Household budget", "category", "share (%)", "the share of the budget in percent",
     ["Housing", "Food", "Transport", "Health", "Leisure", "Savings", "Other"]),
    ("Favourite sports of students", "sport", "share (%)", "the share of students in percent",
     ["Football", "Tennis", "Swimming", "Cycling", "Basketball", "Running", "Rowing"]),
)
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _distinct_values(rng: random.Random, n: int, difficulty: int) -> list[float]:
    """n distinct values; easy charts use multiples of 5, hard ones one decimal."""
    if difficulty == 0:
        pool = list(range(10, 101, 5))
        return [float(v) for v in rng.sample(pool, n)]
    if difficulty == 1:
        return [float(v) for v in rng.sample(range(5, 100), n)]
    return [v / 10 for v in rng.sample(range(50, 1000), n)]


def random_chart_data(rng: random.Random, kind: str, difficulty: int) -> ChartData:
    """Data for a chart of `kind`; more categories and series, and finer values, as difficulty grows."""
    if kind not in CHART_KINDS:
        raise ValueError(f"unknown chart kind {kind!r}; choose one of {CHART_KINDS}")
    decimals = 1 if difficulty == 2 else 0
    if kind == "pie":
        title, noun, value_name, measure, pool = rng.choice(_SHARE_TOPICS)
        n = rng.randint(3, 4 + difficulty)
        labels = rng.sample(pool, n)
        return ChartData(title, noun, value_name, measure, labels, ["share"], [_shares(rng, n, decimals)], decimals)
    n_series = 1
    if kind == "bar_grouped" or (kind == "line" and difficulty > 0 and rng.random() < 0.5):
        n_series = 2 if difficulty < 2 else rng.choice((2, 3))
    if kind == "line":
        title, noun, value_name, measure, series_pool = rng.choice(_TIME_TOPICS)
        n = rng.randint(4 + difficulty, 6 + 2 * difficulty)
        if noun == "year":
            start = rng.randint(2005, 2016)
            labels = [str(start + i) for i in range(n)]
        else:
            start = rng.randint(0, 12 - n)
            labels = _MONTHS[start:start + n]
    else:
        title, noun, value_name, measure, pool, series_pool = rng.choice(_CATEGORY_TOPICS)
        labels = rng.sample(pool, min(len(pool), rng.randint(3 + difficulty, 5 + 2 * difficulty)))
        n = len(labels)
    series = rng.sample(series_pool, n_series) if n_series > 1 else [value_name]
    values = [_distinct_values(rng, n, difficulty) for _ in series]
    return ChartData(title, noun, value_name, measure, labels, series, values, decimals)


def _shares(rng: random.Random, n: int, decimals: int) -> list[float]:
    """n distinct percentages summing to exactly 100 (in units of 10**-decimals)."""
    scale = 10 ** decimals
    total = 100 * scale
    while True:
        cuts = sorted(rng.sample(range(3 * scale, total - 3 * scale), n - 1))
        parts = [b - a for a, b in zip([0, *cuts], [*cuts, total])]
        if min(parts) >= 3 * scale and len(set(parts)) == n:
            return [p / scale for p in parts]


def render_chart(data: ChartData, kind: str, style: ChartStyle):
    """Render `data` as a chart of `kind` in `style`; returns an RGB PIL image of style.width x style.height."""
    from matplotlib import colormaps, rc_context

    if kind not in CHART_KINDS:
        raise ValueError(f"unknown chart kind {kind!r}; choose one of {CHART_KINDS}")
    style.validate()
    colors = list(colormaps[style.palette].colors)
    rc = {"font.family": style.font, "font.size": style.font_size, "axes.titlesize": style.font_size + 2,
          "axes.spines.top": False, "axes.spines.right": False}
    with rc_context(rc):
        figure = new_figure(style.width, style.height)
        axes = figure.add_axes(_axes_box(data, kind, style))
        if kind == "pie":
            _draw_pie(axes, data, style, colors)
        elif kind == "line":
            _draw_lines(axes, data, style, colors)
        else:
            _draw_bars(axes, data, kind, style, colors)
        if style.title:
            axes.set_title(data.title)
        return figure_to_image(figure)


def _axes_box(data: ChartData, kind: str, style: ChartStyle) -> tuple[float, float, float, float]:
    """Where the axes go, as (left, bottom, width, height) fractions, estimated from the text around them.
    matplotlib's layout engines measure every text instead and take longer than drawing the chart."""
    # Font sizes are points: at 100 dpi a point is 100/72 px; glyphs average ~0.6 em wide, lines ~1.2 em high.
    char = style.font_size * 0.85
    line = style.font_size * 1.7
    longest = max(len(label) for label in data.labels)
    if kind == "pie":
        left, bottom, right = 8.0, 8.0, (longest + 6) * char if style.legend else 8.0
    else:
        value_digits = len(f"{max(max(v) for v in data.values):.0f}") + (2 if data.decimals else 0)
        tick_text = longest if kind == "bar_horizontal" else value_digits
        left = tick_text * char + line + 26
        rotated = kind != "bar_horizontal" and len(data.labels) > (5 if kind != "line" else 7)
        bottom = 2 * line + 12 + (longest * char * 0.5 if rotated else 0)
        right = 14.0 + (3 * char if style.value_labels and kind == "bar_horizontal" else 0)
    top = 2.0 * line if style.title else 10.0
    return (left / style.width, bottom / style.height, 1 - (left + right) / style.width,
            1 - (top + bottom) / style.height)


def _sentence(text: str) -> str:
    """First letter up, the rest as written ("degrees Fahrenheit" -> "Degrees Fahrenheit")."""
    return text[:1].upper() + text[1:]


def _draw_bars(axes, data: ChartData, kind: str, style: ChartStyle, colors: list) -> None:
    n_series = len(data.series)
    positions = list(range(len(data.labels)))
    width = 0.8 / n_series
    horizontal = kind == "bar_horizontal"
    for s, name in enumerate(data.series):
        offsets = [p - 0.4 + width * (s + 0.5) for p in positions]
        if n_series == 1 and not style.single_color:
            color = [colors[i % len(colors)] for i in positions]
        else:
            color = colors[s % len(colors)]
        draw = axes.barh if horizontal else axes.bar
        bars = draw(offsets, data.values[s], width * 0.9, color=color, label=name)
        if style.value_labels:
            axes.bar_label(bars, labels=[data.text(v) for v in data.values[s]], padding=2,
                           fontsize=style.font_size - 1)
    value_axis, label_axis = (axes.xaxis, axes.yaxis) if horizontal else (axes.yaxis, axes.xaxis)
    label_axis.set_ticks(positions, data.labels)
    value_axis.set_label_text(_sentence(data.value_name))
    label_axis.set_label_text(_sentence(data.category_noun))
    if horizontal:
        axes.invert_yaxis()  # first label on top, as people read a list
    elif len(data.labels) > 5:
        axes.tick_params(axis="x", labelrotation=30)
    if style.gridlines:
        axes.grid(axis="x" if horizontal else "y", linestyle="--", alpha=0.6)
        axes.set_axisbelow(True)
    if n_series > 1:
        axes.legend(fontsize=style.font_size - 1)


def _draw_lines(axes, data: ChartData, style: ChartStyle, colors: list) -> None:
    positions = list(range(len(data.labels)))
    for s, name in enumerate(data.series):
        axes.plot(positions, data.values[s], color=colors[s % len(colors)], marker="o" if style.markers else None,
                  markersize=4, linewidth=1.8, label=name)
        if style.value_labels:
            for x, v in zip(positions, data.values[s]):
                axes.annotate(data.text(v), (x, v), textcoords="offset points", xytext=(0, 5), ha="center",
                              fontsize=style.font_size - 1)
    axes.set_xticks(positions, data.labels)
    axes.set_xlabel(_sentence(data.category_noun))
    axes.set_ylabel(_sentence(data.value_name))
    if len(data.labels) > 7:
        axes.tick_params(axis="x", labelrotation=30)
    if style.gridlines:
        axes.grid(linestyle="--", alpha=0.6)
    if len(data.series) > 1:
        axes.legend(fontsize=style.font_size - 1)


def _draw_pie(axes, data: ChartData, style: ChartStyle, colors: list) -> None:
    values = data.values[0]
    # matplotlib fixes the pie's axes to +-1.25 radii; a smaller pie leaves room for labels beside the wedges.
    wedges, *_ = axes.pie(values, labels=None if style.legend else data.labels, colors=colors[:len(values)],
                          radius=1.0 if style.legend else 0.8,
                          autopct=f"%1.{data.decimals}f%%", startangle=style.start_angle, counterclock=False,
                          wedgeprops={"edgecolor": "white"}, textprops={"fontsize": style.font_size})
    if style.legend:
        axes.legend(wedges, data.labels, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=style.font_size - 1)
    axes.set_aspect("equal")


@dataclass
class ChartConfig(ProceduralConfig):
    """Config of a chart task. `difficulty`: 0 = 3-5 categories, values in steps of 5, values printed 80% of the
    time; 1 = 4-7 categories, integers, 50%, line charts may have two series; 2 = 5-9 categories, one-decimal
    values, 30%, up to three series.

    - ``kinds``: the chart kinds drawn (subset of the task's kinds).
    - ``question_types``: subset of `QUESTION_TYPES`.
    - ``style``: a fixed `ChartStyle`, or None to draw one per seed.
    """

    kinds: tuple[str, ...] = CHART_KINDS
    question_types: tuple[str, ...] = QUESTION_TYPES
    style: ChartStyle | None = None

    def validate(self) -> None:
        super().validate()
        choose_from("kinds", self.kinds, CHART_KINDS)
        choose_from("question_types", self.question_types, QUESTION_TYPES)
        if self.style is not None:
            self.style.validate()


class ChartTask(ProceduralTask):
    """A chart task: draw data, a style and a question, render the chart; the oracle reads the chart with
    `chart_to_table`, then computes with `calculator` or `chart_analysis`."""

    category = "chart"
    kinds: ClassVar[tuple[str, ...]] = CHART_KINDS
    Config = ChartConfig
    tolerance = 0.05  # ChartQA's relaxed accuracy: values are read off the chart
    recommended_tools = ("chart_to_table", "chart_analysis", "calculator")

    def __init__(self, config: ChartConfig | None = None):
        super().__init__(config if config is not None else self.Config())
        choose_from(f"{self.name} kinds", self.config.kinds, self.kinds)

    def _generate(self, rng: random.Random, config: ChartConfig) -> dict[str, Any]:
        kind = rng.choice(config.kinds)
        data = random_chart_data(rng, kind, config.difficulty)
        style = config.style or random_style(rng, config.difficulty)
        query = _ask(rng, data, kind, rng.choice(config.question_types), config.difficulty)
        question, answer, answer_type = query.pop("question"), query.pop("answer"), query.pop("answer_type")
        return {
            "images": [render_chart(data, kind, style)],
            "question": question, "answer": answer, "answer_type": answer_type,
            "metadata": {"chart_type": kind, "title": data.title, "table": data.table(), "style": asdict(style),
                         "query": query},
        }

    def oracle(self, example: Example) -> OracleSolution:
        query = example.metadata["query"]
        kind, labels, values = query["type"], query["labels"], query["values"]
        series = query["series"]
        multi = len(example.metadata["table"]["header"]) > 2
        steps = [OracleStep(think="Read the chart's data into a table so that the values are exact.",
                            tool="chart_to_table", arguments={"image": "image_0", "backend": "classical"})]
        named = ", ".join(f"{label} = {value}" for label, value in zip(labels, values))
        analysis = {"image": "image_0", "operation": kind, "labels": labels, **({"series": series} if multi else {})}
        if kind in ("argmax", "argmin", "compare"):
            steps.append(OracleStep(think=f"Let the chart analysis compare {', '.join(labels)}.",
                                    tool="chart_analysis", arguments=analysis))
        elif kind in ("difference", "ratio", "sum"):
            steps.append(OracleStep(think=f"From the table: {named}. Compute the {kind}.",
                                    tool="calculator", arguments={"expression": query["expression"]}))
        rationale = {
            "lookup": f"The table gives {named}.",
            "argmax": f"The largest value is {example.answer} ({max(values)}).",
            "argmin": f"The smallest value is {example.answer} ({min(values)}).",
            "compare": f"{named}, so the answer is {example.answer}.",
        }.get(kind, f"{named}; {query.get('expression', '')} = {example.answer}.")
        return OracleSolution(steps=steps, answer=str(example.answer), rationale=rationale,
                              evidence=_evidence(example))


def _evidence(example: Example) -> list[str]:
    """What the tools must show for the answer to follow: the categories (and series) asked about; the rows of the
    values the rationale quotes, as `chart_to_table` prints them (label, then the series up to the one asked); the
    conclusion of `chart_analysis` or the calculation.

    Values that are not printed, and every line chart's (the classical reader places a line's points from the
    drawing, not from its labels), are estimates: "82.4" for 82 is a right reading, so experts compare numbers within
    the task's tolerance (`evidence_missing(..., rel_tol=Task.tolerance)`), the relaxed accuracy its scorer uses."""
    meta, query = example.metadata, example.metadata["query"]
    kind, labels, values = query["type"], query["labels"], query["values"]
    header, rows = meta["table"]["header"], meta["table"]["rows"]
    evidence = list(labels)
    if len(header) > 2:
        evidence.append(query["series"])
    column = header.index(query["series"]) if len(header) > 2 else 1
    quoted = [str(example.answer)] if kind in ("argmax", "argmin") else labels
    evidence += [" | ".join(str(cell) for cell in row[:column + 1]) for row in rows if row[0] in quoted]
    if kind in ("argmax", "argmin"):
        evidence.append(f"the {'largest' if kind == 'argmax' else 'smallest'} is {example.answer}")
    elif kind == "compare":
        evidence.append(f"{labels[0] if values[0] > values[1] else labels[1]} is larger" if values[0] != values[1]
                        else "equals")
    elif "expression" in query:
        evidence += calculated(query["expression"])
    return evidence


def _ask(rng: random.Random, data: ChartData, kind: str, qtype: str, difficulty: int) -> dict[str, Any]:
    """A question of type `qtype` about `data`: question, answer, answer_type, and the query behind it."""
    s = rng.randrange(len(data.series))
    column = data.values[s]
    of_series = f" in the {data.series[s]} series" if len(data.series) > 1 else ""
    what = data.measure
    of = "in" if data.category_noun in ("year", "month") else "for"
    n = len(data.labels)

    def value(i: int) -> float | int:
        return data.number(column[i])

    query: dict[str, Any] = {"type": qtype, "series": data.series[s]}
    if qtype in ("argmax", "argmin"):
        pick = max if qtype == "argmax" else min
        best = pick(range(n), key=lambda i: column[i])
        word = "highest" if qtype == "argmax" else "lowest"
        question = f"Which {data.category_noun} has the {word} {what.removeprefix('the ')}{of_series}?"
        query.update(labels=list(data.labels), values=[value(i) for i in range(n)])
        return {"question": question, "answer": data.labels[best], "answer_type": "text", **query}
    if qtype == "lookup":
        i = rng.randrange(n)
        query.update(labels=[data.labels[i]], values=[value(i)])
        return {"question": f"What is {what} {of} {data.labels[i]}{of_series}?",
                "answer": format_value(value(i), data.decimals), "answer_type": "float", **query}
    if qtype == "sum" and difficulty == 2:
        chosen = list(range(n))
    else:
        chosen = rng.sample(range(n), 3 if qtype == "sum" and difficulty == 1 and n >= 3 else 2)
    if qtype in ("difference", "ratio"):
        chosen.sort(key=lambda i: -column[i])  # "how much higher is A than B" needs A > B
    labels = [data.labels[i] for i in chosen]
    values = [value(i) for i in chosen]
    texts = [data.text(v) for v in values]
    query.update(labels=labels, values=values)
    if qtype == "compare":
        larger = values[0] > values[1]
        question = f"Is {what} {of} {labels[0]} greater than {of} {labels[1]}{of_series}?"
        return {"question": question, "answer": "Yes" if larger else "No", "answer_type": "boolean", **query}
    if qtype == "difference":
        expression, result = f"{texts[0]} - {texts[1]}", values[0] - values[1]
        question = f"How much higher is {what} {of} {labels[0]} than {of} {labels[1]}{of_series}?"
    elif qtype == "ratio":
        expression, result = f"{texts[0]} / {texts[1]}", values[0] / values[1]
        question = (f"What is the ratio of {what} {of} {labels[0]} to that {of} {labels[1]}{of_series}? "
                    "Round to two decimal places.")
    else:
        expression, result = " + ".join(texts), sum(values)
        scope = f"over all {data.category_noun}s" if len(chosen) == n else f"{of} " + " and ".join(labels)
        question = f"What is the sum of {what} {scope}{of_series}?"
    query["expression"] = expression
    return {"question": question, "answer": format_value(result, 2), "answer_type": "float", **query}

