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

from vista_tools_chart.render_vega import render_vega, vega_chart, vega_variety  # noqa: E402


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


def test_a_bar_end_beside_a_tick_label_is_no_tick_mark():
    # quartz's gridlines are faint: beside '200' the only stripe is the first bar's top, a step from the plot's
    # grey to the bar's blue; snapped onto it the scale read every bar 1-5% high
    truth, table = _read("bar", 2, "quartz", seed=5)
    assert read_right(truth, table, bars=True), table


def test_a_flat_stretch_of_a_line_is_no_gridline():
    truth, table = _read("line", 0, "vox", seed=5)  # 7, 7, 7 over the last three categories: read as 0
    assert read_right(truth, table), table


def test_a_category_label_whose_box_reaches_above_the_others_is_in_the_row():
    truth, table = _read("line", 0, "default", seed=4)  # 'Zeta' (its box 3 px higher) left out: 'Delta (2)'
    assert table["rows"][3][0] == "Zeta" and read_right(truth, table), table


def _read_styled(kind: str, index: int, theme: str, seed: int, axis: dict | None = None, config: dict | None = None,
                 encoding: dict | None = None, size: tuple[int, int] | None = None) -> tuple[dict, dict]:
    """A development chart drawn with settings a user's Vega-Lite (or Altair) chart plausibly has and the bench's
    generator leaves at their defaults: `axis` and `config` merged into the spec's config, `encoding` ({channel:
    axis settings}) into its axes, `size` (width, height) its plot's size."""
    spec, truth = vega_chart(kind, "dev", random.Random(f"vega-{seed}-dev-{kind}-{index}"))
    assert spec["config"]["_theme"] == theme
    spec["config"]["axis"] |= axis or {}
    spec["config"] |= config or {}
    for channel, settings in (encoding or {}).items():
        spec["encoding"][channel]["axis"] = (spec["encoding"][channel].get("axis") or {}) | settings
    if size:
        spec["width"], spec["height"] = size
    return truth, parse_chart(render_vega(spec)).table()


@pytest.mark.parametrize(("kind", "index", "theme", "seed", "axis", "size"), [
    # labels on end, each box taking in its tick mark ('Feb-'), and 'Apr' not found by detection at all
    ("bar", 1, "default", 3, {"labelFontSize": 13, "domain": False, "labelPadding": 0}, None),
    # short labels on end whose boxes are hardly taller than wide: 'Apr' passed over, read turned both ways
    ("grouped_bar", 6, "carbong10", 3, {"labelFontSize": 9, "labelPadding": 0}, (200, 380)),
    # 9 px labels on end with no tick marks: 'Jan' and 'Apr' passed over, 'Feb' read flat as 'b' (score 0.62)
    ("bar", 3, "carbong10", 5, {"labelFontSize": 9, "ticks": False, "domain": False}, (420, 260)),
])
def test_a_category_label_detection_passed_over_is_read_where_it_must_stand(kind, index, theme, seed, axis, size):
    truth, table = _read_styled(kind, index, theme, seed, axis=axis, encoding={"x": {"labelAngle": -90}}, size=size)
    assert [row[0] for row in table["rows"]] == [row[0] for row in truth["rows"]], table
    assert read_right(truth, table, bars=True), table


@pytest.mark.parametrize(("index", "theme", "seed", "padding", "axis", "size"), [
    (4, "default", 3, 0.05, {}, None),  # bars a pixel apart: closing the gaps joined them into one shape
    (3, "dark", 4, 0.05, {"grid": False, "ticks": False, "domain": False}, None),  # a dark seam between them
    (7, "ggplot2", 3, 0.02, {"domain": False, "labelFontSize": 14}, (600, 150)),  # a pale seam, given the bars' hue
])
def test_bars_drawn_with_next_to_no_padding_are_bars_each(index, theme, seed, padding, axis, size):
    truth, table = _read_styled("horizontal_bar", index, theme, seed, axis=axis,
                                config={"scale": {"bandPaddingInner": padding}}, size=size)
    assert read_right(truth, table, bars=True), table


def test_light_grey_tick_marks_place_labels_set_at_an_angle():
    # no axis line; the labels at -45 degrees end at their ticks, far from their middles
    truth, table = _read_styled("line", 0, "default", 3, axis={"labelFontSize": 14, "domain": False},
                                encoding={"x": {"labelAngle": -45}})
    assert read_right(truth, table), table


def test_large_points_at_few_categories_are_the_lines_points():
    # at twice the scale, 5 points cover more than a tenth of the columns: still points, not a series of their own
    truth, table = _read_styled("line", 6, "quartz", 3, axis={"labelFontSize": 9}, config={"_scale": 2.0},
                                encoding={"x": {"labelAngle": -90}}, size=(200, 150))
    assert len(table["header"]) == 2 and read_right(truth, table), table


@pytest.mark.parametrize(("index", "theme", "seed", "number_format"), [
    (3, "dark", 4, "~s"),     # '0.2k', '1k'
    (5, "default", 4, "~g"),  # '3e+1'
])
def test_tick_labels_in_short_number_formats_make_an_axis(index, theme, seed, number_format):
    truth, table = _read_styled("line", index, theme, seed, encoding={"y": {"format": number_format}})
    assert read_right(truth, table), table


def test_a_year_misread_by_a_digit_is_mended_from_the_sequence():
    # small monospace years on end: '2014' read '2814' between '2013' and '2015'
    truth, table = _read_styled("bar", 0, "ggplot2", 4, axis={"labelFontSize": 8, "ticks": False,
                                                              "labelFont": "Liberation Mono"},
                                encoding={"x": {"labelAngle": -90}, "y": {"format": ",.1f"}})
    assert [row[0] for row in table["rows"]] == [row[0] for row in truth["rows"]], table


def test_only_one_digit_off_an_even_sequence_is_mended():
    from vista_tools_chart.classical.labels import mend_sequence

    assert mend_sequence(["2012", "2013", "2814", "2015"], [0, 1, 2, 3]) == ["2012", "2013", "2014", "2015"]
    assert mend_sequence(["2015", "2814", "2013", "2012"], [3, 2, 1, 0]) == ["2015", "2014", "2013", "2012"]
    assert mend_sequence(["2000", "2005", "2010", "2020"], [0, 1, 2, 3]) == ["2000", "2005", "2010", "2020"]
    assert mend_sequence(["2012", "2013", "2814"], [0, 1, 2]) == ["2012", "2013", "2814"]
    assert mend_sequence(["Jan", "Feb", "Mar", "Apr"], [0, 1, 2, 3]) == ["Jan", "Feb", "Mar", "Apr"]


def test_a_white_plot_whose_left_corners_are_bars_is_the_plot_background():
    # a white plot on a grey page: horizontal bars fill its two left corners, and the white was taken for a series
    truth, table = _read_styled("horizontal_bar", 3, "carbong10", 6, axis={"labelFontSize": 13, "grid": False,
                                                                          "labelPadding": 10, "gridDash": [2, 2]},
                                config={"background": "#f0f0f0", "view": {"stroke": None}}, size=(360, 240))
    assert read_right(truth, table, bars=True), table


def test_tick_labels_set_close_that_detection_read_as_one_line_are_an_axis():
    # '0.00.2 0.4 0.6 ... 3.4': one line of text, each number given the box of its own ink
    truth, table = _read_styled("horizontal_bar", 0, "carbong10", 5,
                                axis={"labelFontSize": 14, "ticks": False, "domain": False,
                                      "labelFont": "DejaVu Serif"},
                                config={"scale": {"bandPaddingInner": 0.15}}, size=(600, 200))
    assert read_right(truth, table, bars=True), table


def test_a_legend_in_a_row_read_as_one_word_is_cut_at_its_symbols():
    truth, table = _read_styled("pie", 0, "quartz", 5, axis={"labelFontSize": 14},  # 'OmegaAlphaDeltaBravo'
                                config={"legend": {"orient": "top"}}, size=(300, 300))
    assert read_right(truth, table), table


def test_a_black_line_climbing_steeply_is_a_stroke_not_a_filled_area():
    # no hue in the chart; the line's pixels outnumber eight times its width (it climbs 470 px over 90)
    truth, table = _read_styled("line", 0, "ggplot2", 6, axis={"labelFontSize": 13, "ticks": False, "domain": False,
                                                               "labelPadding": 6}, size=(300, 380))
    assert read_right(truth, table), table


def test_a_coloured_texts_decimal_points_are_no_legend_symbols():
    # navy tick labels in a monospace font: '$2.0' is one number, not '$2' and '0' parted at a symbol
    truth, table = _read_styled("horizontal_bar", 5, "quartz", 6,
                                axis={"labelFontSize": 10, "grid": False, "domain": False, "labelColor": "#333366",
                                      "labelPadding": 0, "labelFont": "DejaVu Sans Mono", "tickSize": 3},
                                config={"_scale": 2.0, "scale": {"bandPaddingInner": 0.4},
                                        "legend": {"orient": "bottom"}, "view": {"stroke": None}},
                                encoding={"x": {"format": "$,.1f"}}, size=(360, 240))
    assert read_right(truth, table, bars=True), table


def test_a_rectangle_inside_a_label_is_no_bar():
    # a purple bar's foot blended into the grey axis line, closed onto the top of the 'F' of 'France' under it: a
    # 5 x 5 'bar' of a third colour hanging below zero, which made a third series and cut France's group in two
    truth, table = _read_styled("grouped_bar", 0, "carbong10", 7, axis={"labelFontSize": 10, "grid": False,
                                                                        "ticks": False},
                                config={"scale": {"bandPaddingInner": 0.4}}, size=(600, 200))
    assert len(table["header"]) == 3 and read_right(truth, table, bars=True), table


def test_a_label_box_cut_short_of_a_flush_column_is_read_to_its_edge():
    truth, table = _read_styled("horizontal_bar", 4, "default", 7, axis={"labelFontSize": 9},  # 'Frai' for 'France'
                                config={"_scale": 2.0, "title": {"anchor": "start", "fontSize": 20},
                                        "view": {"stroke": "#000000"}},
                                encoding={"x": {"format": "~s"}}, size=(480, 300))
    assert [row[0] for row in table["rows"]] == [row[0] for row in truth["rows"]], table


def test_light_grey_frame_edges_under_the_axis_are_no_tick_marks():
    # light grey ticks and dark grey gridlines: the frame's edges reach under the axis half a spacing beyond the
    # first and last ticks, and were read as two more categories
    truth, table = _read_styled("line", 0, "ggplot2", 9, axis={"labelFontSize": 8, "domainColor": "#333333",
                                                               "tickColor": "#cccccc", "gridColor": "#999999",
                                                               "gridWidth": 1}, size=(360, 240))
    assert [row[0] for row in table["rows"]] == [row[0] for row in truth["rows"]] and read_right(truth, table), table


@pytest.mark.parametrize(("kind", "index", "theme", "encoding"), [
    ("bar", 2, "carbong10", {"y": {"orient": "right"}}),               # the value axis right of the plot
    ("grouped_bar", 6, "default", {"y": {"orient": "right", "format": "~s"}}),
    ("line", 3, "dark", {"y": {"orient": "right"}}),
    ("horizontal_bar", 1, "carbong10", {"x": {"orient": "top"}}),      # the value axis above the plot
])
def test_a_value_axis_on_the_far_side_of_the_plot_is_read(kind, index, theme, encoding):
    truth, table = _read_styled(kind, index, theme, 0, encoding=encoding)
    assert [row[0] for row in table["rows"]] == [row[0] for row in truth["rows"]], table
    assert read_right(truth, table, bars=kind != "line"), table


def _read_restyled(kind: str, index: int, theme: str, seed: int, config: dict, mark: dict | None = None,
                   encoding: dict | None = None, size: tuple[int, int] | None = None) -> tuple[dict, dict]:
    """A development chart restyled as `render_vega.vega_variety` may draw it: `config` merged into the spec's config
    (its "axis" into the axis config), `mark` into the mark, `encoding` ({channel: axis settings}) into the axes."""
    spec, truth = vega_chart(kind, "dev", random.Random(f"vega-{seed}-dev-{kind}-{index}"))
    assert spec["config"]["_theme"] == theme
    spec["config"]["axis"] |= config.pop("axis", {})
    spec["config"] |= config
    spec["mark"] = (spec["mark"] if isinstance(spec["mark"], dict) else {"type": spec["mark"]}) | (mark or {})
    for channel, settings in (encoding or {}).items():
        spec["encoding"][channel]["axis"] = (spec["encoding"][channel].get("axis") or {}) | settings
    if size:
        spec["width"], spec["height"] = size
    return truth, parse_chart(render_vega(spec)).table()


@pytest.mark.parametrize(("index", "theme", "config", "mark", "size"), [
    # the legend over the pie: 'Sigma''s square lies on the blue wedge, part of it
    (4, "carbong10", {"legend": {"orient": "bottom-right", "symbolType": "square", "symbolSize": 40,
                                 "labelFontSize": 9}, "range": {"category": {"scheme": "tableau10"}}},
     {"stroke": None}, (380, 380)),
    # 'Delta''s ring on the green wedge, read into its label as 'o Delta'
    (7, "vox", {"_scale": 1.5, "legend": {"orient": "top-right", "symbolType": "circle", "symbolSize": 40,
                                          "labelFontSize": 13}, "range": {"category": {"scheme": "accent"}},
                "title": {"anchor": "start", "fontSize": 14}},
     {"stroke": "white", "padAngle": 0.03}, (160, 160)),
])
def test_a_legend_swatch_on_a_wedge_of_its_own_colour_names_it(index, theme, config, mark, size):
    truth, table = _read_restyled("pie", index, theme, 0, config, mark=mark, size=size)
    assert sorted(row[0] for row in table["rows"]) == sorted(row[0] for row in truth["rows"]), table
    assert read_right(truth, table), table


def test_a_donut_whose_wedges_stand_apart_is_a_pie():
    # a hole in the middle and white gaps 3% of a turn wide between the wedges: no one piece after a 5 px closing
    truth, table = _read_restyled("pie", 6, "ggplot2", 0,
                                  {"_scale": 2.0, "legend": {"orient": "left", "symbolType": "square",
                                                             "symbolSize": 150, "labelFontSize": 9},
                                   "range": {"category": {"scheme": "paired"}}},
                                  mark={"stroke": "white", "innerRadius": 50, "padAngle": 0.03}, size=(220, 220))
    assert read_right(truth, table), table


def test_light_grey_slanted_labels_under_an_axis_line_mark_their_upper_ends():
    # no tick marks; the labels at -45 degrees in a light grey monospace, the axis line crossing the top of their
    # boxes: read as the labels' middles, 9 px left of the points, every value off by up to 20%
    truth, table = _read_restyled("line", 5, "quartz", 0,
                                  {"_scale": 1.25, "axis": {"labelFontSize": 10, "labelFont": "DejaVu Sans Mono",
                                                            "labelPadding": 2, "ticks": False, "grid": False},
                                   "legend": {"orient": "right", "symbolType": "diamond"}},
                                  mark={"point": True, "strokeWidth": 2},
                                  encoding={"x": {"labelAngle": -45}, "y": {"format": "~s"}}, size=(420, 260))
    assert read_right(truth, table), table


def test_the_restyled_charts_widen_the_development_split_only():
    from vista_tools_chart.render_vega import vega_charts

    plain = list(vega_charts("dev", 2, seed=3))
    restyled = list(vega_charts("dev", 2, seed=3, variety=True))
    assert [truth for *_, truth in plain] == [truth for *_, truth in restyled]  # the same data, restyled
    assert [spec for *_, spec, _ in plain] != [spec for *_, spec, _ in restyled]
    with pytest.raises(ValueError, match="development split only"):
        list(vega_charts("measure", 1, variety=True))


def test_a_legend_of_tiny_triangles_read_as_one_word_is_cut_at_them():
    # a row of 4 px triangles (half their box filled) between the names, read as 'EchoSigma'
    truth, table = _read_restyled("pie", 9, "vox", 0,
                                  {"_scale": 1.25, "legend": {"orient": "top", "symbolType": "triangle-up",
                                                              "symbolSize": 40, "labelFontSize": 13},
                                   "range": {"category": {"scheme": "paired"}},
                                   "title": {"anchor": "end", "fontSize": 14}},
                                  mark={"stroke": "white", "innerRadius": 72, "padAngle": 0.03}, size=(300, 300))
    assert sorted(row[0] for row in table["rows"]) == sorted(row[0] for row in truth["rows"]), table
    assert read_right(truth, table), table


def test_a_right_value_axis_of_labels_detection_passed_over_is_read_again():
    # 9 px tick labels right of the plot, no axis line, 1 px lines: two of six labels detected, and the years under
    # the plot (on end) a row of numbers of their own
    truth, table = _read_restyled("line", 7, "ggplot2", 0,
                                  {"axis": {"labelFontSize": 9, "labelFont": "DejaVu Sans", "labelPadding": 8,
                                            "domain": False, "tickSize": 5, "grid": False},
                                   "legend": {"orient": "right", "symbolType": "circle", "symbolSize": 80,
                                              "labelFontSize": 11},
                                   "range": {"category": {"scheme": "set2"}}, "view": {"stroke": None},
                                   "title": {"anchor": "start", "fontSize": 18}},
                                  mark={"strokeWidth": 1}, encoding={"x": {"labelAngle": -90},
                                                                     "y": {"format": "~s", "orient": "right"}},
                                  size=(420, 260))
    assert table["header"][1:] == ["West", "2022"] and read_right(truth, table), table


def test_a_legend_triangles_lighter_edge_is_not_a_swatch_of_its_own():
    # dark and light blue triangles in a row on a grey page: the dark one's base, blended into the page, reads as a
    # 1 px line of the light blue, which named the light series 'South' and left the dark one 'series 2'
    truth, table = _read_restyled("grouped_bar", 5, "carbong10", 1,
                                  {"_scale": 2.0, "legend": {"orient": "top", "symbolType": "triangle-up",
                                                             "symbolSize": 80, "labelFontSize": 13},
                                   "range": {"category": {"scheme": "tableau20"}}},
                                  encoding={"y": {"orient": "right"}}, size=(640, 360))
    assert table["header"][1:] == ["South", "Online"] and read_right(truth, table, bars=True), table



def _read_variety(kind: str, index: int, theme: str, seed: int) -> tuple[dict, dict]:
    """The restyled development chart `index` of `kind` exactly as `bench/chart_classical_parser.py --variety --seed`
    draws it (every setting `vega_variety` drew for it), read; its theme checked."""
    spec, truth = vega_chart(kind, "dev", random.Random(f"vega-{seed}-dev-{kind}-{index}"))
    spec = vega_variety(spec, kind, random.Random(f"vega-variety-{seed}-{kind}-{index}"))
    assert spec["config"]["_theme"] == theme
    return truth, parse_chart(render_vega(spec)).table()


def test_labels_set_flush_against_horizontal_bars_are_the_categories():
    # no tick marks, no padding, 9 px monospace labels: each label's box reaches 2 px past the bars' start, and two
    # of three were dropped (the column read again up to the bars cut 'Japan' to 'Japar')
    truth, table = _read_variety("horizontal_bar", 2, "carbong10", 2)
    assert [row[0] for row in table["rows"]] == [row[0] for row in truth["rows"]], table
    assert read_right(truth, table, bars=True), table


def test_a_coloured_symbol_half_inside_a_grey_labels_box_is_cut_off():
    # a row legend of 6 px diamonds: detection's box for 'South' starts mid-diamond, its blue half (anti-aliased,
    # 53 from the mid-grey letters in mean colour) was kept in the text, masked out, and no swatch bound the blue
    truth, table = _read_variety("grouped_bar", 0, "default", 3)
    assert table["header"][1] == "South" and read_right(truth, table, bars=True), table


def test_small_triangle_symbols_wider_than_tall_bind_as_swatches():
    # a column of 8 x 6 px triangles beside 36 px text boxes: wider than a square or disk, so three of five wedges
    # were left unnamed and the title named a fourth
    truth, table = _read_variety("pie", 7, "default", 4)
    assert sorted(row[0] for row in table["rows"]) == sorted(row[0] for row in truth["rows"]), table
    assert read_right(truth, table), table


def test_a_legend_symbol_too_small_beside_its_text_binds_at_the_others_offset():
    # a row of 5 px triangles beside 28 px boxes; 'Bravo''s is 4 px high, under the smallest a symbol may be beside
    # such a text, and its wedge took the title ('Exports') for its label
    truth, table = _read_variety("pie", 0, "ggplot2", 3)
    assert sorted(row[0] for row in table["rows"]) == sorted(row[0] for row in truth["rows"]), table
    assert read_right(truth, table), table


def test_tick_labels_missed_beside_grouped_bars_over_years_are_read_again():
    # 8 px value labels, two of six detected, and years under the groups: an x scale whose zero lies far off the
    # image, taken for the bars' axis since bars side by side share an edge; the strips were never read again
    truth, table = _read_variety("grouped_bar", 3, "vox", 4)
    assert read_right(truth, table, bars=True), table


def test_a_dollar_sign_read_as_an_s_is_a_dollar_sign():
    # '$' format on a dark theme: '$0' read, every other tick label read 'S1e+2', 'S8e+1', ...: no value axis
    truth, table = _read_variety("line", 2, "dark", 1)
    assert read_right(truth, table), table


def test_years_under_vertical_bars_do_not_turn_them_sideways():
    # years name the groups: an x scale whose zero lies far off the image; the bars' shared left edges, taken for
    # bars standing on it, outnumbered those on the y axis's zero, and the chart was read as lines
    truth, table = _read_variety("grouped_bar", 5, "dark", 4)
    assert table["header"][1:] == ["North", "2021"] and read_right(truth, table, bars=True), table


def test_two_labels_merged_under_a_line_without_tick_marks_are_two_categories():
    # no tick marks: the categories stand where the labels do, and 'Canada France', read as one line, was one
    # category placed between the two points
    truth, table = _read_variety("line", 6, "default", 5)
    assert [row[0] for row in table["rows"]] == [row[0] for row in truth["rows"]] and read_right(truth, table), table
