"""OCR on the real TabMWP table images: tables rebuilt from the boxes match the problems' `table_for_pd`."""

import pytest
from vista import ErrorClass, ToolContext, call_tool
from vista_tools_perception.layout import Table
from vista_tools_perception.ocr_tools import OcrReadRegion, OcrReadTable, OcrReadText
from vista_tools_perception.table_scoring import match_table

TOOLS = {tool.name: tool for tool in (OcrReadText(), OcrReadRegion(), OcrReadTable())}
# (tables, cell-accuracy floor) per backend. The tables are the first of bench/perception_ocr_tabmwp.py's random
# order; the floors sit below what it measures (rapidocr 0.94, easyocr 0.48: see the README), so that a regression
# in OCR loading or in table rebuilding fails. EasyOCR reads few tables: 10-100 s a table on a loaded 2-core machine.
FLOORS = {"rapidocr": (10, 0.85), "easyocr": (3, 0.2)}


def table_of(tabmwp, pid: str, backend: str) -> Table:
    result = call_tool("ocr_read_table", {"backend": backend}, [tabmwp.table_image(pid)], tools=TOOLS)
    assert result.ok, result.text
    return Table(**result.data)


@pytest.mark.parametrize("backend", ["rapidocr", pytest.param("easyocr", marks=pytest.mark.slow)])
def test_tables_rebuilt_from_ocr_match_table_for_pd(tabmwp, backend):
    n, floor = FLOORS[backend]
    cells = correct = 0
    for pid in tabmwp.sample(n):
        match = match_table(table_of(tabmwp, pid, backend), tabmwp.problems[pid]["table_for_pd"])
        cells, correct = cells + match.cells, correct + match.correct
    assert correct / cells >= floor, f"{backend}: {correct}/{cells} cells read right"


def test_a_titled_table_reads_exactly(tabmwp):
    table = table_of(tabmwp, "16", "rapidocr")  # "Coin collections": Name | Number of coins, 8 rows
    assert table.title == "Coin collections" and table.header == ["Name", "Number of coins"]
    assert match_table(table, tabmwp.problems["16"]["table_for_pd"]).exact


def test_read_text_and_read_region_give_boxes_in_full_image_coordinates(tabmwp):
    ctx = ToolContext([tabmwp.table_image("54")])  # Price | Quantity demanded | Quantity supplied
    everything = call_tool("ocr_read_text", {}, ctx, tools=TOOLS)
    assert everything.ok
    texts = [line["text"] for line in everything.data["lines"]]
    assert texts[:3] == ["Price", "Quantity demanded", "Quantity supplied"] and "$155" in texts
    box = next(line["bbox"] for line in everything.data["lines"] if line["text"] == "22,600")
    x0, y0, x1, y1 = box
    region = call_tool("ocr_read_region", {"bbox": [x0 - 6, y0 - 4, x1 + 6, y1 + 4]}, ctx, tools=TOOLS)
    assert [line["text"] for line in region.data["lines"]] == ["22,600"]
    (found,) = region.data["lines"]
    assert all(abs(a - b) <= 4 for a, b in zip(found["bbox"], box))
    outside = call_tool("ocr_read_region", {"bbox": [0, 0, 5000, 10]}, ctx, tools=TOOLS)
    assert outside.error.error_class is ErrorClass.E4
