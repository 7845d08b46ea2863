"""The classical parser on charts drawn by Bokeh (BokehJS in headless Chromium), one development chart per failure
kind seen on its styles: a dark theme's canvas whose first row and column blend with the white page under it (a
light line framing the image, taken for the figure's background: the frame's dark fill became a series colour
covering the margins, and no axis stood left of or under the marks); a legend of upright swatches, taller than
wide (13 x 17 px beside a 16 px line), passed over as no swatch at all, so that a pie's wedges went unnamed."""

from __future__ import annotations

import random
import shutil

import pytest
from vista_tools_chart.classical import parse_chart
from vista_tools_chart.tables import read_right

pytest.importorskip("bokeh")
pytest.importorskip("playwright")

from vista_tools_chart.render_bokeh import BokehBrowser, bokeh_chart, bokeh_charts  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("chromium") is None and shutil.which("/usr/bin/chromium") is None,
                                reason="drawing Bokeh charts needs a chromium on the machine")


@pytest.fixture(scope="module")
def browser():
    with BokehBrowser() as b:
        yield b


def _chart(kind: str, index: int, theme: str, seed: int = 0) -> tuple[dict, dict]:
    """The development chart `index` of `kind` (as the bench draws it with `--seed`); its theme checked so that a
    change to the generator shows here rather than as a test that quietly tests something else."""
    chart, truth = bokeh_chart(kind, "dev", random.Random(f"bokeh-{seed}-dev-{kind}-{index}"))
    assert chart["image"]["theme"] == theme
    return chart, truth


def test_the_generator_is_seeded_and_splits_its_styles():
    first = list(bokeh_charts("dev", 1, seed=3, kinds=("bar", "pie")))
    again = list(bokeh_charts("dev", 1, seed=3, kinds=("bar", "pie")))
    assert [(k, t, truth) for k, t, _, truth in first] == [(k, t, truth) for k, t, _, truth in again]
    # Bokeh's default theme is in both halves (their fonts, label angles, bar widths, palettes differ); no other
    measure = {t for _, t, _, _ in bokeh_charts("measure", 4, seed=0)} - {"default"}
    assert measure and not measure & {t for _, t, _, _ in bokeh_charts("dev", 4, seed=0)}
    with pytest.raises(ValueError, match="unknown chart kind"):
        bokeh_chart("scatter", "dev", random.Random(0))


def test_a_thin_line_framing_the_image_is_not_its_background(browser):
    # dark_minimal: the canvas's top row and left column are its #15191C blended half with the white page
    chart, truth = _chart("horizontal_bar", 6, "dark_minimal")
    image = browser.render(chart)
    assert image.getpixel((200, 0))[0] > 150 and image.getpixel((200, 3))[0] < 40  # the frame, then the fill
    assert read_right(truth, parse_chart(image).table(), bars=True)


def test_upright_legend_swatches_name_a_pie_s_wedges(browser):
    # caliber: a legend right of the pie, 13 x 17 px swatches beside bold labels
    chart, truth = _chart("pie", 7, "caliber")
    table = parse_chart(browser.render(chart)).table()
    assert read_right(truth, table), table


def test_slanted_category_labels_mark_their_upper_end(browser):
    # dark_minimal: years at 45 degrees, no tick marks; their middles stand 15 px left of the points, a steep
    # segment (2015 to 2016) read there 0.4 low
    chart, truth = _chart("line", 0, "dark_minimal")
    table = parse_chart(browser.render(chart)).table()
    assert read_right(truth, table), table


def test_a_legend_on_a_grey_box_names_its_series(browser):
    # contrast: white labels and line-with-marker swatches on a grey legend box; the box round each swatch was
    # taken for another colour touching it, and a swatch's square marker read as a CJK glyph ('中') covered it
    chart, truth = _chart("line", 9, "contrast")
    table = parse_chart(browser.render(chart)).table()
    assert table["header"] == ["label", "North", "West"], table
