"""chart_pie: questions about pie charts of shares that sum to 100%, with percentages printed on the wedges.

Question types: a share's percentage, the largest/smallest share, the difference (percentage points), ratio and
sum of shares, and yes/no comparisons. Fonts, palettes, start angle and labels-versus-legend vary by seed.
Difficulty: 0 = 3-4 wedges with whole percentages; 1 = 3-5 wedges; 2 = 3-6 wedges with one-decimal percentages and
sums over all wedges. Metadata: chart_type, title, table (label, share), style, query.
"""

from __future__ import annotations

from dataclasses import dataclass

from .charts import ChartConfig, ChartTask

PIE_KINDS: tuple[str, ...] = ("pie",)


@dataclass
class ChartPieConfig(ChartConfig):
    kinds: tuple[str, ...] = PIE_KINDS


class ChartPieTask(ChartTask):
    name = "chart_pie"
    description = "Pie charts of shares: percentage lookup, largest/smallest, difference, ratio, sum, comparison."
    kinds = PIE_KINDS
    Config = ChartPieConfig
