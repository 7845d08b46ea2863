"""`ocr_read_table` on HTML tables rendered by headless Chromium (development styles of
`vista_tools_perception.html_tables`): columns a narrow gap apart found from the alignment of their text, a caption
wrapped onto two lines read as the title, a header row whose boxes touch read as the header, boxes that hold two
columns' cells cut where the other rows part them, and word spaces OCR dropped or added. Expected cells are the
generator's own content, never the reader's output."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from vista import call_tool
from vista_tools_perception.html_tables import BrowserTables, html_table
from vista_tools_perception.layout import Table
from vista_tools_perception.ocr_tools import OcrReadTable
from vista_tools_perception.table_scoring import match_table

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
TOOL = OcrReadTable()


@pytest.fixture(scope="module")
def browser():
    pytest.importorskip("playwright")
    with BrowserTables(CHROMIUM) as tables:
        yield tables


@pytest.mark.parametrize("seed, failure", [
    (3, "columns 'Distance (km)' and 'Population' a narrow gap apart, right-aligned"),
    (17, "the same, left-aligned, no borders"),
    (10, "'Hugo Aug 7': a name and a date read as one box in every row"),
    (9, "a caption wrapped onto two lines ('Survey of', 'students')"),
    (6, "header cells whose boxes touch (no margin, tight padding), taken for a caption"),
    (22, "'Pencil case $29.40' and a header 'Price Stock' as one box each, other rows apart: refused as one column"),
    (30, "'Name Date', 'Jamal Aug 12' merged in half the rows, the other half apart"),
    (34, "centred 'Quiz 1 Quiz 2 Quiz 3' read as one box, its word spaces as wide as its column gaps"),
    (33, "'Jan 24 10:30': two centred cells in one box in one row only"),
    (19, "a caption, then 'Student Yes No' and 'Ben 90% 22%' a 6 px gap apart, left-aligned"),
    (23, "'Jul1': a word and a number a space apart read without it"),
    (35, "'5 3': the two digits of 53 at 9 px high, a pixel wider apart than others"),
])
def test_a_browser_drawn_table_reads_exactly(browser, seed, failure):
    drawn = html_table(seed, "development")
    result = call_tool(TOOL.name, {"backend": "rapidocr"}, [browser.render(drawn)], tools={TOOL.name: TOOL})
    assert result.ok, result.error
    match = match_table(Table(**result.data), drawn.columns, title=drawn.title)
    assert match.exact and match.title_ok is not False, (failure, Table(**result.data).grid(), drawn.columns)
