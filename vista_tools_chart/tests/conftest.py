"""Charts of known data, drawn once per test session: the ground truth for the parser and the tools."""

from __future__ import annotations

import pytest
from vista_tools_chart.render import PALETTES, ChartSpec, render
from vista_tools_chart.tools import classical_parse

STYLES = {
    "bar_grid_value_labels": ChartSpec(
        kind="bar", title="Fruit sales", categories=["Apple", "Banana", "Cherry", "Mango", "Peach"],
        series={"Units": [23, 45, 12, 38, 30]}, grid=True, value_labels=True, y_label="Units"),
    "horizontal_bar_serif_colours": ChartSpec(
        kind="horizontal_bar", title="Exports", categories=["France", "Japan", "Brazil", "Canada"],
        series={"Tonnes": [640, 210, 875, 420]}, font="DejaVu Serif", palette=PALETTES["set2"], edge=True),
    "grouped_bar_legend": ChartSpec(
        kind="grouped_bar", title="Revenue by region", categories=["2019", "2020", "2021", "2022"],
        series={"North": [12.5, 18.0, 22.5, 15.0], "South": [8.0, 14.5, 10.0, 19.5], "East": [5.5, 9.0, 16.0, 21.0]},
        palette=PALETTES["dark2"], grid=True, legend_loc="upper left"),
    "line_two_series": ChartSpec(
        kind="line", title="Monthly visitors", categories=["Jan", "Feb", "Mar", "Apr", "May", "Jun"],
        series={"Online": [120, 180, 150, 210, 260, 240], "Retail": [300, 280, 260, 230, 190, 170]},
        palette=PALETTES["bold"], legend_loc="outside", font_size=11),
    "line_markers_mono": ChartSpec(
        kind="line_markers", title="Energy use", categories=["Mon", "Tue", "Wed", "Thu", "Fri"],
        series={"kWh": [3.2, 4.8, 2.6, 5.4, 4.1]}, marker="s", font="DejaVu Sans Mono", grid=True, legend=False),
    "pie_labels": ChartSpec(
        kind="pie", title="Market share", categories=["Nova", "Orbit", "Pixel", "Quanta"],
        series={"share": [40, 25, 20, 15]}, legend=False),
    "pie_legend": ChartSpec(
        kind="pie", title="Budget", categories=["Housing", "Food", "Travel", "Other"],
        series={"share": [45, 30, 15, 10]}, legend=True, palette=PALETTES["set2"], font="STIXGeneral"),
}


@pytest.fixture(scope="session")
def charts():
    """name -> (spec, image, parse), each chart drawn and parsed once."""
    out = {}
    for name, spec in STYLES.items():
        image = render(spec)
        out[name] = (spec, image, classical_parse(image))  # cached: the tool tests reuse it
    return out
