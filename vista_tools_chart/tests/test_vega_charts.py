"""The classical parser on charts drawn by Vega-Lite (vl-convert), one chart per failure kind seen on its
development themes: legends whose symbols are small beside their text or stacked close, symbols OCR took into the
label or read as letters, labels OCR passed over, grey ramps, a title closed onto a black pie, lines drawn in one
colour with their points in another, shades of one hue, a grey series beside a black one, and tick marks drawn a pixel
off the points or not at all."""

from __future__ import annotations

import random

import pytest
from vista_tools_chart.classical import parse_chart
from vista_tools_chart.tables import read_right

pytest.importorskip("vl_convert")

from vista_tools_chart.render_vega import render_vega, vega_chart  # noqa: E402


def _read(kind: str, index: int, theme: str, seed: int = 0) -> tuple[dict, dict]:
    """The development chart `index` of `kind` (as the bench draws it with `--seed`), read; its theme checked so that a
    change to the generator shows here rather than as a test that quietly tests something else."""
    spec, truth = vega_chart(kind, "dev", random.Random(f"vega-{seed}-dev-{kind}-{index}"))
    assert spec["config"]["_theme"] == theme
    return truth, parse_chart(render_vega(spec)).table()


@pytest.mark.parametrize(("index", "theme"), [
    (0, "ggplot2"),     # grey ramp: 5 px circles whose rims read as the next grey; a black title over a black wedge
    (5, "vox"),         # an 8 px square beside 'Omega', whose box the descender makes 17 px high
    (6, "ggplot2"),     # the swatch read by OCR as a bullet: '• Cherry'
    (13, "carbong10"),  # 10 px squares stacked 3 px apart, each within reach of the next
    (15, "default"),    # a swatch beside the wedge of its own colour, which has more pixels in reach
])
def test_pie_wedges_are_named_by_their_legend(index, theme):
    truth, table = _read("pie", index, theme)
    assert read_right(truth, table), table


def test_a_small_square_swatch_is_its_core_not_its_rim():
    truth, table = _read("pie", 12, "quartz", seed=1)  # the plum square's rim reads as the pink series' colour
    assert read_right(truth, table), table


def test_a_legend_label_ocr_passed_over_is_read_again_beside_its_swatch():
    truth, table = _read("pie", 10, "dark", seed=1)  # two round swatches read as 'o o'; 'Japan' not read at all
    assert read_right(truth, table), table


def test_a_swatch_sliver_inside_a_label_box_is_cut_off():
    truth, table = _read("grouped_bar", 11, "quartz", seed=1)  # the box of 'South' takes in 2 px of its swatch
    assert table["header"][1:] == ["2021", "South", "West"] and read_right(truth, table, bars=True), table


def test_grey_marks_under_the_axis_that_miss_the_labels_are_no_tick_marks():
    truth, table = _read("line", 7, "default", seed=1)  # 3 of 7 categories were read at such marks
    assert read_right(truth, table), table


@pytest.mark.parametrize(("index", "theme", "series"), [
    (4, "ggplot2", 1),   # a black line through blue points: the points are the series
    (11, "ggplot2", 1),  # the same, with tick marks read as '1' and 'I' above the category labels
    (1, "vox", 1),       # a slate line with blue points: one series, not two
])
def test_a_line_with_points_of_another_colour_is_one_series(index, theme, series):
    truth, table = _read("line", index, theme)
    assert len(table["header"]) == 1 + series, table
    assert read_right(truth, table), table


def test_a_darker_shade_of_a_line_colour_is_a_series_of_its_own():
    truth, table = _read("line", 16, "vox")  # two shades of one blue, named by hollow legend squares
    assert table["header"][1:] == ["Online", "Retail"] and read_right(truth, table), table


def test_a_grey_line_beside_a_black_one_is_found_from_its_legend_swatch():
    truth, table = _read("line", 7, "ggplot2")  # 1 px line swatches; the grey's rim is lighter than its core
    assert table["header"][1:] == ["West", "2022"] and read_right(truth, table), table


def test_line_values_are_read_at_the_points_not_at_tick_marks_drawn_off_them():
    truth, table = _read("line", 9, "carbong10")  # the last point at the end of a steep segment: 5 read as 4.7
    assert read_right(truth, table), table


def test_a_grouped_bar_legend_symbol_glued_to_its_label_is_a_swatch():
    truth, table = _read("grouped_bar", 9, "ggplot2")  # '■West', and 'North' whose box covers its swatch
    assert table["header"][1:] == ["West", "North", "East"] and read_right(truth, table, bars=True), table


def test_a_black_swatch_sliver_inside_its_label_box_is_cut_off():
    truth, table = _read("grouped_bar", 9, "ggplot2", seed=2)  # the box of 'Online' takes in 3 px of a black square
    assert table["header"][1:] == ["Online", "South"] and read_right(truth, table, bars=True), table
