"""The offline chart parser: OCR for text, colour segmentation for marks, axis scales fitted from tick labels.

It reads ordinary matplotlib-style charts: vertical, horizontal and grouped bars, lines with or without markers,
and pies. The steps:

1. OCR every text line; numbers among them are tick-label candidates.
2. Find the chart's series colours (chromatic colours, plus mid greys that fill bars or slices) and give every pixel
   the colour it is a shade of, so anti-aliased line edges still count for their line.
3. Bind colours to names through the legend (a small swatch left of a text), then blank the legend out.
4. Fit the value axis: tick labels aligned in a column (or row) whose numbers are a linear function of their pixel
   position, found by RANSAC so an OCR miss or a stray number does not bend the scale.
5. Decide the chart type from the marks (filled rectangles: bars; a disk of colours and no axis: a pie; else lines)
   and read each value off the scale: bar ends, line heights at the category ticks, slice angles.

The modules follow those steps: `colours` (segmentation), `axes` (scales and tick marks), `legend`, `labels`
(category labels at the mark positions), one reader per chart type (`bars`, `lines`, `pie`), `parser` (the steps in
order) and `results` (what is found).
"""

from .axes import find_scales, fit_scale, snap_to_tick_marks
from .colours import Pixels, find_colours, label_pixels, polyline
from .legend import find_legend
from .parser import ChartParser, parse_chart
from .results import CHART_TYPES, ChartParse, ChartParseError, LegendEntry, Mark, Scale, Series

__all__ = ["CHART_TYPES", "ChartParse", "ChartParseError", "ChartParser", "LegendEntry", "Mark", "Pixels", "Scale",
           "Series", "find_colours", "find_legend", "find_scales", "fit_scale", "label_pixels", "parse_chart",
           "polyline", "snap_to_tick_marks"]
