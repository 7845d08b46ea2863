"""Bar charts: filled rectangles growing from the value axis, grouped into categories, read off the scale."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..ocr import Text
from .axes import precision
from .colours import as_rgb
from .labels import assign_labels, column_left_of, dedupe, join_stacked, mend_sequence, rows_below, unread_labels
from .results import ChartParse, Mark, Scale


@dataclass
class Rect:
    colour: int
    x0: int
    y0: int
    x1: int  # exclusive
    y1: int

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2


def rectangles(labels: np.ndarray, n_colours: int, rgb: np.ndarray | None = None) -> list[Rect]:
    """Filled axis-aligned rectangles of one colour: bar candidates. Strokes of the same colour class touching a
    bar (a gridline of a colour close to the bars', an anti-aliased edge) would join it into one shape that is not
    a rectangle: shapes are taken from the mask opened by 5 x 5, which strokes do not survive; bars thinner than
    that (a bar a pixel or two short) come from the mask as drawn. Gridlines drawn over bars in the background's
    colour cut them in two, so thin gaps are closed first; bars drawn with next to no padding touch, or are a
    pixel or two apart, which closing joins: a shape that is no rectangle is cut into the bars it is made of (see
    `_bars_in`)."""
    rects: list[Rect] = []
    square = np.ones((5, 5), np.uint8)
    for c in range(n_colours):
        mask = cv2.morphologyEx((labels == c).astype(np.uint8), cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
        for source, thin in ((cv2.morphologyEx(mask, cv2.MORPH_OPEN, square), False), (mask, True)):
            n, components, stats, _ = cv2.connectedComponentsWithStats(source, connectivity=4)
            for i in range(1, n):
                x, y, w, h, area = stats[i]
                if thin and min(w, h) >= 5:
                    continue  # found in the opened mask already
                if max(w, h) >= 4 and area >= 4 and area >= 0.85 * w * h:
                    rects.append(Rect(c, int(x), int(y), int(x + w), int(y + h)))
                elif not thin and rgb is not None and min(w, h) >= 5:
                    shape = components[y:y + h, x:x + w] == i
                    drawn = (labels[y:y + h, x:x + w] == c) & shape
                    rects += [Rect(c, int(x + a), int(y + b), int(x + e), int(y + f))
                              for a, b, e, f in _bars_in(drawn, rgb[y:y + h, x:x + w])]
    return rects


def _bars_in(shape: np.ndarray, rgb: np.ndarray) -> list[tuple[int, int, int, int]]:
    """The rectangles (x0, y0, x1, y1, ends exclusive) that a shape of one colour class is made of: bars side by
    side with no gap, or one of a pixel or two, or a seam of the colour blended with the background between them
    (which is given the bar's colour). Seam rows and columns (across the shape, off its core colour) are cut out;
    then the shape's rows (or columns) are grouped into runs of the same extent, each run a bar; the direction whose
    bars cover more of the shape wins. A shape that cuts into no such runs gives none."""
    core = np.median(rgb[shape], axis=0)
    off = (np.abs(rgb.astype(int) - core).max(axis=2) > 25) & shape
    counts = shape.sum(axis=1), shape.sum(axis=0)
    seam_rows = (off.sum(axis=1) >= 0.8 * np.maximum(counts[0], 1)) & (counts[0] > 0)
    seam_columns = (off.sum(axis=0) >= 0.8 * np.maximum(counts[1], 1)) & (counts[1] > 0)
    cut = shape & ~seam_rows[:, None] & ~seam_columns[None, :]
    best: list[tuple[int, int, int, int]] = []
    best_area = 0
    for transposed in (False, True):
        grid = cut.T if transposed else cut
        found, run_start, extent = [], None, None
        for k in range(grid.shape[0] + 1):
            filled = np.nonzero(grid[k])[0] if k < grid.shape[0] else np.array([], int)
            here = (int(filled[0]), int(filled[-1]) + 1) if len(filled) else None
            if here is not None and len(filled) < here[1] - here[0] - 1:
                here = None  # a row with holes (a seam across it): no bar's
            if extent is not None and (here is None or abs(here[0] - extent[0]) > 1 or abs(here[1] - extent[1]) > 1):
                if k - run_start >= 3:
                    found.append((extent[0], run_start, extent[1], k))
                run_start, extent = None, None
            if here is not None and extent is None:
                run_start, extent = k, here
        if transposed:
            found = [(b, a, f, e) for a, b, e, f in found]
        area = sum((e - a) * (f - b) for a, b, e, f in found)
        if area > best_area:
            best, best_area = found, area
    return best if best_area >= 0.7 * shape.sum() else []


def on_baseline(rects: list[Rect], scale: Scale | None, vertical: bool) -> list[Rect]:
    """The rectangles that grow from the value axis's zero (or, when zero is off the axis, from the common edge
    most of them share): bars, as opposed to legend swatches, square markers or bold text strokes."""
    if scale is None or not rects:
        return []
    zero = scale.pixel(0.0)

    def near(r: Rect) -> float:
        ends = (r.y0, r.y1) if vertical else (r.x0, r.x1)
        return min(ends, key=lambda e: abs(e - zero))

    def area(group: list[Rect]) -> int:
        return sum((r.x1 - r.x0) * (r.y1 - r.y0) for r in group)

    on_zero = [r for r in rects if abs(near(r) - zero) <= 3]
    # by area: specks of anti-aliased text in a bar's colour are many, and small
    if on_zero and area(on_zero) >= area(rects) / 3:
        return on_zero
    edges = [r.y1 if vertical else r.x0 for r in rects]
    common = max(set(edges), key=lambda e: sum(abs(f - e) <= 2 for f in edges))
    shared = [r for r, e in zip(rects, edges) if abs(e - common) <= 2]
    return shared if len(shared) >= 2 else []


def short_bars_checked(rects: list[Rect], vertical: bool) -> list[Rect]:
    """Keep a bar under 2 pixels long, or a small one, only where it is as wide as the other bars and of a colour
    that draws them (a stroke of anti-aliasing or of a bar's edge is neither)."""
    def length(r: Rect) -> int:
        return r.y1 - r.y0 if vertical else r.x1 - r.x0

    def width(r: Rect) -> int:
        return r.x1 - r.x0 if vertical else r.y1 - r.y0

    # two bars never stand across the same stretch of the axis: a sliver on a longer bar's end is the blend of its
    # colour with a spine (two greys make a third in a grayscale style), not a bar of another series
    if rects:
        spans = np.array([(r.x0, r.x1) if vertical else (r.y0, r.y1) for r in rects], float)
        lengths = np.array([length(r) for r in rects])
        short = np.nonzero(lengths <= 3)[0]
        overlap = np.clip(np.minimum(spans[short, None, 1], spans[None, :, 1])
                          - np.maximum(spans[short, None, 0], spans[None, :, 0]), 0, None)
        sizes = spans[:, 1] - spans[:, 0]
        overlap /= np.maximum(1, np.minimum(sizes[short, None], sizes[None, :]))
        on_longer = ((overlap >= 0.5) & (lengths[None, :] > lengths[short, None])).any(axis=1)
        dropped = set(short[on_longer].tolist())
        rects = [r for i, r in enumerate(rects) if i not in dropped]
    normal = [r for r in rects if min(length(r), width(r)) >= 2 and length(r) * width(r) >= 24]
    if not normal:
        return rects
    typical = float(np.median([width(r) for r in normal]))
    colours = {r.colour for r in normal}
    if len(colours) == len(normal):
        return normal  # a colour per bar: one series, and no group in which a short bar could stand
    return normal + [r for r in rects if r not in normal and r.colour in colours and length(r) <= 3
                     and abs(width(r) - typical) <= 0.15 * typical + 1]


def spread(values: list[float]) -> float:
    return float(np.std(values) / max(np.mean(values), 1e-6)) if values else 0.0


def _unlabelled(positions: list[float], row: list) -> bool:
    """Whether some category position has no label text across it (nor within a quarter of the spacing: a
    rotated label ends at its tick)."""
    spacing = float(np.median(np.diff(positions))) if len(positions) > 1 else 0.0
    return any(not any(t.box[0] - 0.25 * spacing <= p <= t.box[2] + 0.25 * spacing for t in row) for p in positions)


def read_bars(parser, texts, body, rects, scale: Scale, vertical: bool, colours, names, legend) -> ChartParse:
    zero = scale.pixel(0.0)
    marks_raw, ends = [], []
    for r in rects:
        # a bar grows from zero: its far end is the value (below zero for negative bars)
        if vertical:
            end = r.y0 if abs(r.y1 - zero) <= abs(r.y0 - zero) else r.y1
            outward = -1 if end == r.y0 else 1
        else:
            end = r.x1 if abs(r.x0 - zero) <= abs(r.x1 - zero) else r.x0
            outward = 1 if end == r.x1 else -1
        end += outward * _edge_width(parser, r, vertical, outward) / 2
        marks_raw.append((r, scale.value(end)))
        ends.append((end, outward))
    value_labels, value_label_texts = _value_labels(body, rects, ends, vertical)
    for k, (r, value) in enumerate(marks_raw):
        read = value_labels.get(k)
        if read is not None and abs(read - value) <= 0.1 * max(abs(value), scale.step):
            marks_raw[k] = (r, read)
    used_texts = {id(t) for t in scale.ticks}
    candidates = [t for t in body if id(t) not in used_texts and id(t) not in value_label_texts]
    if vertical:
        bottom = max(max(r.y1 for r in rects), max(t.cy for t in scale.ticks))
        candidates = join_stacked(parser.rgb, candidates)
        # category labels stand right of the value axis's tick labels, or anywhere under the bars when those stand
        # on the right
        label_left = 0.0 if scale.far else min(t.box[0] for t in scale.ticks)
        tick_row = rows_below(candidates, bottom, left=label_left)
        groups = _groups(rects, vertical, series_named=len(names) >= 2)
        positions = [float(np.mean([rects[i].cx for i in g])) for g in groups]
        # read again only where a bar has no label over it: labels merged into one line are cut by assign_labels
        # (reading the strip again at twice the size took a fifth of a vertical bar chart's time, mostly for them)
        if len(tick_row) < len(groups) and _unlabelled(positions, tick_row):
            tick_row = parser.reread_row(tick_row, bottom, label_left)
        tick_row = unread_labels(parser.rgb, positions, tick_row, "x")
        groups, positions = _empty_categories(rects, groups, positions, tick_row, vertical)
        group_labels = assign_labels(parser.rgb, parser.ink, positions, tick_row, "x")
        top = min(min(r.y0 for r in rects), min(t.box[1] for t in scale.ticks))
        title, x_label, y_label = parser.title_and_axis_labels(
            body, top, {id(t) for t in tick_row} | used_texts | value_label_texts,
            left=None if scale.far else label_left, right=max(t.box[2] for t in scale.ticks) if scale.far else None,
            bottom=max((t.box[3] for t in tick_row), default=bottom))
    else:
        left = min(min(r.x0 for r in rects), min(t.cx for t in scale.ticks))
        top_px, bottom_px = min(r.y0 for r in rects), max(r.y1 for r in rects)
        tick_column = column_left_of(candidates, left, top_px, bottom_px)
        groups = _groups(rects, vertical, series_named=len(names) >= 2)
        if len(tick_column) < len(groups):
            # up to the bars' start and a little past it: a label set flush against them ends there ('Japar')
            reread = column_left_of(parser.reread((0, top_px - 10, left + 2, bottom_px + 10)), left, top_px,
                                     bottom_px)
            tick_column = reread if len(reread) > len(tick_column) else tick_column
        positions = [float(np.mean([rects[i].cy for i in g])) for g in groups]
        tick_column = unread_labels(parser.rgb, positions, tick_column, "y")
        groups, positions = _empty_categories(rects, groups, positions, tick_column, vertical)
        group_labels = assign_labels(parser.rgb, parser.ink, positions, tick_column, "y")
        top = min(top_px, min(t.box[1] for t in scale.ticks)) - 4
        title, x_label, y_label = parser.title_and_axis_labels(
            body, top, {id(t) for t in tick_column} | used_texts | value_label_texts,
            left=min((t.box[0] for t in tick_column), default=left),
            bottom=bottom_px if scale.far else max(t.box[3] for t in scale.ticks))
    group_labels = dedupe(mend_sequence(group_labels, positions))
    # series in drawing order: by where their bars sit inside the groups (left to right, top down)
    rank = {c: float(np.mean([g.index(i) for g in groups for i in g if rects[i].colour == c]))
            for c in {r.colour for r in rects}}
    # a series the legend names but no bar draws has values too small beside the others' to show (under a pixel
    # each): it is in the table, at zero to the pixel, not dropped
    unseen = [c for c in names if c not in rank]
    series, index = parser.series(sorted(rank, key=rank.get) + unseen, colours, names,
                                  (y_label if vertical else x_label) or "value")
    if all(len(g) <= 1 for g in groups) and len(names) < 2:
        # one bar per category in several colours is one series drawn with a colour per bar
        series, index = series[:1], {r.colour: 0 for r in rects}
        series[0].name = names.get(rects[0].colour) or (y_label if vertical else x_label) or "value"
    digits = precision(scale)
    marks = []
    for g, label, position in zip(groups, group_labels, positions):
        for i in g:
            r, value = marks_raw[i]
            marks.append(Mark("bar", index[r.colour], label, round(value, digits),
                              (float(r.x0), float(r.y0), float(r.x1), float(r.y1)), color=as_rgb(colours[r.colour])))
        if len(series) > 1 or not g:
            # a series with no bar in this group has a bar too short to draw: its value is zero to the pixel
            box = (position - 1, zero, position + 1, zero) if vertical else (zero, position - 1, zero, position + 1)
            for k in sorted(set(range(len(series))) - {index[rects[i].colour] for i in g}):
                marks.append(Mark("bar", k, label, 0.0, box, color=series[k].color))
    order = sorted(range(len(groups)), key=lambda k: positions[k])  # reading order: left to right, top down
    categories = [group_labels[k] for k in order]
    return ChartParse(parser.width, parser.height, "bar" if vertical else "horizontal_bar", title, x_label, y_label,
                      texts, series, marks, categories, legend, scale)


def _empty_categories(rects: list[Rect], groups: list[list[int]], positions: list[float], tick_labels: list[Text],
                      vertical: bool) -> tuple[list[list[int]], list[float]]:
    """Categories whose bars are too short to draw (a value of zero): a tick label standing clear of every bar
    marks one, at the label's position. A label that spans a bar (labels merged into one line) marks none."""
    if not groups:
        return groups, positions
    spans = [(min(rects[i].x0 if vertical else rects[i].y0 for i in g),
              max(rects[i].x1 if vertical else rects[i].y1 for i in g)) for g in groups]
    clearance = 0.25 * float(np.median([b - a for a, b in spans]))
    groups, positions = list(groups), list(positions)
    for t in tick_labels:
        lo, hi = (t.box[0], t.box[2]) if vertical else (t.box[1], t.box[3])
        centre = (lo + hi) / 2
        if any(lo - 2 <= p <= hi + 2 for p in positions):
            continue
        if all(centre <= a - clearance or centre >= b + clearance for a, b in spans):
            groups.append([])
            positions.append(centre)
            spans.append((centre, centre))
    return groups, positions


def _edge_width(parser, r: Rect, vertical: bool, outward: int) -> int:
    """The width in pixels of an edge stroke drawn around a bar, seen beyond its far end (0 when it has none).
    The stroke is centred on the bar's outline, so the value lies half of it beyond the fill."""
    if vertical:
        across = slice(r.x0 + 2, max(r.x0 + 3, r.x1 - 2))
        start = r.y0 - 1 if outward < 0 else r.y1
        lines = [parser.ink[y, across] for y in range(start, start + 4 * outward, outward) if 0 <= y < parser.height]
    else:
        across = slice(r.y0 + 2, max(r.y0 + 3, r.y1 - 2))
        start = r.x1 if outward > 0 else r.x0 - 1
        lines = [parser.ink[across, x] for x in range(start, start + 4 * outward, outward) if 0 <= x < parser.width]
    width = 0
    for line in lines:
        if not len(line) or line.mean() < 0.7:
            break
        width += 1
    return width


def _value_labels(body: list[Text], rects: list[Rect], ends: list[tuple[int, int]],
                  vertical: bool) -> tuple[dict[int, float], set[int]]:
    """Numbers printed at a bar's far end (`bar_label`), just outside or just inside it: exact values, used
    when they agree with the pixels. Returns them by bar index, and the ids of the texts used."""
    found: dict[int, float] = {}
    ids: set[int] = set()
    for t in body:
        if t.number is None:
            continue
        best, best_gap = None, None
        for k, (r, (end, outward)) in enumerate(zip(rects, ends)):
            across, (lo, hi) = (t.cx, (r.x0, r.x1)) if vertical else (t.cy, (r.y0, r.y1))
            if not lo - 2 <= across <= hi + 2:
                continue
            near_edge = (t.box[3] if outward < 0 else t.box[1]) if vertical else \
                (t.box[0] if outward > 0 else t.box[2])
            gap = (near_edge - end) * outward  # positive: beyond the end, negative: inside the bar
            extent = t.height if vertical else t.width
            if -1.2 * extent <= gap <= 1.5 * t.height + 4 and (best_gap is None or abs(gap) < best_gap):
                best, best_gap = k, abs(gap)
        if best is not None and best not in found:
            found[best] = float(t.number)
            ids.add(id(t))
    return found, ids


def _groups(rects: list[Rect], vertical: bool, series_named: bool) -> list[list[int]]:
    """Bars of different series side by side are one category of a grouped chart: the gaps inside a group
    are clearly narrower than those between groups. Evenly spaced bars are one category each, and so are bars of a
    colour each when no legend names two series (one series coloured bar by bar: its gaps are uneven only where a
    bar too short to draw stands)."""
    order = sorted(range(len(rects)), key=lambda i: rects[i].cx if vertical else rects[i].cy)
    gaps = [rects[b].x0 - rects[a].x1 if vertical else rects[b].y0 - rects[a].y1 for a, b in zip(order, order[1:])]
    if not gaps or max(gaps) <= 2 * max(min(gaps), 0) + 2 \
            or not series_named and len({r.colour for r in rects}) == len(rects):
        return [[i] for i in order]
    threshold = (min(gaps) + max(gaps)) / 2
    groups = [[order[0]]]
    for gap, i in zip(gaps, order[1:]):
        if gap < threshold and rects[i].colour not in {rects[j].colour for j in groups[-1]}:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups
