"""`read_table(image, backend)`: a table read from an image, OCR boxes mended by what the pixels show.

The steps, each for a failure seen on tables the reader was not developed on:
- boxes that hold no letter, digit or cell symbol (a speaker icon read as '))') are dropped, so they make no column;
- every box is re-spaced from the gaps between its glyphs (a stem-and-leaf row '0 3 4 5' read as '0345');
- a lone letter whose upper and lower case differ only in size ('x', 'X') takes the case its height says;
- 'Ib' (a capital I, which no unit starts with) becomes the pound sign 'lb' it always is in a table;
- the boxes become rows and columns (`layout.reconstruct_table`, on the boundaries the table draws when it draws
  them), the title recognised as a title;
- an image whose text does not form a table is an E4 (the policy asked to read a table where there is none).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from statistics import median

import numpy as np
from PIL import Image
from vista import ToolArgumentError

from .layout import (
    NO_RULES,
    HeaderMode,
    Rules,
    Table,
    TextLine,
    column_bands,
    group_rows,
    reconstruct_table,
    text_height,
    title_rows,
)
from .table_ink import Glyphs, as_array, boundaries, glyphs, respace, runs

# A box is kept when it holds a letter or digit or one of the symbols a cell can consist of ('?', '-', '$').
_CELL_TEXT = re.compile(r"[\w?$%*+\-−–—]")
# Letters whose lower and upper case have one shape: only the height tells them apart.
_SIZE_CASED = set("cosuvwxzCOSUVWXZ")
# Lower case is under this share of the digits' height (x-height over cap height is about 0.72 in sans faces).
_LOWER_CASE_HEIGHT = 0.86
_POUND = re.compile(r"\b(?:Ib|[Il]lb)(s?)\b")  # 'Ib', and 'Ilb' when the recogniser hedges
_DIGITS = re.compile(r"^\d+$")
_LEADING_JUNK = re.compile(r"^[^A-Za-z]*\s")  # what OCR made of a picture before the text, when not re-read
# Fewer than this share of a grid's cells holding text is not a table (axis ticks and labels of a chart fill
# a row and a column of a mostly empty grid; the sparsest real tables, stem-and-leaf plots, fill over 0.6).
MIN_FILLED = 0.5
# Nor is a grid where fewer than this share of the rows have two cells filled: a chart's ticks and labels stand one
# to a row. (The sparsest of the 1000 TabMWP tables, stem-and-leaf plots with empty leaves, have 0.56.)
MIN_FULL_ROWS = 0.4


# A run of ink at the start of a box whose colour is this far (of 255, per channel) from the text's is a picture
# beside the text (TabMWP puts a coloured speaker icon before some cells, which OCR reads as '1)' or '))').
ICON_COLOUR = 90

# Ink this many times the typical text height, in a box without letters, is a picture (the speaker icon is 1.7).
PICTURE_HEIGHT = 1.35

# A blank column at least this many text heights wide separates columns (a word space, even in a monospace face,
# is under 1.2; the narrowest columns matplotlib's auto-sized tables leave are about 2).
COLUMN_GAP = 1.5

# matplotlib's tightest auto-sized columns leave a third of a text height or less between cells (x / y tables,
# two-way counts: '11 25' read as one box), as narrow as a word space: a narrower blank column (at least this many
# text heights) separates columns only where every box it cuts leaves a number on its right, read alone.
NARROW_COLUMN_GAP = 0.25
# A blank column at least this many text heights wide (wider than a word space) separates columns where the text
# beside it lines up across the rows: cells starting at one x on its right (left-aligned) or ending at one x on its
# left (right-aligned), as tables that other code draws with tight padding do ('Hugo Aug 7', 'Jamal Dec 16').
ALIGNED_COLUMN_GAP = 0.6
# A blank column that cuts a box in one row only (a header row read as one line over cells read apart) must be this
# wide: a centred header's word space ('Quiz 3' over centred numbers) measured 0.64, a gap inside TabMWP's header
# 'Number of balloons' 0.74, column gaps 0.92-1.0 ('Distance (km) Population'; 'Student Yes' at 0.75 is lost).
ALIGNED_ONE_ROW_GAP = 0.8
# Lined up: within this many text heights (a letter's side bearing: 'D' and 'A' start a few pixels apart), in this
# share of the rows.
ALIGNED_WITHIN = 0.3
ALIGNED_ROWS = 0.75
# A range of x where this share of the rows (two at least) hold two boxes apart is a boundary between columns.
SPANNING_ROWS = 0.4
_NUMBER = re.compile(r"[-+−$€£]?\d[\d,.]*%?")

Reread = Callable[[Image.Image], str]


def _icon_end(ink: Glyphs) -> int:
    """Where a picture at the start of the box ends (box x), or 0 when the box starts with text."""
    text_colour = np.median(np.array(ink.colours[len(ink.colours) // 2:]), axis=0)
    end = 0
    for (_, stop), colour in zip(ink.spans, ink.colours):
        if np.abs(np.array(colour) - text_colour).max() <= ICON_COLOUR:
            break
        end = stop
    return end if end < ink.spans[-1][1] else 0


def split_at_rules(lines: Iterable[TextLine], rules: Sequence[float], image: Image.Image,
                   reread: Reread | None, drawn: bool = True) -> list[TextLine]:
    """Boxes that run across a vertical boundary drawn through them cut there: a detector that links neighbouring cells
    (EasyOCR's) reads the line between them as '|'. The text is cut at those bars when there are as many as
    boundaries crossed, else each piece is re-read where a recogniser is given, else the box is left whole."""
    cut = []
    pixels = as_array(image)
    for line in lines:
        x0, y0, x1, y1 = line.bbox
        # A boundary drawn through this box, not only below it: along all its height (a glyph's stroke at that x
        # runs along under three quarters of a box's height).
        inside = [x for x in sorted(rules) if x0 + 2 < x < x1 - 2
                  and (not drawn or boundaries(pixels, 1, (round(x) - 2, round(x) + 2), (y0, y1), coverage=0.9))]
        if not inside:
            cut.append(line)
            continue
        edges = [x0, *(round(x) for x in inside), x1]
        pieces = [piece.strip() for piece in line.text.split("|")]
        if len(pieces) != len(edges) - 1:
            if reread is None:
                cut.append(line)
                continue
            pieces = [reread(image.crop((left, y0, right, y1))).strip() for left, right in zip(edges, edges[1:])]
        cut += [TextLine(text, (left, y0, right, y1), line.score)
                for text, left, right in zip(pieces, edges, edges[1:]) if text]
    return cut


def mend_lines(lines: Iterable[TextLine], image: Image.Image, reread: Reread | None = None,
               rules: Rules = NO_RULES) -> list[TextLine]:
    """The boxes worth placing, shrunk to their ink (the table's vertical `rules` are not ink), their text mended
    from the pixels; `reread` recognises the text of a crop (a box less the picture before it)."""
    pixels = as_array(image)
    found = []
    for line in split_at_rules(lines, rules.columns, image, reread):
        if not _CELL_TEXT.search(line.text):
            continue
        x0, y0, x1, y1 = line.bbox
        ink = glyphs(pixels, line.bbox, rules.columns)
        if ink is None:
            continue
        text = unicodedata.normalize("NFKC", line.text).strip()  # the recogniser's full-width digits ('２') too
        icon = _icon_end(ink)
        if icon:
            x0 += icon
            ink = glyphs(pixels, (x0, y0, x1, y1), rules.columns)
            text = reread(image.crop((x0, y0, x1, y1))).strip() if reread else _LEADING_JUNK.sub("", text)
            if ink is None or not _CELL_TEXT.search(text):
                continue
        tight = (x0 + ink.spans[0][0], y0 + ink.top, x0 + ink.spans[-1][1], y0 + ink.bottom)
        found.append((TextLine(text, tight, line.score), ink))
    # A box of no letters whose ink stands far taller than the text's is a picture OCR read as '1)' or '))'.
    typical = median(ink.height for _, ink in found) if found else 0
    found = [(line, ink) for line, ink in found
             if re.search(r"[A-Za-z]", line.text) or ink.height <= PICTURE_HEIGHT * typical]
    digit_heights = [ink.height for line, ink in found if _DIGITS.match(line.text)]
    digit_height = median(digit_heights) if digit_heights else None
    mended = []
    for line, ink in found:
        text = respace(line.text, ink)
        if text in _SIZE_CASED and digit_height:
            text = text.lower() if ink.height < _LOWER_CASE_HEIGHT * digit_height else text.upper()
        mended.append(TextLine(_POUND.sub(r"lb\1", text), line.bbox, line.score))
    return mended


def drawn_rules(lines: list[TextLine], image: Image.Image) -> Rules:
    """The boundaries the table draws across the extent of its text."""
    if not lines:
        return Rules()
    pixels = as_array(image)
    x0, y0 = min(line.bbox[0] for line in lines), min(line.bbox[1] for line in lines)
    x1, y1 = max(line.bbox[2] for line in lines), max(line.bbox[3] for line in lines)
    return Rules(rows=tuple(boundaries(pixels, 0, (y0, y1), (x0, x1))),
                 columns=tuple(boundaries(pixels, 1, (x0, x1), (y0, y1))))


def blank_columns(body: Sequence[TextLine], pixels: np.ndarray) -> list[tuple[float, float]]:
    """The blank columns of the table's body, x ranges that no glyph of any row covers between text on both sides:
    each as its middle and its width in text heights."""
    if not body:
        return []
    covered = np.zeros(pixels.shape[1] + 1, dtype=bool)
    for line in body:
        ink = glyphs(pixels, line.bbox)
        for start, stop in ink.spans if ink else ():
            covered[line.bbox[0] + start:line.bbox[0] + stop] = True
    height = median(text_height(line) for line in body)
    left, right = min(line.bbox[0] for line in body), max(line.bbox[2] for line in body)
    return [(left + (start + stop) / 2, (stop - start) / height) for start, stop in runs(~covered[left:right])]


def numeric_gaps(body: Sequence[TextLine], rows: int, image: Image.Image, pixels: np.ndarray, reread: Reread,
                 narrow: Sequence[float]) -> list[float]:
    """Of the `narrow` blank columns (under COLUMN_GAP, at least NARROW_COLUMN_GAP text heights), those that cut
    boxes in most of the table's rows, each leaving a number on its right when read alone (a count beside a name,
    y beside x), the top one excepted (a header)."""
    found = []
    for x in narrow:
        crossing = [line for line in body if line.bbox[0] + 2 < x < line.bbox[2] - 2]
        if len(crossing) < max(2, 0.6 * rows) or not all(_widest_gap_at(pixels, line, x) for line in crossing):
            continue
        pieces = split_at_rules(crossing, [x], image, reread, drawn=False)
        right = sorted((piece for piece in pieces if piece.bbox[0] >= x - 1), key=lambda piece: piece.bbox[1])
        # the header's cell above a column of numbers is a word ('Rainy Sunny' over '9 9')
        if len(right) == len(crossing) and all(_NUMBER.fullmatch(piece.text.strip()) for piece in right[1:]) \
                and len(right) >= 2:
            found.append(x)
    return found


def aligned_gaps(body: Sequence[TextLine], pixels: np.ndarray, blanks: Sequence[tuple[float, float]]) -> list[float]:
    """Of the `blanks` (middle, width in text heights) at least ALIGNED_COLUMN_GAP wide, those where the text
    beside them lines up across the rows: the ink right of the blank starts at one x, or the ink left of it ends at
    one x, in ALIGNED_ROWS of the rows (a column of left- or right-aligned cells)."""
    if not body:
        return []
    height = median(text_height(line) for line in body)
    rows = group_rows(body)
    ink = {id(line): [(line.bbox[0] + a, line.bbox[0] + b) for a, b in (found.spans if found else ())]
           for line in body for found in [glyphs(pixels, line.bbox)]}
    spans = [[span for line in row for span in ink[id(line)]] for row in rows]
    found = []
    for middle, width in blanks:
        if width < ALIGNED_COLUMN_GAP:
            continue
        start, stop = middle - width * height / 2, middle + width * height / 2
        starts = [min((a for a, _ in row if a >= stop - 1 and a <= stop + 2 * height), default=None) for row in spans]
        ends = [max((b for _, b in row if b <= start + 1 and b >= start - 2 * height), default=None) for row in spans]
        # only boxes whose text runs across the blank are cut (its cells read as one line); where none is, the
        # columns are apart already. A word space in one box only (a header cell 'Quiz 3' over a column of short
        # centred values, which line up) is no column boundary: a blank that cuts one row's box must be wider
        cut_rows = sum(any(_ink_both_sides(ink[id(line)], start, stop, 0.5 * height) for line in row)
                       for row in rows)
        if cut_rows == 0 or cut_rows == 1 and width < ALIGNED_ONE_ROW_GAP:
            continue
        # and the text OCR read has a space there: thin letters the ink finder misses ('ll' in a light face) leave
        # a blank inside a word ('Hours bil|led')
        if not all(_space_near(line, middle) for line in body if line.bbox[0] + 2 < middle < line.bbox[2] - 2):
            continue
        for edges in (starts, ends):
            present = [e for e in edges if e is not None]
            if len(present) < 2:
                continue
            edge = median(present)
            if sum(abs(e - edge) <= ALIGNED_WITHIN * height for e in present) >= ALIGNED_ROWS * len(rows):
                found.append(middle)
                break
    return found


def _space_near(line: TextLine, x: float) -> bool:
    """Whether the box's text has a space within two characters of where `x` falls, characters taken as equally
    wide."""
    text = line.text.strip()
    at = round((x - line.bbox[0]) / max(line.bbox[2] - line.bbox[0], 1) * len(text))
    return " " in text[max(0, at - 2):at + 2]


def _ink_both_sides(spans: Sequence[tuple[float, float]], start: float, stop: float, least: float) -> bool:
    """Whether a box has at least `least` pixels of ink columns on each side of a blank (a tail of a letter above,
    which the box of a cell below takes in, is not text)."""
    left = sum(b - a for a, b in spans if b <= start + 1)
    right = sum(b - a for a, b in spans if a >= stop - 1)
    return left >= least and right >= least


def _widest_gap_at(pixels: np.ndarray, line: TextLine, x: float) -> bool:
    """Whether the blank at `x` inside a box is clearly its widest: two columns' cells read as one box have one
    gap between them, while the spaced leaves of a stem-and-leaf row ('1 1 2 2') have several alike."""
    ink = glyphs(pixels, line.bbox)
    if ink is None or len(ink.spans) < 2:
        return False
    at = [a[1] + line.bbox[0] <= x <= b[0] + line.bbox[0] for a, b in zip(ink.spans, ink.spans[1:])]
    here = [width for width, inside in zip(ink.gaps(), at) if inside]
    others = [width for width, inside in zip(ink.gaps(), at) if not inside]
    return bool(here) and all(here[0] >= 1.3 * width for width in others)


def _header_cuts(top: TextLine, gaps: Sequence[float], pixels: np.ndarray) -> list[float]:
    """Where to cut a header row read as one box: at its word spaces nearest the columns' gaps it crosses."""
    ink = glyphs(pixels, top.bbox)
    spaces = [top.bbox[0] + (a[1] + b[0]) / 2 for a, b in zip(ink.spans, ink.spans[1:])
              if b[0] - a[1] >= 2] if ink else []
    if not spaces:
        return []
    return [min(spaces, key=lambda s: abs(s - x)) for x in gaps if top.bbox[0] < x < top.bbox[2]]


def _spaces_at(line: TextLine, gaps: Sequence[float], pixels: np.ndarray) -> bool:
    """Whether a box has a space at least half a text height wide (between words, not letters) within half a text
    height of every gap."""
    ink = glyphs(pixels, line.bbox)
    height = text_height(line)
    spaces = [(line.bbox[0] + a[1], line.bbox[0] + b[0]) for a, b in zip(ink.spans, ink.spans[1:])
              if b[0] - a[1] >= 0.5 * height] if ink else []
    return all(any(a - 0.5 * height <= x <= b + 0.5 * height for a, b in spaces) for x in gaps)


def spanning_cuts(rows: Sequence[Sequence[TextLine]], pixels: np.ndarray) -> dict[int, list[float]]:
    """Where to cut boxes that run across a boundary between columns which other rows draw: x ranges where at least
    SPANNING_ROWS of the rows (and two) hold two boxes apart. A box of another row that runs across such a range is
    two cells read as one line ('Pencil case $29.40' where 'Notebook' and '$52.16' stand apart; a header
    'Quiz 1 Quiz 2 Quiz 3' over numbers read one by one; 'Jan 24 10:30'). It is cut at one of its spaces within the
    range (widened by a third of a text height): the one whose pieces line up best (left, right or centred) with the
    cells either side in the rows that part there ('Quiz 1 | Quiz 2' over centred numbers, not 'Quiz | 1 Quiz 2',
    whose word space is as wide), and only where each piece lies over those cells: a wide header's word space over
    the gap before a column of right-aligned numbers ('Number of | balloons') has no cell of the next column under
    its second word. Returns the cuts by the box's id."""
    if len(rows) < 3:
        return {}
    lines = [line for row in rows for line in row]
    height = median(text_height(line) for line in lines)
    left, right = min(line.bbox[0] for line in lines), max(line.bbox[2] for line in lines)
    parted = np.zeros(right - left + 1, dtype=int)
    for row in rows:
        for a, b in zip(row, row[1:]):
            if b.bbox[0] > a.bbox[2]:
                parted[a.bbox[2] - left:b.bbox[0] - left] += 1
    ranges = [(start + left, stop + left) for start, stop in runs(parted >= max(2, SPANNING_ROWS * len(rows)))]
    cuts: dict[int, list[float]] = {}
    for k, (start, stop) in enumerate(ranges):
        # the boxes either side of the range in the rows that part there
        before, after = [], []
        for row in rows:
            for a, b in zip(row, row[1:]):
                if a.bbox[2] <= start and b.bbox[0] >= stop:
                    before.append(a.bbox)
                    after.append(b.bbox)
        if not before:
            continue
        for line in lines:
            x0, _, x1, _ = line.bbox
            if not (x0 < start and x1 > stop):
                continue
            ink = glyphs(pixels, line.bbox)
            if ink is None:
                continue
            spans = [(x0 + a, x0 + b) for a, b in ink.spans]
            # a piece ends where the box crosses the next range (or the one before), if it does
            low = max([b for a, b in ranges[:k] if x0 < a and b < start] or [spans[0][0]])
            high = min([a for a, b in ranges[k + 1:] if a > stop and b < x1] or [spans[-1][1]])
            reach = (start - height / 3, stop + height / 3)
            spaces = [(a[1], b[0]) for a, b in zip(spans, spans[1:])
                      if b[0] - a[1] >= max(2, 0.15 * height) and a[1] < reach[1] and b[0] > reach[0]]
            # a space between words, not between letters: half the widest in reach or more
            widest = max((b - a for a, b in spaces), default=0)
            best = None
            for gap in [g for g in spaces if g[1] - g[0] >= 0.5 * widest]:
                piece_left = _ink_extent(spans, low, gap[0])
                piece_right = _ink_extent(spans, gap[1], high)
                if piece_left is None or piece_right is None \
                        or sum(_overlaps(piece_left, box) for box in before) < 0.5 * len(before) \
                        or sum(_overlaps(piece_right, box) for box in after) < 0.5 * len(after):
                    continue
                misfit = _misalignment(piece_left, before) + _misalignment(piece_right, after) - 0.1 * (gap[1] - gap[0])
                if best is None or misfit < best[0]:
                    best = (misfit, (gap[0] + gap[1]) / 2)
            if best is not None:
                cuts.setdefault(id(line), []).append(best[1])
    return cuts


def _ink_extent(spans: Sequence[tuple[int, int]], low: float, high: float) -> tuple[int, int] | None:
    """The extent of the ink spans that lie between `low` and `high`."""
    inside = [(a, b) for a, b in spans if a >= low - 1 and b <= high + 1]
    return (inside[0][0], inside[-1][1]) if inside else None


def _misalignment(piece: tuple[int, int], boxes: Sequence[tuple[int, int, int, int]]) -> float:
    """How far a piece of text stands from lining up with a column's cells: left edges, right edges or middles,
    whichever line up best (a column is aligned one of the three ways)."""
    lefts, rights = median(box[0] for box in boxes), median(box[2] for box in boxes)
    return min(abs(piece[0] - lefts), abs(piece[1] - rights), abs((piece[0] + piece[1]) / 2 - (lefts + rights) / 2))


def _overlaps(piece: tuple[float, float], box: tuple[int, int, int, int]) -> bool:
    return min(piece[1], box[2]) > max(piece[0], box[0])


def table_from_lines(lines: Iterable[TextLine], image: Image.Image, header: HeaderMode = "auto",
                     name: str = "image", reread: Reread | None = None) -> Table:
    lines = list(lines)
    rules = drawn_rules(lines, image)
    mended = mend_lines(lines, image, reread, rules)
    rows = group_rows(mended)
    if reread is not None and len(rows) >= 3:
        # Boxes that run across a blank column of the table are two cells: each read alone. A title is left out:
        # it spans the columns.
        titled = max(title_rows(rows), int(len(rows[0]) == 1))
        body = [line for row in rows[titled:] for line in row]
        pixels = as_array(image)
        blanks = blank_columns(body, pixels)
        gaps = [x for x, width in blanks if width >= COLUMN_GAP]
        gaps += aligned_gaps(body, pixels, [(x, width) for x, width in blanks if width < COLUMN_GAP])
        gaps += numeric_gaps(body, len(rows) - titled, image, pixels, reread,
                             [x for x, width in blanks if NARROW_COLUMN_GAP <= width < COLUMN_GAP and x not in gaps])
        crossing = [line for line in body if any(line.bbox[0] < x < line.bbox[2] for x in gaps)]
        top = rows[0][0]
        left, right = min(line.bbox[0] for line in body), max(line.bbox[2] for line in body)
        flush = abs(top.bbox[0] - left) <= text_height(top) and abs(right - top.bbox[2]) <= text_height(top)
        # between the body's columns: its blank columns, or where its cells are boxes apart, the middles between them
        bands = column_bands(group_rows(body))
        spanned = [x for x in gaps or [(a[1] + b[0]) / 2 for a, b in zip(bands, bands[1:])]
                   if top.bbox[0] < x < top.bbox[2]]
        if titled == 1 and len(rows[0]) == 1 and spanned and (
                top.bbox[0] - left > 2 * max(right - top.bbox[2], 0) + text_height(top)
                or flush and _spaces_at(top, spanned, pixels)):
            # one box flush with the right of the table, far from its left, is the header's cells beside an empty
            # corner (a two-way table's), not a title (centred); so is one flush with both sides of the table with
            # a word space at each of its column gaps (a header row OCR read as one line; a title as wide as the
            # table has its spaces elsewhere)
            mended = [line for line in mended if line is not top] + split_at_rules(
                [top], _header_cuts(top, gaps, pixels), image, reread, drawn=False)
        if crossing:
            pieces = split_at_rules(crossing, gaps, image, reread, drawn=False)
            mended = [line for line in mended if line not in crossing] + mend_lines(pieces, image, reread, rules)
        # boxes that hold two columns' cells where other rows hold them apart: cut where those rows part them
        rows = group_rows(mended)
        cuts = spanning_cuts(rows[titled:], pixels)
        if cuts:
            spanning = [line for line in mended if id(line) in cuts]
            pieces = [piece for line in spanning
                      for piece in split_at_rules([line], cuts[id(line)], image, reread, drawn=False)]
            mended = [line for line in mended if id(line) not in cuts] + mend_lines(pieces, image, reread, rules)
    table = reconstruct_table(mended, header=header, rules=drawn_rules(mended, image))
    grid = [row for row in table.grid() if row]
    if not grid:
        raise ToolArgumentError(f"no text found in {name}, so no table to read; give the image that shows the table",
                                argument="image")
    width = max(len(row) for row in grid)
    filled = sum(bool(cell.strip()) for row in grid for cell in row) / (width * len(grid))
    full_rows = sum(sum(bool(cell.strip()) for cell in row) >= 2 for row in grid) / len(grid)
    if len(grid) < 2 or width < 2 or filled < MIN_FILLED or full_rows < MIN_FULL_ROWS:
        raise ToolArgumentError(
            f"{name} does not hold a table: its text forms {len(grid)} row(s) x {width} column(s), "
            f"{filled:.0%} of the cells filled and {full_rows:.0%} of the rows with two cells or more (a table "
            "has at least 2 x 2, mostly filled); read its text with ocr_read_text instead, or give the image that "
            "shows the table", argument="image")
    return table
