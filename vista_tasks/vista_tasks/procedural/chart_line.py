"""chart_line: questions about line charts over years or months, with or without point markers.

Question types: value lookup ("what is ... in 2014?"), argmax/argmin (the year or month of the peak or trough),
difference, ratio, sum and yes/no comparisons between two time points. Fonts, palettes, markers, gridlines and value
labels vary by seed. Difficulty: 0 = 4-6 points of one series, values in steps of 5, usually printed; 1 = 5-8
points, integers, sometimes two series; 2 = 6-10 points, one-decimal values, up to three series, sums over all
points. Metadata: chart_type, title, table (one row per x value), style, query.
"""

from __future__ import annotations

from dataclasses import dataclass

from .charts import ChartConfig, ChartTask

LINE_KINDS: tuple[str, ...] = ("line",)


@dataclass
class ChartLineConfig(ChartConfig):
    kinds: tuple[str, ...] = LINE_KINDS


class ChartLineTask(ChartTask):
    name = "chart_line"
    description = "Line charts over time: lookup, extremum, difference, ratio, sum, comparison."
    kinds = LINE_KINDS
    Config = ChartLineConfig
