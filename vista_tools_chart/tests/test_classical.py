"""The classical parser on matplotlib charts of known data in several styles."""

from __future__ import annotations

import pytest
from vista_tools_chart.ocr import parse_number
from vista_tools_chart.tables import normalise_label, values_within

from .conftest import STYLES


def _value_hits(truth: dict, table: dict) -> tuple[int, int]:
    got = {normalise_label(r[0]): r[1:] for r in table["rows"]}
    hits = total = 0
    for row in truth["rows"]:
        for j, expected in enumerate(row[1:]):
            total += 1
            values = got.get(normalise_label(row[0]), [])
            value = values[j] if j < len(values) else None
            hits += isinstance(value, (int, float)) and abs(value - expected) <= 0.05 * abs(expected)
    return hits, total


def test_a_clear_majority_of_charts_read_within_five_percent(charts):
    exact = [name for name, (spec, _, parsed) in charts.items() if values_within(spec.table(), parsed.table(), 0.05)]
    assert len(exact) >= 6, f"only {exact} of {list(charts)} were read with every value within 5%"
    hits = [_value_hits(spec.table(), parsed.table()) for spec, _, parsed in charts.values()]
    assert sum(h for h, _ in hits) >= 0.9 * sum(t for _, t in hits)


@pytest.mark.parametrize("name, chart_type", [
    ("bar_grid_value_labels", "bar"), ("horizontal_bar_serif_colours", "horizontal_bar"),
    ("grouped_bar_legend", "bar"), ("line_two_series", "line"), ("line_markers_mono", "line"),
    ("pie_labels", "pie"), ("pie_legend", "pie")])
def test_chart_type_and_title(charts, name, chart_type):
    spec, _, parsed = charts[name]
    assert parsed.chart_type == chart_type
    assert normalise_label(parsed.title) == normalise_label(spec.title)


def test_legend_colours_name_the_series(charts):
    spec, _, parsed = charts["grouped_bar_legend"]
    assert [s.name for s in parsed.series] == list(spec.series)
    spec, _, parsed = charts["line_two_series"]
    assert sorted(s.name for s in parsed.series) == sorted(spec.series)


def test_value_labels_give_exact_values(charts):
    spec, _, parsed = charts["bar_grid_value_labels"]
    assert {r[0]: r[1] for r in parsed.table()["rows"]} == dict(zip(spec.categories, spec.series["Units"]))


def test_horizontal_bars_keep_the_chart_order(charts):
    spec, _, parsed = charts["horizontal_bar_serif_colours"]
    assert [normalise_label(c) for c in parsed.categories] == [normalise_label(c) for c in spec.categories]
    assert len(parsed.series) == 1  # one colour per bar is still one series


def test_pie_shares_sum_to_100(charts):
    for name in ("pie_labels", "pie_legend"):
        _, _, parsed = charts[name]
        assert sum(r[1] for r in parsed.table()["rows"]) == pytest.approx(100, abs=1.0)


@pytest.mark.parametrize("text, value", [("1,200", 1200), ("−5", -5), ("45%", 45), ("$3.5", 3.5), ("0.25", 0.25),
                                         ("2,5", 2.5), ("Apple", None), ("", None)])
def test_parse_number(text, value):
    assert parse_number(text) == value


def test_styles_cover_every_kind():
    assert {s.kind for s in STYLES.values()} == {"bar", "horizontal_bar", "grouped_bar", "line", "line_markers",
                                                  "pie"}
