"""How well a rebuilt table matches a reference given as pandas-style columns (TabMWP's `table_for_pd`)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .layout import Table

_UNNAMED = re.compile(r"^Column \d+$")


def reference_grid(columns: Mapping[str, Sequence[str]]) -> tuple[list[list[str]], bool]:
    """The reference as printed, as rows (header row first when it has one), and whether it has a header row.
    pandas names the columns of a header-less table "Column 1", "Column 2", ... A stem-and-leaf plot prints its
    leaves apart ('2 4 4') where `table_for_pd` writes them as a list ('2, 4, 4'): the leaves are compared as
    printed."""
    names = list(columns)
    has_header = not all(_UNNAMED.match(name) for name in names)
    stem_and_leaf = [name.strip() for name in names] == ["Stem", "Leaf"]
    body = [[cell.replace(", ", " ") if stem_and_leaf and c == 1 else cell for c, cell in enumerate(row)]
            for row in zip(*(columns[name] for name in names))]
    return ([names] if has_header else []) + body, has_header


def _norm(cell: str) -> str:
    return " ".join(cell.split())


def _loose(cell: str) -> str:
    """Case, spaces and commas aside: 'X' equals 'x', and leaves run together ('0345') equal '0 3 4 5'."""
    return re.sub(r"[\s,]", "", cell).lower()


@dataclass
class TableMatch:
    cells: int  # reference cells
    correct: int  # reference cells read exactly (whitespace aside) at the same row and column: the strict figure
    loosely_correct: int  # reference cells read right up to case, spaces and commas
    shape_ok: bool  # same number of rows and columns as the reference
    header_ok: bool  # the header row was recognised as a header (or its absence as such)
    title_ok: bool | None = None  # the title read as the reference's (spaces aside); None when no title was given

    @property
    def exact(self) -> bool:
        return self.shape_ok and self.correct == self.cells


def match_table(table: Table, columns: Mapping[str, Sequence[str]], title: str | None = None) -> TableMatch:
    reference, has_header = reference_grid(columns)
    read = table.grid()
    pairs = [(read[r][c], cell) for r, row in enumerate(reference) for c, cell in enumerate(row)
             if r < len(read) and c < len(read[r])]
    shape_ok = len(read) == len(reference) and all(len(a) == len(b) for a, b in zip(read, reference))
    return TableMatch(cells=sum(len(row) for row in reference), shape_ok=shape_ok,
                      correct=sum(_norm(got) == _norm(want) for got, want in pairs),
                      loosely_correct=sum(_loose(got) == _loose(want) for got, want in pairs),
                      header_ok=table.has_header == has_header,
                      title_ok=None if title is None else _norm(table.title or "") == _norm(title))
