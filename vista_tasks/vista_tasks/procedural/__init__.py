"""Offline procedural task generators: deterministic per seed, with the ground truth behind each image in the
example's metadata and an oracle solution made of the tool catalogue's calls.

One module per task; `charts` holds what the chart tasks share (and renders a chart in a chosen style for
measuring chart parsers), `_scene` the shape scenes, `_base` the seeding and scoring every generator uses.
"""

from __future__ import annotations

from ._base import ProceduralConfig, ProceduralTask
from .chart_bar import ChartBarConfig, ChartBarTask
from .chart_line import ChartLineConfig, ChartLineTask
from .chart_pie import ChartPieConfig, ChartPieTask
from .charts import ChartStyle
from .geometry_diagram import GeometryConfig, GeometryDiagramTask
from .receipt import ReceiptConfig, ReceiptTask
from .shape_math import ShapeMathConfig, ShapeMathTask
from .shape_scene import ShapeCountConfig, ShapeCountTask, ShapeSceneConfig, ShapeSceneTask
from .table_mwp import TableMWPConfig, TableMWPTask

PROCEDURAL_TASKS: list[ProceduralTask] = [
    ChartBarTask(), ChartLineTask(), ChartPieTask(), TableMWPTask(), GeometryDiagramTask(), ShapeSceneTask(),
    ShapeCountTask(), ShapeMathTask(), ReceiptTask(),
]

__all__ = [
    "PROCEDURAL_TASKS", "ChartBarConfig", "ChartBarTask", "ChartLineConfig", "ChartLineTask", "ChartPieConfig",
    "ChartPieTask", "ChartStyle", "GeometryConfig", "GeometryDiagramTask", "ProceduralConfig", "ProceduralTask",
    "ReceiptConfig", "ReceiptTask", "ShapeCountConfig", "ShapeCountTask", "ShapeMathConfig", "ShapeMathTask",
    "ShapeSceneConfig", "ShapeSceneTask", "TableMWPConfig", "TableMWPTask",
]
