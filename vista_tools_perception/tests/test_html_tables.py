"""`ocr_read_table` on HTML tables rendered by headless Chromium (development styles of
`vista_tools_perception.html_tables`): columns a narrow gap apart found from the alignment of their text, a caption
wrapped onto two lines read as the title, a header row whose boxes touch read as the header. Expected cells are the
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
])
def test_a_browser_drawn_table_reads_exactly(browser, seed, failure):
    drawn = html_table(seed, "development")
    result = call_tool(TOOL.name, {"backend": "rapidocr"}, [browser.render(drawn)], tools={TOOL.name: TOOL})
    assert result.ok, result.error
    match = match_table(Table(**result.data), drawn.columns, title=drawn.title)
    assert match.exact and match.title_ok is not False, (failure, Table(**result.data).grid(), drawn.columns)
