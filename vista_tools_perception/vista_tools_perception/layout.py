"""Text layout from OCR boxes: rows, reading order, and tables rebuilt from where the words are.

A table is rebuilt from boxes alone, so it works for any renderer: boxes that overlap vertically form a row;
columns are the gaps in the horizontal projection of all boxes (text of one column overlaps in x, whatever its
alignment, and columns are separated by space no text crosses); a first row that is a single run of words over a
table of several columns is the table's title.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

HeaderMode = Literal["auto", "first_row", "none"]

# A cell that states a quantity or a time ("$1,605.00", "-3", "45%", "$2 per pound", "$3.04/kilogram", "9:00 A.M."):
# such a cell in the first row means the table has no header row, unless it is a year, which headers often are
# ("2019 | 2020").
_VALUE = re.compile(r"^[-+−]?[$€£¥]?\s?\d")
_YEAR = re.compile(r"^(1[89]|20)\d\d$")
# The lines of one cell stand less than this many ink heights apart (TabMWP's wrapped headers about 1.1, the rows
# of a pay stub's section over 1.4: measured on the development tables 759 and 6681).
WRAPPED_LINE_GAP = 1.3
# A title's centre lies within this share of the table's width from the table's centre.
TITLE_OFF_CENTRE = 0.15


@dataclass(frozen=True)
class TextLine:
    text: str
    bbox: tuple[int, int, int, int]
    score: float

    def as_dict(self) -> dict:
        return {"text": self.text, "bbox": list(self.bbox), "score": round(self.score, 4)}


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    title: str | None = None
    has_header: bool = True  # False: the first row is data and `header` is pandas' "Column 1", "Column 2", ...

    def as_dict(self) -> dict:
        return {"header": self.header, "rows": self.rows, "title": self.title, "has_header": self.has_header}

    def grid(self) -> list[list[str]]:
        """Every row as read, the header row included when the table has one."""
        return ([self.header] if self.has_header else []) + self.rows


def text_height(line: TextLine) -> int:
    return line.bbox[3] - line.bbox[1]


def group_rows(lines: Iterable[TextLine]) -> list[list[TextLine]]:
    """Lines grouped into rows, top to bottom, each row left to right. A line joins a row when it overlaps the row's
    typical vertical extent by at least half of the smaller height (so a tall neighbour cannot chain two rows)."""
    rows: list[list[TextLine]] = []
    for line in sorted(lines, key=lambda item: (item.bbox[1] + item.bbox[3]) / 2):
        if rows:
            row = rows[-1]
            top = sum(item.bbox[1] for item in row) / len(row)
            bottom = sum(item.bbox[3] for item in row) / len(row)
            overlap = min(bottom, line.bbox[3]) - max(top, line.bbox[1])
            if overlap >= 0.5 * min(bottom - top, text_height(line)):
                row.append(line)
                continue
        rows.append([line])
    return [sorted(row, key=lambda item: item.bbox[0]) for row in rows]


def _bounds(row: Sequence[TextLine]) -> tuple[float, float]:
    return sum(item.bbox[1] for item in row) / len(row), sum(item.bbox[3] for item in row) / len(row)


def join_wrapped_header(rows: list[list[TextLine]]) -> list[list[TextLine]]:
    """A header whose cells wrap onto a second line ('Number of' over 'boxes') as one row, each cell's lines kept top
    to bottom. The wrapped line sits much closer to the line above than rows sit to each other: under half the
    typical gap between rows and under a quarter of a text height. Only the header is joined: body rows of uneven
    height can come as close, and joining them would lose rows."""
    if len(rows) < 3:
        return rows
    gaps = [_bounds(below)[0] - _bounds(above)[1] for above, below in zip(rows, rows[1:])]
    typical = sorted(gaps)[len(gaps) // 2]
    top, bottom = _bounds(rows[0])
    if gaps[0] < 0.5 * typical and gaps[0] < 0.25 * (bottom - top):
        return [list(rows[0]) + list(rows[1])] + rows[2:]
    return rows


def reading_order(lines: Iterable[TextLine]) -> list[TextLine]:
    return [line for row in group_rows(lines) for line in row]


def _core(line: TextLine) -> tuple[float, float]:
    """The box's horizontal extent less the margin OCR engines pad boxes with (a few pixels, about a fifth of the
    text height), which would otherwise bridge the narrow gap between a long cell and the next column."""
    x0, _, x1, _ = line.bbox
    trim = min(0.2 * text_height(line), 0.25 * (x1 - x0))
    return x0 + trim, x1 - trim


def column_bands(rows: Sequence[Sequence[TextLine]]) -> list[tuple[float, float]]:
    """Horizontal extents of the columns: maximal runs of x covered by some box."""
    spans = sorted(_core(line) for row in rows for line in row)
    bands: list[list[float]] = []
    for x0, x1 in spans:
        if bands and x0 < bands[-1][1]:
            bands[-1][1] = max(bands[-1][1], x1)
        else:
            bands.append([x0, x1])
    return [(x0, x1) for x0, x1 in bands]


def _overlap(line: TextLine, band: tuple[float, float]) -> float:
    x0, x1 = _core(line)
    return min(x1, band[1]) - max(x0, band[0])


def _merge_split_cells(bands: list[tuple[float, float]],
                       rows: Sequence[Sequence[TextLine]]) -> list[tuple[float, float]]:
    """Join a band to its left neighbour when it is the tail of a few long cells, not a column: fewer than half the
    rows reach it, each of them also has text in the neighbour, and the space between is under a text height. (A
    stem-and-leaf row '1 | 4 6 7 9 9' read as boxes '4 6 7', '9', '9' would otherwise add two columns.)"""
    height = sorted(text_height(line) for row in rows for line in row)[sum(map(len, rows)) // 2] if rows else 0
    merged = list(bands)
    index = 1
    while index < len(merged):
        tail, left = _rows_reaching(merged[index], rows), _rows_reaching(merged[index - 1], rows)
        if len(tail) < len(rows) / 2 and tail <= left and merged[index][0] - merged[index - 1][1] < height:
            merged[index - 1:index + 1] = [(merged[index - 1][0], merged[index][1])]
        else:
            index += 1
    return merged


def _rows_reaching(band: tuple[float, float], rows: Sequence[Sequence[TextLine]]) -> set[int]:
    return {r for r, row in enumerate(rows) if any(_overlap(line, band) > 0 for line in row)}


def is_title(row: Sequence[TextLine], body: Sequence[Sequence[TextLine]]) -> bool:
    """A single run of text centred over a table of several columns. An engine may split a caption into boxes a
    word space apart (or touching, when its boxes are padded); header cells stand further apart, and a header row
    that leaves its first cell empty (a two-way table) is not centred."""
    bands = column_bands(body)
    if len(bands) < 2:
        return False
    height = max(text_height(line) for line in row)
    left = min(line.bbox[0] for line in row)
    right = max(line.bbox[2] for line in row)
    body_left = min(line.bbox[0] for cells in body for line in cells)
    body_right = max(line.bbox[2] for cells in body for line in cells)
    # boxes that meet only between the body's columns are its header's cells, however close (a table drawn with
    # no margin and tight padding: OCR's padded boxes of 'Name', 'Quiz 1', 'Quiz 2' touch), when there are three or
    # more (a caption's two boxes may meet between two columns by chance: 'Idaho crop prices', 'per cwt')
    ordered = sorted(row, key=lambda line: line.bbox[0])
    meets = [(a.bbox[2] + b.bbox[0]) / 2 for a, b in zip(ordered, ordered[1:])]
    if len(meets) >= 2 and all(not any(x0 < x < x1 for x0, x1 in bands) for x in meets):
        return False
    wider = max(right - left, body_right - body_left)
    centred = abs((left + right) - (body_left + body_right)) / 2 < TITLE_OFF_CENTRE * wider
    return centred and all(b.bbox[0] - a.bbox[2] < 0.8 * height for a, b in zip(row, row[1:]))


def title_rows(rows: Sequence[Sequence[TextLine]]) -> int:
    """How many of the first rows are the title: the first when it is one (`is_title`), and each next row that is
    one centred run of text too, a line's spacing below the last (a caption wrapped onto two lines)."""
    count = 0
    while count < len(rows) - 1 and is_title(rows[count], rows[count + 1:]):
        if count and (len(rows[count]) > 1 or min(line.bbox[1] for line in rows[count])
                      - max(line.bbox[3] for line in rows[count - 1]) > 0.6 * text_height(rows[count][0])):
            break
        count += 1
    return count


def first_row_is_header(first: Sequence[str], body: Sequence[Sequence[str]]) -> bool:
    """Guess whether a table's first row names its columns: not when it holds a value (a price, a count) in a
    column whose other cells are values too. A year over a column of values is still a header."""
    if not body:
        return True
    for column, cell in enumerate(first):
        below = [row[column] for row in body if column < len(row) and row[column]]
        if cell and _VALUE.match(cell) and not _YEAR.match(cell) and below and all(_VALUE.match(c) for c in below):
            return False
    return True


@dataclass(frozen=True)
class Rules:
    """The boundaries a table draws (ruling lines, changes of shading): y positions between rows, x positions
    between columns, in image pixels. Empty when the table draws none that way."""

    rows: tuple[float, ...] = ()
    columns: tuple[float, ...] = ()


NO_RULES = Rules()


def join_lines_of_cells(rows: list[list[TextLine]], rules: Sequence[float]) -> list[list[TextLine]]:
    """Rows of text with no row boundary in the space between them, and as close as the lines of a paragraph, are
    the lines of one row of cells, when the table draws a boundary between most of its rows (a pay stub draws them
    between its sections only, whose rows stand a row's padding apart); otherwise only a wrapped header is joined
    (`join_wrapped_header`), and not across a drawn boundary. The boxes are the text's ink (boundaries inside a box
    are strokes of its glyphs)."""
    if len(rows) < 2:
        return rows
    apart = [any(max(line.bbox[3] for line in above) - 1 <= y <= min(line.bbox[1] for line in below) + 1
                 for y in rules) for above, below in zip(rows, rows[1:])]
    if sum(apart) * 2 < len(apart) or not rules:
        return rows if apart[0] else join_wrapped_header(rows)
    height = sorted(text_height(line) for row in rows for line in row)[sum(map(len, rows)) // 2]
    joined = [list(rows[0])]
    for above, row, separated in zip(rows, rows[1:], apart):
        gap = min(line.bbox[1] for line in row) - max(line.bbox[3] for line in above)
        if separated or gap > WRAPPED_LINE_GAP * height:
            joined.append(list(row))
        else:
            joined[-1].extend(row)
    return joined


def _column_bands_from_rules(rows: Sequence[Sequence[TextLine]], rules: Sequence[float]) -> list[tuple[float, float]]:
    """Columns between the drawn vertical boundaries that no box crosses and that have text between them."""
    cores = [_core(line) for row in rows for line in row]
    real = sorted(x for x in rules if not any(x0 < x < x1 for x0, x1 in cores))
    edges = [float("-inf"), *real, float("inf")]
    bands = []
    for left, right in zip(edges, edges[1:]):
        inside = [(x0, x1) for x0, x1 in cores if left < (x0 + x1) / 2 < right]
        if inside:
            bands.append((max(left, min(x0 for x0, _ in inside)), min(right, max(x1 for _, x1 in inside))))
    return bands


def reconstruct_table(lines: Iterable[TextLine], header: HeaderMode = "auto", rules: Rules = NO_RULES) -> Table:
    """Rebuild a table from OCR lines: rows, columns, the title if there is one, and the header row. `rules` are
    the boundaries the table draws, where it draws them: rows between the same two are one row of cells, columns
    are what lies between vertical ones; without them, rows and columns come from the boxes alone."""
    rows = group_rows(lines)
    title = None
    titled = title_rows(rows)
    if titled:
        title = " ".join(line.text.strip() for row in rows[:titled] for line in row)
        rows = rows[titled:]
    rows = join_lines_of_cells(rows, rules.rows)
    bands = _column_bands_from_rules(rows, rules.columns) if rules.columns else []
    if len(bands) < 2:
        bands = _merge_split_cells(column_bands(rows), rows)
    grid: list[list[str]] = []
    for row in rows:
        cells: list[list[TextLine]] = [[] for _ in bands]
        for line in sorted(row, key=lambda item: (item.bbox[1], item.bbox[0])):
            cells[max(range(len(bands)), key=lambda i: _overlap(line, bands[i]))].append(line)
        grid.append([" ".join(item.text.strip() for item in _reading_order_in_cell(cell)) for cell in cells])
    if not grid:
        return Table(header=[], rows=[], title=title)
    has_header = header == "first_row" or (header == "auto" and first_row_is_header(grid[0], grid[1:]))
    if has_header:
        return Table(header=grid[0], rows=grid[1:], title=title)
    return Table(header=[f"Column {i + 1}" for i in range(len(bands))], rows=grid, title=title, has_header=False)


def _reading_order_in_cell(cell: Sequence[TextLine]) -> list[TextLine]:
    """A cell's boxes line by line, top to bottom, each line left to right."""
    return [line for row in group_rows(cell) for line in row]


_CURRENCY = re.compile(r"^[-+−]?\$")
_FIVE_FOR_DOLLAR = re.compile(r"^([-+−]?)5(?=\d)")
_FIVE_BEFORE_CENTS = re.compile(r"^[-+−]?5\d[\d,]*\.\d\d$")  # '546.00': a price whose '$' was read as 5


def repair_dollar_signs(table: Table) -> Table:
    """Undo a recogniser reading '$' as the digit 5 ('$275' as '5275'), judged by the column: in a column where most
    values carry a '$', or where every value is written with cents and starts with 5 followed by a digit (at least
    three of them: '546.00', '51.84', '57.24'), a value without '$' that starts with 5 and a digit gets its 5 back as
    '$'. (A true '$52' read as '552' comes back right too; a column of plain numbers, even all in the fifties, is
    never touched.)"""
    grid = table.grid()
    width = max((len(row) for row in grid), default=0)
    body_start = 1 if table.has_header else 0
    for column in range(width):
        cells = [row[column] for row in grid[body_start:] if column < len(row) and row[column]]
        dollars = sum(bool(_CURRENCY.match(cell)) for cell in cells)
        fives = sum(bool(_FIVE_BEFORE_CENTS.match(cell)) for cell in cells if not _CURRENCY.match(cell))
        mostly_dollars = dollars >= 2 and dollars * 2 >= len(cells)
        all_fives = fives >= 3 and dollars + fives == len(cells)
        if not (mostly_dollars or all_fives):
            continue
        for row in grid[body_start:]:
            if column < len(row) and not _CURRENCY.match(row[column]):
                row[column] = _FIVE_FOR_DOLLAR.sub(r"\1$", row[column], count=1)
    if table.has_header:
        return Table(header=grid[0], rows=grid[1:], title=table.title)
    return Table(header=table.header, rows=grid, title=table.title, has_header=False)
