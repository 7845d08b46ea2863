"""A parsed chart as vector primitives (and their SVG), and as a scene graph."""

from __future__ import annotations

import math
from html import escape

from .classical import ChartParse


def _hex(color: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*color)


def _role(parsed: ChartParse, text) -> str:
    if parsed.title and text.text in parsed.title and text.text not in parsed.categories:
        return "title"
    if any(e.text is text for e in parsed.legend):
        return "legend"
    if parsed.scale is not None and any(t is text for t in parsed.scale.ticks):
        return "tick"
    if text.text in parsed.categories:
        return "category"
    if text.number is not None:
        return "value"
    return "label"


def primitives(parsed: ChartParse) -> list[dict]:
    """Bars as rects, line series as polylines with a circle per data point, slices as arc paths, texts."""
    out: list[dict] = []
    for mark in parsed.marks:
        series = parsed.series[mark.series]
        if mark.kind == "bar":
            x0, y0, x1, y1 = mark.box
            out.append({"type": "rect", "x": x0, "y": y0, "width": x1 - x0, "height": y1 - y0,
                        "fill": _hex(mark.color), "series": series.name, "label": mark.label, "value": mark.value})
        elif mark.kind == "point":
            x0, y0, x1, y1 = mark.box
            out.append({"type": "marker", "cx": (x0 + x1) / 2, "cy": (y0 + y1) / 2, "r": 3.0,
                        "fill": _hex(series.color), "series": series.name, "label": mark.label, "value": mark.value})
        elif mark.kind == "slice" and parsed.pie is not None:
            cx, cy, r = parsed.pie
            a0, a1 = (math.radians(a) for a in mark.angles)
            start = (cx + r * math.cos(a0), cy - r * math.sin(a0))
            end = (cx + r * math.cos(a1), cy - r * math.sin(a1))
            large = 1 if a1 - a0 > math.pi else 0
            path = (f"M {cx:.1f} {cy:.1f} L {start[0]:.1f} {start[1]:.1f} "
                    f"A {r:.1f} {r:.1f} 0 {large} 0 {end[0]:.1f} {end[1]:.1f} Z")
            out.append({"type": "slice", "d": path, "fill": _hex(mark.color), "label": mark.label, "value": mark.value,
                        "start_angle": mark.angles[0], "end_angle": mark.angles[1]})
    for index, points in parsed.polylines.items():
        if len(points) > 1:
            series = parsed.series[index]
            out.append({"type": "polyline", "points": [[round(x, 1), round(y, 1)] for x, y in points],
                        "stroke": _hex(series.color), "series": series.name})
    for text in parsed.texts:
        x0, y0, x1, y1 = text.box
        out.append({"type": "text", "x": x0, "y": y1, "width": x1 - x0, "height": y1 - y0, "text": text.text,
                    "role": _role(parsed, text)})
    return out


def to_svg(parsed: ChartParse, prims: list[dict]) -> str:
    body = []
    for p in prims:
        if p["type"] == "rect":
            body.append(f'<rect x="{p["x"]:.1f}" y="{p["y"]:.1f}" width="{p["width"]:.1f}" '
                        f'height="{p["height"]:.1f}" fill="{p["fill"]}"><title>{escape(p["label"])}: '
                        f'{p["value"]:g}</title></rect>')
        elif p["type"] == "polyline":
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y in p["points"])
            body.append(f'<polyline points="{points}" fill="none" stroke="{p["stroke"]}" stroke-width="2"/>')
        elif p["type"] == "marker":
            body.append(f'<circle cx="{p["cx"]:.1f}" cy="{p["cy"]:.1f}" r="{p["r"]:.1f}" fill="{p["fill"]}">'
                        f'<title>{escape(p["label"])}: {p["value"]:g}</title></circle>')
        elif p["type"] == "slice":
            body.append(f'<path d="{p["d"]}" fill="{p["fill"]}" stroke="white"><title>{escape(p["label"])}: '
                        f'{p["value"]:g}%</title></path>')
        elif p["type"] == "text":
            size = max(6.0, 0.75 * p["height"])
            body.append(f'<text x="{p["x"]:.1f}" y="{p["y"] - 0.2 * p["height"]:.1f}" font-size="{size:.1f}" '
                        f'font-family="sans-serif">{escape(p["text"])}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{parsed.width}" height="{parsed.height}" '
            f'viewBox="0 0 {parsed.width} {parsed.height}"><rect width="100%" height="100%" fill="white"/>'
            + "".join(body) + "</svg>")


def scene_graph(parsed: ChartParse) -> tuple[list[dict], list[dict]]:
    """Nodes: chart, title, axes, ticks, categories, series, legend entries, marks. Edges: part_of (mark ->
    series), measured_on (mark -> value axis), at_category (mark -> category), tick_of (tick -> axis),
    legend_binds (legend entry -> series, with the colour), title_of."""
    nodes: list[dict] = [{"id": "chart", "type": "chart", "chart_type": parsed.chart_type}]
    edges: list[dict] = []
    if parsed.title:
        nodes.append({"id": "title", "type": "title", "text": parsed.title})
        edges.append({"source": "title", "target": "chart", "relation": "title_of"})
    value_axis = None
    if parsed.scale is not None:
        value_axis = "axis:value"
        nodes.append({"id": value_axis, "type": "axis", "role": "value", "direction": parsed.scale.direction,
                      "title": parsed.y_label if parsed.scale.direction == "y" else parsed.x_label})
        edges.append({"source": value_axis, "target": "chart", "relation": "axis_of"})
        category_axis = "axis:category"
        nodes.append({"id": category_axis, "type": "axis", "role": "category",
                      "direction": "x" if parsed.scale.direction == "y" else "y",
                      "title": parsed.x_label if parsed.scale.direction == "y" else parsed.y_label})
        edges.append({"source": category_axis, "target": "chart", "relation": "axis_of"})
        for k, tick in enumerate(parsed.scale.ticks):
            nodes.append({"id": f"tick:{k}", "type": "tick", "text": tick.text, "value": tick.number,
                          "bbox": list(tick.box)})
            edges.append({"source": f"tick:{k}", "target": value_axis, "relation": "tick_of"})
        for k, label in enumerate(parsed.categories):
            nodes.append({"id": f"category:{k}", "type": "category", "text": label})
            edges.append({"source": f"category:{k}", "target": category_axis, "relation": "tick_of"})
    for k, series in enumerate(parsed.series):
        nodes.append({"id": f"series:{k}", "type": "series", "name": series.name, "color": _hex(series.color)})
        edges.append({"source": f"series:{k}", "target": "chart", "relation": "series_of"})
    for k, entry in enumerate(parsed.legend):
        nodes.append({"id": f"legend:{k}", "type": "legend_entry", "text": entry.label, "bbox": list(entry.swatch)})
        target = next((f"series:{i}" for i, s in enumerate(parsed.series) if s.name == entry.label), None)
        if target is not None:
            edges.append({"source": f"legend:{k}", "target": target, "relation": "legend_binds",
                          "color": _hex(parsed.series[int(target.split(':')[1])].color)})
    category_ids = {label: f"category:{k}" for k, label in enumerate(parsed.categories)}
    for k, mark in enumerate(parsed.marks):
        node = {"id": f"mark:{k}", "type": mark.kind, "label": mark.label, "value": mark.value,
                "bbox": [round(v, 1) for v in mark.box]}
        if mark.angles is not None:
            node["angles"] = list(mark.angles)
        nodes.append(node)
        edges.append({"source": f"mark:{k}", "target": f"series:{mark.series}", "relation": "part_of"})
        if value_axis is not None:
            edges.append({"source": f"mark:{k}", "target": value_axis, "relation": "measured_on"})
            if mark.label in category_ids:
                edges.append({"source": f"mark:{k}", "target": category_ids[mark.label], "relation": "at_category"})
    return nodes, edges
