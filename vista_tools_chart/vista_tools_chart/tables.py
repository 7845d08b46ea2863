"""Tables in the shared shape {"header": ["label", series...], "rows": [[label, value...]]}: reading model output
into one, matching labels, and comparing two of them."""

from __future__ import annotations

import re

from .ocr import fold_marks, parse_number


def normalise_label(label: object) -> str:
    """A label as compared: case, spaces and punctuation ignored ('North-East ' == 'northeast')."""
    return re.sub(r"[^0-9a-z%]+", "", fold_marks(str(label)).lower())


def cell(text: str) -> float | str | None:
    """A table cell from text: a number when it reads as one ('1,200', '45%', '$3.5'), else the text."""
    text = text.strip()
    if not text:
        return None
    number = parse_number(text)
    return number if number is not None else text


def parse_linearised(text: str) -> dict:
    """DePlot's (and UniChart's) linearised table: optional 'TITLE | ...' first, rows split by '<0x0A>' (or
    newlines), cells by '|'. Returns {"title", "header", "rows"} with numbers as numbers."""
    text = text.replace("<0x0A>", "\n").replace("&&&", "\n").replace("<s>", "").replace("</s>", "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    title = ""
    if lines and lines[0].upper().startswith("TITLE"):
        title = lines.pop(0).split("|", 1)[-1].strip()
    rows = [[c.strip() for c in line.split("|")] for line in lines]
    rows = [r for r in rows if any(r)]
    if not rows:
        return {"title": title, "header": ["label", "value"], "rows": []}
    width = max(len(r) for r in rows)
    header_is_text = len(rows) > 1 and all(parse_number(c) is None for c in rows[0][1:])
    if header_is_text:
        header, body = rows[0], rows[1:]
    else:
        header, body = ["label"] + [f"series {i}" for i in range(1, width)], rows
    header = (["label"] + [h or f"series {i}" for i, h in enumerate(header[1:], 1)])
    header += [f"series {i}" for i in range(len(header), width)]
    table_rows = [[r[0]] + [cell(c) for c in r[1:]] + [None] * (width - len(r)) for r in body]
    return {"title": title, "header": header[:width] if width > 1 else ["label", "value"], "rows": table_rows}


def values_within(truth: dict, table: dict, tolerance: float, absolute: float = 0.0) -> bool:
    """Whether `table` holds every value of `truth`, each within `tolerance` (relative) of the truth or within
    `absolute` of it. Rows match by label; series by name, or by position when the names differ but the counts agree
    (a chart without a legend)."""
    got = {normalise_label(r[0]): r[1:] for r in table.get("rows", [])}
    names = [normalise_label(n) for n in table.get("header", [])[1:]]
    truth_names = truth["header"][1:]
    columns = []
    for j, name in enumerate(truth_names):
        k = names.index(normalise_label(name)) if normalise_label(name) in names else None
        if k is None and len(names) == len(truth_names):
            k = j
        if k is None:
            return False
        columns.append(k)
    for row in truth["rows"]:
        values = got.get(normalise_label(row[0]))
        if values is None:
            return False
        for k, expected in zip(columns, row[1:]):
            value = values[k] if k < len(values) else None
            if not isinstance(value, (int, float)) \
                    or abs(value - expected) > max(tolerance * abs(expected), absolute) + 1e-9:
                return False
    return True


def read_right(truth: dict, table: dict, bars: bool = False) -> bool:
    """Whether a chart was read right: every category of `truth` found in `table` and every value within 5% of the
    truth, or, for `bars`, within 1% of the chart's largest value (a bar too short to read to 5%: a 5% error on a
    bar 1/20 of the tallest is a quarter of a pixel)."""
    largest = max((abs(v) for row in truth["rows"] for v in row[1:]), default=0.0)
    tolerance = 0.01 * largest if bars else 0.0
    return values_within(truth, table, 0.05, absolute=tolerance)
