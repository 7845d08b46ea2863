"""table_mwp: TabMWP-style math word problems over a rendered table image.

Two kinds of table: counts per person ("Books read": name | number) and price lists (item | price). Question types:
counts -- difference, sum of two, sum of all, mean, median, range, who has the most/least (text); prices -- cost of
two items, price difference, cost of several of one item, money left over after a purchase, whether a budget is
enough (yes/no). Difficulty: 0 = 3-4 rows, one-step sums and differences; 1 = 4-6 rows, adds mean, median, range,
extremum and multiplication; 2 = 5-8 rows, cents in prices, multi-step purchases (change, budget checks) and sums
over the whole table. Fonts, header colours and sizes vary by seed.
Metadata: table (title, header, rows with numbers as numbers; `unit` "$" for prices) and query (type, expression,
rows: the indices of the table rows the answer is computed from).
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw
from vista import Example, OracleSolution, OracleStep

from ._base import ProceduralConfig, ProceduralTask, calculated, choose_from, format_value
from ._render import FONTS, pil_font

COUNT_QUESTIONS = ("difference", "sum_two", "sum_all", "mean", "median", "range", "argmax", "argmin")
PRICE_QUESTIONS = ("cost_two", "price_difference", "cost_many", "change", "enough")
_QUESTIONS_BY_DIFFICULTY = {
    0: ("difference", "sum_two", "cost_two", "price_difference"),
    1: ("difference", "sum_two", "mean", "median", "range", "argmax", "argmin", "cost_two", "price_difference",
        "cost_many"),
    2: ("sum_all", "mean", "median", "range", "argmax", "argmin", "cost_many", "change", "enough"),
}
_NAMES = ["Ava", "Ben", "Carlos", "Dana", "Elif", "Farah", "Gus", "Hana", "Ivan", "Jada", "Kofi", "Lena", "Mateo",
          "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq"]
# (title, column header, verb ("how many <noun> did X <verb>"), its past tense, noun)
_COUNT_TOPICS = (
    ("Books read this month", "Number of books", "read", "read", "books"),
    ("Laps swum", "Laps", "swim", "swam", "laps"),
    ("Shells collected at the beach", "Number of shells", "collect", "collected", "shells"),
    ("Cookies baked for the fair", "Cookies", "bake", "baked", "cookies"),
    ("Kilometres cycled", "Kilometres", "cycle", "cycled", "kilometres"),
)
# (title, [(item singular, plural, lowest price in cents, highest)])
_PRICE_TOPICS = (
    ("School supplies", [("notebook", "notebooks", 80, 450), ("pencil case", "pencil cases", 200, 900),
                         ("ruler", "rulers", 50, 300), ("glue stick", "glue sticks", 60, 250),
                         ("box of crayons", "boxes of crayons", 150, 600), ("eraser", "erasers", 30, 150),
                         ("backpack", "backpacks", 1500, 4500), ("calculator", "calculators", 800, 2500)]),
    ("Bakery menu", [("croissant", "croissants", 120, 350), ("muffin", "muffins", 150, 400),
                     ("loaf of bread", "loaves of bread", 250, 600), ("bagel", "bagels", 90, 250),
                     ("slice of cake", "slices of cake", 300, 650), ("cookie", "cookies", 50, 200),
                     ("fruit tart", "fruit tarts", 350, 800)]),
    ("Toy store prices", [("yo-yo", "yo-yos", 150, 500), ("puzzle", "puzzles", 600, 2000),
                          ("kite", "kites", 900, 2500), ("toy car", "toy cars", 300, 1200),
                          ("board game", "board games", 1500, 4000), ("jump rope", "jump ropes", 250, 800),
                          ("teddy bear", "teddy bears", 800, 2200)]),
)
_HEADER_FILLS = ("#dbe8f6", "#e6f2dc", "#f7e3d0", "#ece2f5", "#e8e8e8")


@dataclass
class TableMWPConfig(ProceduralConfig):
    """`difficulty` (see the module docstring); `question_types` restricts the questions, None = all the
    difficulty allows."""

    question_types: tuple[str, ...] | None = None

    def validate(self) -> None:
        super().validate()
        if self.question_types is not None:
            choose_from("question_types", self.question_types, COUNT_QUESTIONS + PRICE_QUESTIONS)


class TableMWPTask(ProceduralTask):
    name = "table_mwp"
    category = "math"
    description = "TabMWP-style arithmetic word problems over a rendered table."
    Config = TableMWPConfig
    recommended_tools = ("ocr_read_table", "calculator")

    def _generate(self, rng: random.Random, config: TableMWPConfig) -> dict[str, Any]:
        qtype = rng.choice(config.question_types or _QUESTIONS_BY_DIFFICULTY[config.difficulty])
        n_rows = rng.randint(*((3, 4), (4, 6), (5, 8))[config.difficulty])
        if qtype in COUNT_QUESTIONS:
            table, query = _count_problem(rng, qtype, n_rows, config.difficulty)
        else:
            table, query = _price_problem(rng, qtype, n_rows, config.difficulty)
        question, answer, answer_type = query.pop("question"), query.pop("answer"), query.pop("answer_type")
        return {"images": [_render_table(rng, table)], "question": question, "answer": answer,
                "answer_type": answer_type, "metadata": {"table": table, "query": query}}

    def oracle(self, example: Example) -> OracleSolution:
        query = example.metadata["query"]
        steps = [OracleStep(think="Read the table into rows and columns.", tool="ocr_read_table",
                            arguments={"image": "image_0"})]
        # Evidence: the rows the answer is computed from, as `ocr_read_table` prints them, and the calculation.
        table = example.metadata["table"]
        unit = table.get("unit")
        rows = [table["rows"][i] for i in query["rows"]]
        evidence = [f"{name} | {unit}{value:.2f}" if unit else f"{name} | {value}" for name, value in rows]
        if "expression" in query:
            steps.append(OracleStep(think=f"{query['reading']} Compute {query['expression']}.", tool="calculator",
                                    arguments={"expression": query["expression"]}))
            evidence += calculated(query["expression"])
        return OracleSolution(steps=steps, answer=str(example.answer), rationale=query["rationale"],
                              evidence=evidence)


def _count_problem(rng: random.Random, qtype: str, n_rows: int, difficulty: int) -> tuple[dict, dict]:
    title, column, verb, past, noun = rng.choice(_COUNT_TOPICS)
    if qtype == "median" and n_rows % 2 == 0:
        n_rows += 1  # an odd count keeps the median a value in the table
    names = rng.sample(_NAMES, n_rows)
    high = (20, 60, 99)[difficulty]
    counts = rng.sample(range(1, high + 1), n_rows)
    table = {"title": title, "header": ["Name", column], "rows": [[n, c] for n, c in zip(names, counts)]}
    reading_all = "The table gives " + ", ".join(f"{n}: {c}" for n, c in zip(names, counts)) + "."
    a, b = sorted(rng.sample(range(n_rows), 2), key=lambda i: -counts[i])
    query: dict[str, Any] = {"type": qtype, "rows": sorted((a, b)) if qtype in ("difference", "sum_two")
                             else list(range(n_rows))}
    if qtype == "difference":
        query.update(question=f"How many more {noun} did {names[a]} {verb} than {names[b]}?",
                     expression=f"{counts[a]} - {counts[b]}", answer=str(counts[a] - counts[b]),
                     reading=f"{names[a]}: {counts[a]}, {names[b]}: {counts[b]}.")
    elif qtype == "sum_two":
        query.update(question=f"How many {noun} did {names[a]} and {names[b]} {verb} in all?",
                     expression=f"{counts[a]} + {counts[b]}", answer=str(counts[a] + counts[b]),
                     reading=f"{names[a]}: {counts[a]}, {names[b]}: {counts[b]}.")
    elif qtype == "sum_all":
        query.update(question=f"How many {noun} did they {verb} in all?", expression=" + ".join(map(str, counts)),
                     answer=str(sum(counts)), reading=reading_all)
    elif qtype == "mean":
        mean = statistics.fmean(counts)
        query.update(question=f"What is the mean of the numbers of {noun}? Round to two decimal places if needed.",
                     expression=f"({' + '.join(map(str, counts))}) / {n_rows}", answer=format_value(mean, 2),
                     reading=reading_all)
    elif qtype == "median":
        query.update(question=f"What is the median of the numbers of {noun}?",
                     answer=str(int(statistics.median(counts))), reading=reading_all)
    elif qtype == "range":
        query.update(question=f"What is the range of the numbers of {noun}?",
                     expression=f"{max(counts)} - {min(counts)}", answer=str(max(counts) - min(counts)),
                     reading=reading_all)
    else:
        pick = max if qtype == "argmax" else min
        best = pick(range(n_rows), key=lambda i: counts[i])
        word = "the most" if qtype == "argmax" else "the fewest"
        query.update(question=f"Who {past} {word} {noun}?", answer=names[best], answer_type="text",
                     reading=reading_all)
    query.setdefault("answer_type", "float")
    query["rationale"] = _rationale(query, sorted(counts))
    return table, query


def _price_problem(rng: random.Random, qtype: str, n_rows: int, difficulty: int) -> tuple[dict, dict]:
    title, pool = rng.choice(_PRICE_TOPICS)
    items = rng.sample(pool, min(n_rows, len(pool)))
    # Easy prices are whole quarters of a dollar; hard ones any cents.
    step = 25 if difficulty < 2 else 1
    cents = []
    for _, _, low, high in items:
        choices = [c for c in range(low - low % step + step, high + 1, step) if c not in cents]
        cents.append(rng.choice(choices))
    table = {"title": title, "header": ["Item", "Price"], "unit": "$",
             "rows": [[item[0], c / 100] for item, c in zip(items, cents)]}
    person = rng.choice(_NAMES)
    a, b = sorted(rng.sample(range(len(items)), 2), key=lambda i: -cents[i])
    price = [f"{c / 100:.2f}" for c in cents]
    reading = f"A {items[a][0]} costs ${price[a]} and a {items[b][0]} costs ${price[b]}."
    query: dict[str, Any] = {"type": qtype, "reading": reading, "answer_type": "float",
                             "rows": [a] if qtype == "cost_many" else sorted((a, b))}
    if qtype == "cost_two":
        query.update(question=f"How much money does {person} need to buy a {items[a][0]} and a {items[b][0]}? "
                              "(Unit: $)", expression=f"{price[a]} + {price[b]}", total=cents[a] + cents[b])
    elif qtype == "price_difference":
        query.update(question=f"How much more does a {items[a][0]} cost than a {items[b][0]}? (Unit: $)",
                     expression=f"{price[a]} - {price[b]}", total=cents[a] - cents[b])
    elif qtype == "cost_many":
        k = rng.randint(2, 5 + 2 * difficulty)
        query.update(question=f"How much would it cost to buy {k} {items[a][1]}? (Unit: $)",
                     expression=f"{k} * {price[a]}", total=k * cents[a],
                     reading=f"A {items[a][0]} costs ${price[a]}.")
    else:
        k = rng.randint(2, 3)
        spend = cents[a] + k * cents[b]
        expression = f"{price[a]} + {k} * {price[b]}"
        if qtype == "change":
            budget = (spend // 500 + 1 + rng.randint(0, 2)) * 500
            query.update(question=f"{person} has ${budget / 100:.2f}. How much money will {person} have left after "
                                  f"buying a {items[a][0]} and {k} {items[b][1]}? (Unit: $)",
                         expression=f"{budget / 100:.2f} - ({expression})", total=budget - spend)
        else:
            budget = spend + rng.choice((-1, 1)) * rng.randint(1, max(1, spend // 10)) * (5 if step == 25 else 1)
            enough = budget >= spend
            query.update(question=f"{person} has ${budget / 100:.2f}. Does {person} have enough money to buy "
                                  f"a {items[a][0]} and {k} {items[b][1]}?",
                         expression=expression, total=spend, answer="Yes" if enough else "No",
                         answer_type="boolean", budget=budget / 100)
    query.setdefault("answer", format_value(query["total"] / 100, 2))
    query["rationale"] = _rationale(query, None)
    return table, query


def _rationale(query: dict[str, Any], sorted_counts: list[int] | None) -> str:
    kind = query["type"]
    if kind == "median":
        return f"Sorted, the values are {', '.join(map(str, sorted_counts))}; the middle one is {query['answer']}."
    if kind in ("argmax", "argmin"):
        return f"{query['reading']} The {'largest' if kind == 'argmax' else 'smallest'} belongs to {query['answer']}."
    if kind == "enough":
        spend = format_value(query["total"] / 100, 2)
        return (f"{query['reading']} The purchase costs {query['expression']} = ${spend}, against a budget of "
                f"${query['budget']:.2f}, so the answer is {query['answer']}.")
    return f"{query['reading']} {query['expression']} = {query['answer']}."


def _render_table(rng: random.Random, table: dict[str, Any]) -> Image.Image:
    """Draw the table TabMWP-style: a title bar spanning the columns, a shaded header row, ruled cells."""
    family = rng.choice(sorted(FONTS))
    size = rng.choice((14, 15, 16))
    font, bold = pil_font(family, size), pil_font(family, size, bold=True)
    fill = rng.choice(_HEADER_FILLS)
    unit = table.get("unit")
    cells = [[str(c) for c in table["header"]]] + [
        [str(row[0]), f"{unit}{row[1]:.2f}" if unit else str(row[1])] for row in table["rows"]]
    pad_x, pad_y = 12, 7
    line_height = size + 2 * pad_y + 2
    widths = [max(int(bold.getlength(row[c])) for row in cells) + 2 * pad_x for c in range(2)]
    title_width = int(bold.getlength(table["title"])) + 2 * pad_x
    if title_width > sum(widths):
        widths[0] += title_width - sum(widths)
    margin = 10
    width = sum(widths) + 2 * margin
    height = line_height * (len(cells) + 1) + 2 * margin
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    top = margin
    draw.rectangle([margin, top, width - margin, top + line_height], fill=fill, outline="#555555")
    draw.text((width / 2, top + line_height / 2), table["title"], font=bold, fill="black", anchor="mm")
    for r, row in enumerate(cells):
        y0 = top + line_height * (r + 1)
        x0 = margin
        for c, text in enumerate(row):
            x1 = x0 + widths[c]
            draw.rectangle([x0, y0, x1, y0 + line_height], fill=fill if r == 0 else "white", outline="#555555")
            draw.text((x0 + pad_x, y0 + line_height / 2), text, font=bold if r == 0 else font, fill="black",
                      anchor="lm")
            x0 = x1
    return image
