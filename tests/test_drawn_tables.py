"""`ocr_read_table` on tables that matplotlib draws with tight columns (vista_tasks' style generator, development
styles): columns whose cells OCR reads as one box ('3 19', 'Diego 22', 'Rainy Sunny' over '9 9') are cut apart.
Expected cells are the generator's own content, never the reader's output."""

from __future__ import annotations

from vista import call_tool
from vista_tasks.procedural.table_styles import styled_table
from vista_tools_perception.layout import Table
from vista_tools_perception.ocr_tools import OcrReadTable
from vista_tools_perception.table_scoring import match_table

TOOL = OcrReadTable()


def _read(seed: int):
    drawn = styled_table(seed, "development")
    result = call_tool(TOOL.name, {"backend": "rapidocr"}, [drawn.image], tools={TOOL.name: TOOL})
    assert result.ok, result.error
    return drawn, match_table(Table(**result.data), drawn.columns, title=drawn.title)


def test_a_two_way_table_whose_header_cells_ocr_joins_reads_exactly():
    for seed in (0, 23, 30):  # 'Rainy Sunny' as one box over a corner cell, '9 9' under it
        drawn, match = _read(seed)
        assert drawn.kind == "two_way" and match.exact, (seed, match)


def test_columns_that_ocr_reads_as_one_box_are_cut_apart():
    for seed, kind in ((34, "xy"), (35, "counts")):  # rows read as '3 19' and 'Diego 22': one box per row
        drawn, match = _read(seed)
        assert drawn.kind == kind and match.exact, (seed, match)
