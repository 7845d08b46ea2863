"""The evaluation charts (matplotlib's style sheets, development / measure-only split) and the classical parser on
them: expected values are the generator's ground truth, never the parser's own output."""

from __future__ import annotations

import random

import numpy as np
import pytest
from matplotlib import style
from PIL import Image, ImageDraw
from vista import ErrorClass, call_tool
from vista_tools_chart.classical import ChartParseError, parse_chart
from vista_tools_chart.render import (
    KINDS,
    STYLE_SHEETS_DEV,
    STYLE_SHEETS_MEASURE,
    evaluation_chart,
    render,
)
from vista_tools_chart.tables import read_right

from vista_tools_chart import tools as chart_tools

# development charts of every kind in several sheets (dark_background, seaborn-v0_8-poster, -deep, -whitegrid, fast,
# default...): 3-4 series, a legend under the axes, bars a few pixels tall, pies with 2-5% wedges labelled outside
READ_RIGHT = [("bar", 0), ("horizontal_bar", 1), ("grouped_bar", 0), ("grouped_bar", 3), ("line", 3),
              ("line_markers", 7), ("pie", 0), ("pie", 2)]


# grey and black series (grayscale: black bars framed by black spines, a black and a grey line with markers) and
# black edge strokes around every wedge (classic)
GREYS_AND_EDGES = [("bar", 2), ("bar", 5), ("horizontal_bar", 22), ("line_markers", 6), ("line_markers", 29),
                   ("pie", 8), ("pie", 18), ("bar", 6)]


def _dev_chart(kind: str, i: int):
    return evaluation_chart(kind, "dev", random.Random(f"0-dev-{kind}-{i}"))


def test_the_style_split_is_fixed_disjoint_and_covers_every_built_in_sheet():
    assert not set(STYLE_SHEETS_DEV) & set(STYLE_SHEETS_MEASURE)
    assert set(style.available) <= set(STYLE_SHEETS_DEV) | set(STYLE_SHEETS_MEASURE)
    assert {"dark_background", "grayscale"} <= set(STYLE_SHEETS_DEV)


def test_same_seed_same_chart_and_truth_as_drawn():
    for kind in KINDS:
        a, b = _dev_chart(kind, 5), _dev_chart(kind, 5)
        assert a == b and a.style_sheet in STYLE_SHEETS_DEV
        measured = evaluation_chart(kind, "measure", random.Random(1))
        assert measured.style_sheet in STYLE_SHEETS_MEASURE
    grouped = [len(_dev_chart("grouped_bar", i).series) for i in range(30)]
    lines = [len(_dev_chart("line", i).series) for i in range(30)]
    assert set(grouped) == {2, 3, 4} and set(lines) == {1, 2, 3, 4}
    for i in range(10):
        pie = _dev_chart("pie", i).table()
        shares = [row[1] for row in pie["rows"]]
        assert sum(shares) == pytest.approx(100, abs=0.01) and min(shares) <= 5
    with pytest.raises(ValueError, match="measure"):
        evaluation_chart("bar", "test", random.Random(0))


def test_read_right_allows_a_short_bar_one_percent_of_the_largest():
    truth = {"header": ["label", "a", "b"], "rows": [["x", 500.0, 4.0], ["y", 300.0, 9.0]]}
    read = {"header": ["label", "a", "b"], "rows": [["x", 510.0, 0.0], ["y", 296.0, 12.0]]}
    assert read_right(truth, read, bars=True)
    assert not read_right(truth, read, bars=False)
    assert not read_right(truth, {**read, "rows": read["rows"][:1]}, bars=True)  # a category lost


@pytest.mark.parametrize("charts", [READ_RIGHT, GREYS_AND_EDGES], ids=["styles", "greys-and-edges"])
def test_the_parser_reads_development_charts_right(charts):
    wrong = []
    for kind, i in charts:
        spec = _dev_chart(kind, i)
        try:
            table = parse_chart(render(spec)).table()
        except ChartParseError as exc:
            table = str(exc)
        if not (isinstance(table, dict) and read_right(spec.table(), table, bars="bar" in kind)):
            wrong.append(f"{kind} #{i} [{spec.style_sheet}]: truth {spec.table()}, read {table}")
    assert len(wrong) <= 1, "\n".join(wrong)


def _not_charts() -> dict[str, Image.Image]:
    rng = np.random.default_rng(0)
    gradient = np.zeros((240, 320, 3), np.uint8)
    gradient[..., 0] = np.linspace(0, 255, 320)[None]
    gradient[..., 1] = np.linspace(0, 255, 240)[:, None]
    page = Image.new("RGB", (400, 300), "white")
    draw = ImageDraw.Draw(page)
    for k in range(10):
        draw.text((10, 10 + 25 * k), f"Line {k}: the quick brown fox jumps over 12{k}.5 lazy dogs", fill="black")
    return {"noise": Image.fromarray(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)),
            "gradient": Image.fromarray(gradient), "text": page}


@pytest.mark.parametrize("name", ["noise", "gradient", "text"])
def test_an_image_that_is_not_a_chart_is_e4_with_a_reason(name):
    result = call_tool("chart_to_table", {}, [_not_charts()[name]],
                       tools={t.name: t for t in chart_tools.all_tools()})
    assert not result.ok and result.error.error_class is ErrorClass.E4 and result.error.argument == "image"
    assert "cannot read this image as a chart" in result.error.message
