"""The classical parser on charts it was not drawn for: real FigureQA figures (FigureQA's own questions answered
from the table), one chart per failure kind seen in the wild, a chart drawn by Vega-Lite, and images that are no
chart at all (a clear E4, never a crash)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image, ImageDraw
from vista import ErrorClass, call_tool
from vista.testing import real_data_dir
from vista_tools_chart.chart_questions import TEMPLATES, answer
from vista_tools_chart.classical import ChartParseError, parse_chart
from vista_tools_chart.render import ChartSpec, render
from vista_tools_chart.tables import normalise_label, read_right

from vista_tools_chart import tools as chart_tools

FIGUREQA = real_data_dir() / "figureqa" / "sample_train1"
# the first twelve figures of the sample: bar charts, with zero bars, rotated two-word labels and gridlines
FIGURES = range(12)


@pytest.fixture(scope="module")
def figureqa():
    if not (FIGUREQA / "qa_pairs.json").is_file():
        pytest.skip(f"FigureQA samples not found at {FIGUREQA}")
    pairs = json.loads((FIGUREQA / "qa_pairs.json").read_text())["qa_pairs"]
    out = {}
    for index in FIGURES:
        try:
            table = parse_chart(Image.open(FIGUREQA / "png" / f"{index}.png")).table()
        except ChartParseError:
            table = {"header": [], "rows": []}
        out[index] = (table, [p for p in pairs if p["image_index"] == index and p["question_id"] in TEMPLATES])
    return out


def test_figureqa_questions_answered_from_the_table(figureqa):
    right = asked = 0
    for table, questions in figureqa.values():
        for q in questions:
            asked += 1
            right += answer(table, TEMPLATES[q["question_id"]], q["color1_name"], q["color2_name"]) == bool(q["answer"])
    # measured 0.99 (139 of 140) on these figures; 0.64 before zero bars and rotated labels were read
    assert right >= 0.93 * asked, f"{right} of {asked} FigureQA questions answered right"


def test_figureqa_tables_hold_every_colour_asked_about(figureqa):
    missing = {}
    for index, (table, questions) in figureqa.items():
        held = {normalise_label(r[0]) for r in table["rows"]}
        named = {normalise_label(n) for q in questions for n in (q["color1_name"], q["color2_name"]) if n != "--None--"}
        if named - held:
            missing[index] = sorted(named - held)
    # measured: none missing; 7 of the 12 figures missed a colour before
    assert len(missing) <= 1, f"colours asked about but not in the table: {missing}"


def _read(spec: ChartSpec) -> dict:
    table = parse_chart(render(spec)).table()
    assert read_right(spec.table(), table, bars="bar" in spec.kind), f"truth {spec.table()}\n got {table}"
    return table


def test_a_zero_bar_keeps_its_category_in_place():
    spec = ChartSpec(kind="bar", title="Stock", categories=["Apple", "Banana", "Cherry", "Mango"],
                     series={"Units": [23, 0, 12, 38]})
    table = _read(spec)
    assert [r[0] for r in table["rows"]] == spec.categories and table["rows"][1][1] == 0


def test_a_zero_bar_of_a_horizontal_chart_keeps_its_category_in_place():
    spec = ChartSpec(kind="horizontal_bar", title="Stock", categories=["Apple", "Banana", "Cherry", "Mango"],
                     series={"Units": [23, 17, 0, 38]})
    assert [r[0] for r in _read(spec)["rows"]] == spec.categories


def test_a_small_series_beside_a_large_one_is_kept_from_the_legend():
    spec = ChartSpec(kind="grouped_bar", title="Orders", categories=["Q1", "Q2", "Q3", "Q4"],
                     series={"Returns": [3, 8, 1, 5], "Orders": [5200, 5900, 5400, 6000]})
    assert _read(spec)["header"] == ["label", "Returns", "Orders"]


def test_a_pie_title_is_not_a_wedge_label():
    spec = ChartSpec(kind="pie", title="Monthly totals", categories=["Rent", "Food", "Travel", "Other"],
                     series={"share": [45, 30, 15, 10]}, legend=False)
    parsed = parse_chart(render(spec))
    assert read_right(spec.table(), parsed.table())
    assert parsed.title == "Monthly totals" and "Monthly totals" not in parsed.categories


def test_lines_crossing_each_other_are_traced_through_the_crossing():
    spec = ChartSpec(kind="line_markers", title="Visitors", categories=["Mon", "Tue", "Wed", "Thu", "Fri", "Sat"],
                     series={"Online": [10, 30, 50, 70, 90, 60], "Retail": [90, 70, 50, 30, 10, 40]}, marker="o")
    table = _read(spec)
    assert all(isinstance(v, float) for row in table["rows"] for v in row[1:])


def test_a_vega_lite_bar_chart_is_read():
    pytest.importorskip("vl_convert")
    import random

    from vista_tools_chart.render_vega import render_vega, vega_chart

    spec, truth = vega_chart("bar", "dev", random.Random(3))
    assert read_right(truth, parse_chart(render_vega(spec)).table(), bars=True)


def _not_charts() -> dict[str, Image.Image]:
    rng = np.random.default_rng(0)
    letter = Image.new("RGB", (400, 200), "white")
    draw = ImageDraw.Draw(letter)
    for k in range(6):
        draw.text((10, 10 + 30 * k), f"Line {k} of a letter with 12 words and 3.5 numbers", fill="black")
    disk = Image.new("RGB", (300, 300), "white")
    ImageDraw.Draw(disk).ellipse((50, 50, 250, 250), fill=(30, 90, 200))
    return {"noise": Image.fromarray(rng.integers(0, 255, (200, 300, 3), dtype=np.uint8)),
            "tiny": Image.new("RGB", (3, 3), "red"),
            "gradient": Image.fromarray(np.tile(np.linspace(0, 255, 300, dtype=np.uint8)[None, :, None], (200, 1, 3))),
            "letter": letter, "disk": disk}


@pytest.mark.parametrize("name", list(_not_charts()))
def test_an_image_that_is_no_chart_is_refused_as_e4(name):
    tools = {t.name: t for t in chart_tools.all_tools()}
    result = call_tool("chart_to_table", {}, [_not_charts()[name]], tools=tools)
    assert result.error is not None and result.error.error_class is ErrorClass.E4
    assert "cannot read this image as a chart" in result.error.message


def test_twin_value_axes_are_refused_with_a_clear_message():
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, left = plt.subplots(figsize=(6.4, 4.8), dpi=100)
    months = ["Jan", "Feb", "Mar", "Apr", "May"]
    left.bar(months, [20, 35, 30, 45, 40], color="#1f77b4")
    right = left.twinx()
    right.plot(months, [0.2, 0.5, 0.4, 0.9, 0.7], color="#d62728", marker="o")
    left.set_title("Sales and margin")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    result = call_tool("chart_to_table", {}, [Image.open(buffer).convert("RGB")],
                       tools={t.name: t for t in chart_tools.all_tools()})
    assert result.error is not None and result.error.error_class is ErrorClass.E4
    assert "two value axes" in result.error.message
