"""chart_bar: questions about bar charts (vertical, horizontal and grouped bars) rendered with matplotlib.

Question types: value lookup, argmax/argmin ("which ... has the highest ..."), difference, ratio, sum and yes/no
comparisons; grouped charts ask about one named series. Fonts, palettes, gridlines, value labels and size vary by
seed. Difficulty: 0 = 3-5 bars, values in steps of 5, usually printed; 1 = 4-7 bars, integer values, printed half the
time; 2 = 5-9 bars, one-decimal values, rarely printed, grouped charts with up to three series, sums over all bars.
Metadata: chart_type, title, table (the data behind the chart), style, query (the labels, series and values asked).
"""

from __future__ import annotations

from dataclasses import dataclass

from .charts import ChartConfig, ChartTask

BAR_KINDS: tuple[str, ...] = ("bar_vertical", "bar_horizontal", "bar_grouped")


@dataclass
class ChartBarConfig(ChartConfig):
    kinds: tuple[str, ...] = BAR_KINDS


class ChartBarTask(ChartTask):
    name = "chart_bar"
    description = "Bar charts (vertical, horizontal, grouped): lookup, extremum, difference, ratio, sum, comparison."
    kinds = BAR_KINDS
    Config = ChartBarConfig
