"""Yes/no questions about a chart's elements answered from its table: is an element the minimum, the maximum, the
low or high median, less or greater than another (the questions FigureQA asks of bar charts and pies, its
templates 0-5). The element is a row of a one-series table (a bar or a wedge, named by its label)."""

from __future__ import annotations

from .tables import normalise_label

# FigureQA's question templates for bars and pies, by `question_id`
TEMPLATES = {0: "minimum", 1: "maximum", 2: "less", 3: "greater", 4: "low_median", 5: "high_median"}


def element_values(table: dict) -> dict[str, float]:
    """The table's rows as label -> value (its first series), numbers only; labels normalised."""
    values = {}
    for row in table.get("rows", []):
        if len(row) > 1 and isinstance(row[1], (int, float)):
            values.setdefault(normalise_label(row[0]), float(row[1]))
    return values


def answer(table: dict, question: str, first: str, second: str | None = None) -> bool | None:
    """The answer to `question` (a `TEMPLATES` value) about element `first` (and `second`), or None when the table
    does not hold the elements asked about."""
    values = element_values(table)
    a = values.get(normalise_label(first))
    if a is None:
        return None
    ordered = sorted(values.values())
    if question == "minimum":
        return a == ordered[0]
    if question == "maximum":
        return a == ordered[-1]
    if question == "low_median":
        return a == ordered[(len(ordered) - 1) // 2]
    if question == "high_median":
        return a == ordered[len(ordered) // 2]
    b = values.get(normalise_label(second or ""))
    if b is None:
        return None
    if question == "less":
        return a < b
    if question == "greater":
        return a > b
    raise ValueError(f"unknown question {question!r}: one of {', '.join(TEMPLATES.values())}")
