"""OCR on the real TabMWP table images: tables read by `ocr_read_table` match the problems' `table_for_pd` (the
leaves of a stem-and-leaf plot as printed), and an image that is not a table is refused."""


import pytest
from PIL import Image
from vista import ErrorClass, ToolContext, call_tool
from vista.testing import real_data_dir
from vista_tools_perception.layout import Table
from vista_tools_perception.ocr_tools import OcrReadRegion, OcrReadTable, OcrReadText
from vista_tools_perception.table_scoring import match_table, reference_grid

TOOLS = {tool.name: tool for tool in (OcrReadText(), OcrReadRegion(), OcrReadTable())}
# (tables, strict cell-accuracy floor) per backend. The tables are the first of bench/perception_ocr_tabmwp.py's
# random order; the floors sit below what it measures (rapidocr 0.98 strict: see the README), so that a
# regression in OCR loading or in table rebuilding fails. EasyOCR reads few tables: 10-100 s a table on a loaded
# 2-core machine.
FLOORS = {"rapidocr": (10, 0.95), "easyocr": (3, 0.2)}
FIGUREQA = real_data_dir() / "figureqa" / "sample_train1" / "png"


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


@pytest.mark.parametrize("pid", ["6019", "2754", "748"])
def test_stem_and_leaf_leaves_are_read_apart_as_printed(tabmwp, pid):
    """'6 9', not '69': the reference is table_for_pd's '6, 9' as the image prints it."""
    problem = tabmwp.problems[pid]
    table = table_of(tabmwp, pid, "rapidocr")
    leaves = [row[1] for row in reference_grid(problem["table_for_pd"])[0][1:]]
    assert any(" " in leaf for leaf in leaves) and [row[1] for row in table.rows] == leaves
    match = match_table(table, problem["table_for_pd"], problem["table_title"])
    assert match.exact and match.title_ok


def test_a_lower_case_x_header_stays_lower_case(tabmwp):
    table = table_of(tabmwp, "1492", "rapidocr")  # x | y over three rows of numbers, white on green
    assert table.header == list(tabmwp.problems["1492"]["table_for_pd"]) == ["x", "y"]
    assert match_table(table, tabmwp.problems["1492"]["table_for_pd"]).exact


@pytest.mark.parametrize("pid", ["12501", "1237"])
def test_speaker_icons_are_not_text_and_wrapped_header_cells_are_one_cell(tabmwp, pid):
    problem = tabmwp.problems[pid]  # a speaker icon before cells; 12501's header cells wrap onto two lines
    table = table_of(tabmwp, pid, "rapidocr")
    assert table.header == list(problem["table_for_pd"])
    assert match_table(table, problem["table_for_pd"], problem["table_title"]).exact


def test_prices_per_pound_read_lb(tabmwp):
    table = table_of(tabmwp, "462", "rapidocr")  # 'fine gravel | $2 per lb', no header row
    assert not table.has_header and match_table(table, tabmwp.problems["462"]["table_for_pd"]).exact


def test_an_image_that_is_not_a_table_is_refused_with_e4():
    blank = call_tool("ocr_read_table", {}, [Image.new("RGB", (120, 80), "white")], tools=TOOLS)
    assert blank.error.error_class is ErrorClass.E4 and "no text found" in blank.error.message
    if not FIGUREQA.is_dir():
        pytest.skip(f"FigureQA samples not found at {FIGUREQA}")
    chart = call_tool("ocr_read_table", {}, [FIGUREQA / "0.png"], tools=TOOLS)  # a bar chart with ticks and legend
    assert chart.error.error_class is ErrorClass.E4 and "does not hold a table" in chart.error.message
    assert "ocr_read_text" in chart.error.message


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
