"""The classical parser on charts drawn by Plotly (plotly.js in headless Chromium), one development chart per failure
kind seen on its templates: a line's first category on the plot's left edge, its label half under the y tick
labels; tick marks found at every other category only (those between drawn over two pixel columns, too faint);
a y tick label read with the tick mark drawn after it ('0−'); a legend of lines with and without markers in a row,
named by numbers; and, restyled as `plotly_variety` draws them, a tick label read with the axis line after it ('100|')
and tick marks right of the plot read as minus signs."""

from __future__ import annotations

import random
import shutil

import pytest
from vista_tools_chart.classical import parse_chart
from vista_tools_chart.tables import read_right

pytest.importorskip("plotly")
pytest.importorskip("playwright")

from vista_tools_chart.render_plotly import PlotlyBrowser, plotly_chart, plotly_charts  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("chromium") is None and shutil.which("/usr/bin/chromium") is None,
                                reason="drawing Plotly charts needs a chromium on the machine")


@pytest.fixture(scope="module")
def browser():
    with PlotlyBrowser() as b:
        yield b


def _read(browser, kind: str, index: int, template: str, seed: int = 0) -> tuple[dict, dict]:
    """The development chart `index` of `kind` (as the bench draws it with `--seed`), read; its template checked so
    that a change to the generator shows here rather than as a test that quietly tests something else."""
    figure, truth = plotly_chart(kind, "dev", random.Random(f"plotly-{seed}-dev-{kind}-{index}"))
    assert figure["image"]["template"] == template
    return truth, parse_chart(browser.render(figure)).table()


def test_the_generator_is_seeded_and_splits_its_templates():
    first = list(plotly_charts("dev", 1, seed=3, kinds=("bar", "pie")))
    again = list(plotly_charts("dev", 1, seed=3, kinds=("bar", "pie")))
    assert [(k, t, truth) for k, t, _, truth in first] == [(k, t, truth) for k, t, _, truth in again]
    measure = {t for _, t, _, _ in plotly_charts("measure", 4, seed=0)}
    assert measure and not measure & {t for _, t, _, _ in plotly_charts("dev", 4, seed=0)}
    with pytest.raises(ValueError, match="unknown chart kind"):
        plotly_chart("scatter", "dev", random.Random(0))


def test_a_plotly_bar_chart_is_read(browser):
    truth, table = _read(browser, "bar", 0, "plotly")
    assert read_right(truth, table, bars=True), table


@pytest.mark.parametrize(("index", "template"), [
    (4, "xgridoff"),  # '2012' centred on the plot's left edge, under the y axis's '200'
    (5, "ggplot2"),   # 'Jan' likewise, beside '25'
])
def test_a_line_s_first_category_on_the_y_axis_is_read(browser, index, template):
    truth, table = _read(browser, "line", index, template)
    assert read_right(truth, table), table


def test_tick_marks_found_at_every_other_category_are_not_the_categories(browser):
    # simple_white: ticks at France, Kenya and Spain pass as dark, those at Japan and Canada straddle two columns
    truth, table = _read(browser, "line", 6, "simple_white")
    assert read_right(truth, table), table


def test_a_tick_label_read_with_its_tick_mark_is_a_number(browser):
    # ggplot2: ticks drawn outside the y axis, read into the labels as '0−'; two numbers alone make no axis
    truth, table = _read(browser, "grouped_bar", 4, "ggplot2")
    assert read_right(truth, table, bars=True), table


def test_a_row_of_line_swatches_names_series_named_by_numbers(browser):
    # a legend under the plot: '2022' beside a plain line, '2021' beside a line with its marker, which the
    # recogniser read into the label as '12021'; swatches of two heights, one length, centred on one row
    truth, table = _read(browser, "line", 3, "xgridoff")
    assert read_right(truth, table), table
    assert table["header"][1:] == ["2021", "2022"] or table["header"][1:] == ["2022", "2021"]


def test_the_restyled_charts_widen_the_development_split_only(browser):
    plain = list(plotly_charts("dev", 1, seed=3))
    restyled = list(plotly_charts("dev", 1, seed=3, variety=True))
    assert [truth for *_, truth in plain] == [truth for *_, truth in restyled]  # the same data, restyled
    assert [figure["layout"] for *_, figure, _ in plain] != [figure["layout"] for *_, figure, _ in restyled]
    assert browser.render(restyled[-1][2]).size[0] > 0  # plotly.js accepts every setting drawn
    with pytest.raises(ValueError, match="development split only"):
        list(plotly_charts("measure", 1, variety=True))


def _read_restyled(browser, kind: str, index: int, template: str, seed: int, layout: dict,
                   image: dict | None = None) -> tuple[dict, dict]:
    """A development chart restyled as `render_plotly.plotly_variety` may draw it: each of `layout`'s settings merged
    into the figure's layout (a dict into the dict there), `image` (width, height, scale) into its image."""
    figure, truth = plotly_chart(kind, "dev", random.Random(f"plotly-{seed}-dev-{kind}-{index}"))
    assert figure["image"]["template"] == template
    for key, value in layout.items():
        figure["layout"][key] = figure["layout"].get(key, {}) | value if isinstance(value, dict) else value
    figure["image"] |= image or {}
    return truth, parse_chart(browser.render(figure)).table()


def test_a_tick_label_read_with_the_axis_line_after_it_is_a_number(browser):
    # '100|': the y axis's grey line drawn right after the label, no tick marks; the years under the plot on end
    truth, table = _read_restyled(
        browser, "grouped_bar", 0, "xgridoff", 0,
        {"xaxis": {"tickangle": -90, "tickfont": {"size": 9, "color": "#888888"}, "ticks": "outside", "ticklen": 3},
         "yaxis": {"tickfont": {"size": 12, "color": "#7a3b00"}, "ticks": "", "showline": True,
                   "linecolor": "#999999", "griddash": "dash", "tickformat": "~s"},
         "font": {"family": "Liberation Serif", "size": 12}, "paper_bgcolor": "#eef3f8", "bargap": 0.1},
        {"width": 480, "height": 340, "scale": 1.5})
    assert read_right(truth, table, bars=True), table


def test_tick_marks_read_as_minus_signs_right_of_the_plot_make_an_axis(browser):
    # the value axis on the right, 8 px tick marks drawn inside it read into its labels ('-20', '-10'), their boxes
    # cut after the mark's ink
    truth, table = _read_restyled(
        browser, "bar", 5, "ggplot2", 0,
        {"xaxis": {"tickfont": {"size": 9, "color": "#555555"}, "ticks": "inside", "ticklen": 8, "showline": True,
                   "linecolor": "#444444", "griddash": "dash"},
         "yaxis": {"title": {"text": ""}, "tickfont": {"size": 10, "color": "#555555"}, "ticks": "inside",
                   "ticklen": 8, "tickformat": ",", "side": "right"},
         "font": {"family": "DejaVu Sans Mono", "size": 14}, "bargap": 0.05, "colorway": ["rgb(251,180,174)"]},
        {"width": 800, "height": 400, "scale": 1.25})
    assert read_right(truth, table, bars=True), table
