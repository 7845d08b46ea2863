"""The six tools through vista's call path, on rendered charts of known data."""

from __future__ import annotations

import pytest
import vista
from PIL import Image
from vista import ErrorClass, call_tool
from vista.checks import check_tool
from vista.testing import registered_plugin
from vista_tools_chart.analysis import analyse, describe

import vista_tools_chart
from vista_tools_chart import tools as chart_tools

TABLE = {"header": ["label", "North", "South"],
         "rows": [["2019", 12.5, 8.0], ["2020", 18.0, 14.5], ["2021", 22.5, 10.0], ["2022", 15.0, 19.5]]}


def _tools() -> dict:
    return {t.name: t for t in chart_tools.all_tools()}


def test_the_plugin_registers_the_six_catalogue_tools():
    with registered_plugin(vista_tools_chart, "chart") as registry:
        assert {"chart_to_table", "chart_to_svg", "chart_scene_graph", "chart_caption", "chart_analysis",
                "chart_model_qa"} <= set(registry.tools)
        assert all(registry.tools[name].family == "chart" for name in registry.tools if name.startswith("chart"))


def test_check_tool_on_every_tool(charts):
    _, image, _ = charts["grouped_bar_legend"]
    for tool in chart_tools.all_tools():
        check_tool(tool, image)
        check_tool(tool)  # on a blank image: refused as E4 or unavailable, never a crash


def test_chart_to_table_on_a_bar_chart(charts):
    spec, image, _ = charts["bar_grid_value_labels"]
    result = call_tool("chart_to_table", {}, [image], tools=_tools())
    assert result.ok, result.error
    assert result.data["chart_type"] == "bar" and result.data["title"] == "Fruit sales"
    assert result.data["rows"] == [[c, float(v)] for c, v in zip(spec.categories, spec.series["Units"])]
    assert "Apple | 23" in result.text


def test_a_blank_image_is_e4_naming_the_image():
    result = call_tool("chart_to_table", {}, [Image.new("RGB", (120, 90), "white")], tools=_tools())
    assert result.error.error_class is ErrorClass.E4 and result.error.argument == "image"


def test_chart_analysis_over_the_extracted_table(charts):
    _, image, _ = charts["grouped_bar_legend"]
    tools = _tools()
    diff = call_tool("chart_analysis", {"operation": "difference", "labels": ["2021", "2019"], "series": "North"},
                     [image], tools=tools)
    assert diff.ok, diff.error
    assert diff.data["value"] == pytest.approx(10.0, abs=0.6)
    top = call_tool("chart_analysis", {"operation": "argmax", "series": "East"}, [image], tools=tools)
    assert top.data["value"] == "2022"
    missing = call_tool("chart_analysis", {"operation": "lookup", "labels": ["2030"], "series": "North"}, [image],
                        tools=tools)
    assert missing.error.error_class is ErrorClass.E4
    assert "2019, 2020, 2021, 2022" in missing.error.message
    no_series = call_tool("chart_analysis", {"operation": "sum", "series": "West"}, [image], tools=tools)
    assert no_series.error.error_class is ErrorClass.E4 and "North, South, East" in no_series.error.message
    bad_operation = call_tool("chart_analysis", {"operation": "median"}, [image], tools=tools)
    assert bad_operation.error.error_class is ErrorClass.E3


@pytest.mark.parametrize("operation, labels, value", [
    ("lookup", ["2020"], 18.0), ("difference", ["2021", "2019"], 10.0), ("ratio", ["2020", "2019"], 1.44),
    ("sum", [], 68.0), ("average", ["2019", "2020"], 15.25), ("argmax", [], "2021"), ("argmin", [], "2019"),
    ("compare", ["2019", "2022"], "2022")])
def test_analysis_operations_are_exact(operation, labels, value):
    result, explanation = analyse(TABLE, operation, labels, "north")
    assert result == pytest.approx(value) if isinstance(value, float) else result == value
    assert explanation


def test_analysis_refuses_what_the_chart_does_not_have():
    with pytest.raises(vista.ToolArgumentError, match="several|2 series"):
        analyse(TABLE, "sum", [], None)
    with pytest.raises(vista.ToolArgumentError, match="exactly 2"):
        analyse(TABLE, "difference", ["2019"], "North")
    with pytest.raises(vista.ToolArgumentError, match=r"Did you mean '20..'\? The chart's labels are: 2019"):
        analyse(TABLE, "lookup", ["2018"], "North")


def test_caption_from_the_table_names_type_trends_and_extrema(charts):
    _, image, _ = charts["line_two_series"]
    result = call_tool("chart_caption", {}, [image], tools=_tools())
    assert result.ok, result.error
    trends = {t["series"]: t["direction"] for t in result.data["trends"]}
    assert trends == {"Online": "fluctuating", "Retail": "decreasing"}
    extrema = {e["series"]: (e["max_label"], e["min_label"]) for e in result.data["extrema"]}
    assert extrema == {"Online": ("May", "Jan"), "Retail": ("Jan", "Jun")}
    assert result.data["caption"].startswith("A line chart titled \"Monthly visitors\"")
    caption, _, _ = describe(TABLE, "bar", "")
    assert "North is fluctuating" in caption and "South peaks at 2022 (19.5)" in caption


def test_svg_redraws_bars_and_texts(charts):
    spec, image, _ = charts["bar_grid_value_labels"]
    result = call_tool("chart_to_svg", {}, [image], tools=_tools())
    assert result.ok, result.error
    rects = [p for p in result.data["primitives"] if p["type"] == "rect"]
    assert sorted(p["label"] for p in rects) == sorted(spec.categories)
    assert result.data["svg"].startswith("<svg") and result.data["svg"].count("<rect") == len(rects) + 1
    assert any(p["type"] == "text" and p["role"] == "title" for p in result.data["primitives"])
    _, pie_image, _ = charts["pie_labels"]
    pie = call_tool("chart_to_svg", {}, [pie_image], tools=_tools())
    assert [p["type"] for p in pie.data["primitives"]].count("slice") == 4


def test_scene_graph_binds_legend_colours_and_series(charts):
    _, image, parsed = charts["grouped_bar_legend"]
    result = call_tool("chart_scene_graph", {}, [image], tools=_tools())
    assert result.ok, result.error
    nodes = {n["id"]: n for n in result.data["nodes"]}
    edges = result.data["edges"]
    binds = [e for e in edges if e["relation"] == "legend_binds"]
    assert {nodes[e["source"]]["text"] for e in binds} == {"North", "South", "East"}
    for e in binds:
        assert nodes[e["target"]]["name"] == nodes[e["source"]]["text"]
        assert e["color"] == nodes[e["target"]]["color"]
    bars = [n for n in nodes.values() if n["type"] == "bar"]
    assert len(bars) == 12
    assert sum(e["relation"] == "part_of" for e in edges) == 12
    assert sum(e["relation"] == "measured_on" for e in edges) == 12
    assert sum(e["relation"] == "tick_of" and e["target"] == "axis:value" for e in edges) >= 3
