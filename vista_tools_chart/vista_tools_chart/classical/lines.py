"""Line charts: each series' stroke traced per column and read at the category ticks."""

from __future__ import annotations

import cv2
import numpy as np

from .axes import precision, tick_marks
from .colours import CHROMA, as_rgb, gridlines, polyline
from .labels import anchor, assign_labels, dedupe, mend_sequence, rows_below, split_merged, unread_labels
from .results import ChartParse, ChartParseError, Mark, Scale


def read_lines(parser, texts, body, labels, scale: Scale, colours, names, legend) -> ChartParse:
    # text is no part of a line: anti-aliased light text on a dark background passes for a pale series colour;
    # nor are gridlines of a colour close to a series' (long straight strokes along the axes)
    unmasked = labels
    labels = np.where(parser.text_mask | gridlines((labels >= 0) & ~parser.text_mask, labels), -1, labels)
    tick_x = min(t.box[0] for t in scale.ticks)
    plot_left = max(t.box[2] for t in scale.ticks)
    plot_right = float(parser.width)
    if scale.far:  # tick labels on the right: the plot spans the marks (the y axis's line is no category's tick)
        marked = np.nonzero((labels >= 0).any(axis=0))[0]
        if len(marked):
            tick_x, plot_left, plot_right = 0.0, float(marked[0]) - 2, float(marked[-1]) + 2
    # a grey there is a gridline or anti-aliased text unless it draws a line across the plot; of a grey series,
    # only that line: not the tick marks and spines of its colour, nor the grey fringe of a darker line
    for c in range(len(colours)):
        if np.ptp(colours[c]) < CHROMA:
            darker = [np.abs(parser.rgb.astype(np.int16) - colours[k].astype(np.int16)).max(axis=2) <= 12
                      for k in range(len(colours)) if colours[k].mean() < colours[c].mean()]
            others = np.any(darker, axis=0) if darker else np.zeros(labels.shape, bool)
            fringe = cv2.dilate(others.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
            line = polyline((labels == c) & ~fringe, across=0.04, single=0.0)
            labels = np.where((labels == c) & ~line, -1, labels)
    used_colours = [c for c in range(len(colours)) if (labels[:, int(plot_left):] == c).sum() >= 20]
    columns = {c: _column_profile(labels == c) for c in used_colours}
    # a series is a stroke across the plot, or markers alone in a colour of their own (Vega-Lite's ggplot2 theme
    # draws a black line through blue points; the black is passed over beside a hue, the points are the series)
    # (large points at few categories cover a tenth of the columns or more: the blobs tell, not their extent)
    markers = {c for c in columns if _markers_only(labels == c, parser.width - plot_left)}
    columns = {c: p for c, p in columns.items() if np.isfinite(p).sum() >= 0.1 * parser.width or c in markers}
    if not columns:
        raise ChartParseError("found a numeric axis but no coloured bars, lines or markers")
    lowest_line = max(int(np.max(np.nonzero(np.any(labels == c, axis=1))[0])) for c in columns)
    bottom = max(lowest_line, max(t.cy for t in scale.ticks))
    # the x axis's spine where one is drawn: value labels under the lowest points still stand above it
    spine = np.nonzero(parser.strong_ink[int(bottom):, int(plot_left):].mean(axis=1) >= 0.5)[0]
    if len(spine):
        bottom += int(spine[0])
    # the first category may stand on the plot's left edge (Plotly and Excel put the first point on the y axis), its
    # label centred there, half of it under the y tick labels: a label is one that reaches right of their column
    candidates = [t for t in body if id(t) not in {id(s) for s in scale.ticks} and t.box[2] > plot_left + 2]
    tick_row = rows_below(candidates, bottom, left=tick_x)
    if len(tick_row) < 2:
        tick_row = parser.reread_row(tick_row, bottom, plot_left)
    if not tick_row:
        raise ChartParseError("found lines but no category labels under the x axis")
    # tick marks in black, or in a mid grey (Vega-Lite's), or a light grey under a light grey axis line, or else
    # the labels' middles; marks only where every label has one near its middle (a grey gridline's dashes under
    # the axis are no tick marks)
    def marks_under(ink: np.ndarray) -> list[float]:
        return [m for m in tick_marks(ink, bottom, plot_left) if m <= plot_right]

    positions = next((marks for marks in (marks_under(parser.strong_ink), marks_under(parser.ink),
                                          _within_labels(marks_under(parser.faint_ink), tick_row))
                      if _under_labels(marks, tick_row)), None)
    # or else where the labels stand: less surely than tick marks (a slanted label's end stands a few pixels off
    # its point), so the lines' vertices may move them further
    anchored = positions is None
    if positions is None:
        tick_row = split_merged(parser.rgb, parser.ink, tick_row)
        positions = [anchor(parser.ink, t, parser.faint_ink) for t in tick_row]
    tick_row = unread_labels(parser.rgb, positions, tick_row, "x")
    categories = dedupe(mend_sequence(assign_labels(parser.rgb, parser.ink, positions, tick_row, "x"), positions))
    digits = precision(scale)
    spacing = float(np.median(np.diff(positions))) if len(positions) > 1 else 0.2 * parser.width
    # a marker that OCR read as a letter ('9', 'R') is still a marker: markers are looked up before the text is cut
    positions = vertex_positions([p for c, p in columns.items() if c not in markers], positions, spacing,
                                 reach=0.12 if anchored else 0.05)
    heights = {c: [_height_at((unmasked if c in markers else labels) == c, profile, x, spacing,
                              reach=0.25 * spacing if c in markers else 3)
                   for x in positions] for c, profile in columns.items()}
    for c, row in heights.items():
        for k, y in enumerate(row):
            if y is None:
                row[k] = _hidden_height(c, columns, heights, k, positions[k])
    # markers drawn on a line in a colour of their own (Vega-Lite's default: blue points on a slate line) are
    # that line's points, no series of their own; their centres are its vertices, read more surely than a
    # line's end extrapolated from its last segment
    for c in markers:
        line = next((d for d in heights if d not in markers and _same_points(heights[c], heights[d])), None)
        if line is not None and c not in names:
            heights[line] = [m if m is not None and y is not None and abs(m - y) <= 3 else y
                             for m, y in zip(heights.pop(c), heights[line])]
    series, index = parser.series(list(heights), colours, names, "value")
    marks, polylines = [], {}
    for c, row in heights.items():
        points = [(x, y) for x, y in zip(positions, row) if y is not None]
        marks += [Mark("point", index[c], label, round(scale.value(y), digits), (x - 3, y - 3, x + 3, y + 3),
                       color=as_rgb(colours[c])) for label, x, y in zip(categories, positions, row) if y is not None]
        polylines[index[c]] = points
    top = min(min(t.box[1] for t in scale.ticks),
              min(int(np.min(np.nonzero(np.any(labels == c, axis=1))[0])) for c in columns))
    title, x_label, y_label = parser.title_and_axis_labels(
        body, top, {id(t) for t in tick_row} | {id(t) for t in scale.ticks}, left=None if scale.far else tick_x,
        right=max(t.box[2] for t in scale.ticks) if scale.far else None, bottom=max(t.box[3] for t in tick_row))
    if len(series) == 1 and series[0].name == "value" and y_label:
        series[0].name = y_label
    return ChartParse(parser.width, parser.height, "line", title, x_label, y_label, texts, series, marks, categories,
                      legend, scale, polylines=polylines)


def _column_profile(mask: np.ndarray) -> np.ndarray:
    """Per column, the median row of the mask's pixels, as the row's centre in image coordinates (row r spans
    r to r + 1, as the tick positions and bar ends do); NaN where it has none."""
    profile = np.full(mask.shape[1], np.nan)
    for column in np.nonzero(mask.any(axis=0))[0]:
        profile[column] = float(np.median(np.nonzero(mask[:, column])[0])) + 0.5
    return profile


def _hidden_height(colour: int, profiles: dict[int, np.ndarray], heights: dict[int, list], k: int,
                   x: float) -> float | None:
    """Where a series vanishes it runs under another one drawn on top: take the height of the series that
    covers it at the edge of where it was last seen."""
    seen = np.nonzero(np.isfinite(profiles[colour]))[0]
    if not len(seen):
        return None
    edge = int(seen[np.argmin(np.abs(seen - x))])
    step = 3 if x > edge else -3
    own = profiles[colour][edge]
    for c, profile in profiles.items():
        beyond = min(max(edge + step, 0), len(profile) - 1)
        if c != colour and heights[c][k] is not None and np.isfinite(profile[beyond]) \
                and abs(profile[beyond] - own) <= 4:
            return heights[c][k]
    return None


def _under_labels(marks: list[float], labels: list) -> bool:
    """Whether tick marks stand at the category labels: one within half a label's width (or half the marks'
    spacing) of every label's middle, each label's its own. Marks found at every other label (the ticks between
    drawn anti-aliased over two pixel columns, too faint to pass) are half of them, twice as far apart: every
    label is within half of that spacing of one, but two labels share it."""
    if len(marks) < 2:
        return False
    spacing = float(np.median(np.diff(marks)))
    nearest = [int(np.argmin([abs(m - t.cx) for m in marks])) for t in labels]
    return len(set(nearest)) == len(nearest) and all(
        abs(marks[k] - t.cx) <= max(0.5 * t.width, 0.5 * spacing) for k, t in zip(nearest, labels))


def _within_labels(marks: list[float], labels: list) -> list[float]:
    """Light grey marks under the axis less those at its ends that stand off the marks' even spacing: the plot's
    frame and gridlines in that grey reach under the axis at its ends too, half a spacing beyond the first and last
    category."""
    if len(marks) < 4 or not labels:
        return marks
    spacing = float(np.median(np.diff(marks)))
    while len(marks) > 2 and abs(marks[1] - marks[0] - spacing) > 0.25 * spacing:
        marks = marks[1:]
    while len(marks) > 2 and abs(marks[-1] - marks[-2] - spacing) > 0.25 * spacing:
        marks = marks[:-1]
    return marks


def _same_points(markers: list[float | None], line: list[float | None]) -> bool:
    """Whether markers sit on a line: within 3 px of it at four fifths or more of the categories both hold."""
    both = [(a, b) for a, b in zip(markers, line) if a is not None and b is not None]
    return bool(both) and sum(abs(a - b) <= 3 for a, b in both) >= 0.8 * len(both)


def _markers_only(mask: np.ndarray, plot_width: float) -> bool:
    """Whether a colour draws markers and nothing else: three or more small round or square blobs, most of its
    pixels, spread over a third of the plot's width or more."""
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    blobs = [k for k in range(1, n) if stats[k, cv2.CC_STAT_AREA] >= 4
             and max(stats[k, cv2.CC_STAT_WIDTH], stats[k, cv2.CC_STAT_HEIGHT]) <= max(6.0, 0.05 * plot_width)
             and 0.6 <= stats[k, cv2.CC_STAT_WIDTH] / stats[k, cv2.CC_STAT_HEIGHT] <= 1.6]
    if len(blobs) < 3 or stats[blobs, cv2.CC_STAT_AREA].sum() < 0.8 * mask.sum():
        return False
    centres = stats[blobs, cv2.CC_STAT_LEFT] + stats[blobs, cv2.CC_STAT_WIDTH] / 2
    return float(np.ptp(centres)) >= plot_width / 3


def _side_fits(profile: np.ndarray, x: float, spacing: float) -> list[np.ndarray]:
    """The stroke's straight line fitted on each side of column x (clear of the vertex, where joins and markers
    bulge), as polynomial coefficients; a side too short to fit is left out."""
    fits = []
    for side in (-1, 1):
        near, far = x + side * 0.15 * spacing, x + side * 0.6 * spacing
        columns = np.arange(int(round(min(near, far))), int(round(max(near, far))) + 1)
        columns = columns[(columns >= 0) & (columns < len(profile))]
        columns = columns[np.isfinite(profile[columns])]
        if len(columns) < max(5, 0.15 * spacing):
            continue
        rows = profile[columns]
        fit = np.polyfit(columns, rows, 1)
        keep = np.abs(np.polyval(fit, columns) - rows) <= 1.5
        if keep.sum() >= 5:  # another series crossing or a label on the stroke: fit the rest again
            fit = np.polyfit(columns[keep], rows[keep], 1)
        fits.append(fit)
    return fits


def vertex_positions(profiles: list[np.ndarray], positions: list[float], spacing: float,
                     reach: float = 0.05) -> list[float]:
    """The categories' columns, where the lines' vertices stand: where two segments of clearly different slopes
    meet, their crossing is the vertex whatever the ticks (or the labels' middles) say. A renderer may draw its
    tick marks a pixel off the points (Vega-Lite shifts them half a pixel onto the pixel grid, 0.75 px at 1.5x),
    a label's middle can stand a pixel or two off its point where no tick marks are drawn, and a steep segment read
    a pixel off is read 3-5 px high or low. Categories stand evenly spaced: where vertices show at three categories
    or more, the evenly spaced columns fitted through them (which place the first and last points too, ends of a
    single segment); else the positions moved by the vertices' median offset (at two or more), else as given.
    A vertex counts within `reach` of the spacing of its position (more where the labels, not tick marks, placed
    the positions)."""
    crossings: dict[int, list[float]] = {}
    for profile in profiles:
        for k, x in enumerate(positions):
            fits = _side_fits(profile, x, spacing)
            if len(fits) == 2 and abs(fits[0][0] - fits[1][0]) >= 0.5:
                crossing = (fits[1][1] - fits[0][1]) / (fits[0][0] - fits[1][0])
                if abs(crossing - x) <= max(2.0, reach * spacing):
                    crossings.setdefault(k, []).append(float(crossing))
    even = len(positions) >= 3 and float(np.ptp(np.diff(positions))) <= 0.1 * spacing
    if even and len(crossings) >= 3:
        ks = sorted(crossings)
        seen = [float(np.median(crossings[k])) for k in ks]
        slope, intercept = np.polyfit(ks, seen, 1)
        fitted = [float(intercept + slope * k) for k in range(len(positions))]
        if max(abs(fitted[k] - x) for k, x in zip(ks, seen)) <= 1.0 \
                and max(abs(f - p) for f, p in zip(fitted, positions)) <= max(3.0, (reach + 0.05) * spacing):
            return fitted
    offsets = [c - positions[k] for k, found in crossings.items() for c in found]
    shift = float(np.median(offsets)) if len(offsets) >= 2 else 0.0
    return [p + shift for p in positions]


def _height_at(mask: np.ndarray, profile: np.ndarray, x: float, spacing: float, reach: float = 3) -> float | None:
    """The line's pixel row at column x. A line is straight between vertices and the middle of a straight
    stroke's column is its centre line, so fit the stroke on each side and meet it at x; fall back to the pixels
    within `reach` of x when neither side is long enough (a series of markers alone: the marker nearest x)."""
    estimates = [float(np.polyval(fit, x)) for fit in _side_fits(profile, x, spacing)]
    if estimates:
        return float(np.mean(estimates))
    xi = int(round(x))
    for radius in sorted({1, 2, 3, max(3, int(reach))}):
        ys = np.unique(np.nonzero(mask[:, max(0, xi - radius):xi + radius + 1])[0])
        if len(ys):
            run = max(np.split(ys, np.nonzero(np.diff(ys) > 2)[0] + 1), key=len)
            return (float(run[0]) + float(run[-1])) / 2 + 0.5
    return None
