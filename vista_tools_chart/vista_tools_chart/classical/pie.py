"""Pie charts: a disk of colours whose wedges are read as angles around its centre, labelled by the legend or by
the text outside each wedge."""

from __future__ import annotations

import math
from collections import Counter

import cv2
import numpy as np

from ..ocr import Text
from .colours import as_rgb, is_blend_of
from .labels import dedupe
from .results import ChartParse, ChartParseError, Mark, Series


def is_disk(labels: np.ndarray) -> bool:
    """Whether the coloured marks are mostly one round blob (a pie; wedge edges closed over, as `_pie` does)."""
    blob = _biggest_piece(labels >= 0, 5)
    return blob is not None and blob[1]


def _biggest_piece(mask: np.ndarray, size: int) -> tuple[tuple[int, int, int, int], bool] | None:
    """The biggest piece of `mask` once gaps narrower than `size` pixels are closed: its box (x, y, w, h) and whether
    it is a disk (round within 0.8, its outline filling 0.6 of the circle). None where the mask is empty."""
    closed = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((size, size), np.uint8))
    n, comp, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    if n < 2:
        return None
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, y, w, h = (int(v) for v in stats[biggest][:4])
    disk = min(w, h) >= 0.8 * max(w, h) and _filled_area(comp, biggest) >= 0.6 * math.pi * (max(w, h) / 2) ** 2
    return (x, y, w, h), disk


def _filled_area(components: np.ndarray, k: int) -> float:
    """The area inside piece `k`'s outline, its holes filled: a donut's hole is part of its disk."""
    contours, _ = cv2.findContours((components == k).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return max((cv2.contourArea(c) for c in contours), default=0.0)


def read_pie(parser, texts, body, labels, colours, names, legend) -> ChartParse:
    # the disk's extent without the text: a black title closed onto a black wedge below it moved the centre up by
    # half the title's height, and every wedge's angle with it
    coloured = (labels >= 0) & ~parser.text_mask
    # wedges drawn apart (a gap of the background between them, wider than a stroke) are closed over by a wider
    # closing, tried only where the narrow one finds no disk (the rays below still check that it is a pie)
    for size in (5, max(9, int(0.04 * min(parser.width, parser.height)) | 1)):
        blob = _biggest_piece(coloured, size)
        if blob is None:
            raise ChartParseError("found no numeric axis and no pie: no tick labels were read and no coloured "
                                  "disk was found")
        (x, y, w, h), disk = blob
        if disk:
            break
    radius = max(w, h) / 2
    if not disk or radius < 15:
        raise ChartParseError("found no numeric axis and the coloured marks do not form a pie")
    cx, cy = x + w / 2, y + h / 2
    steps = 1440
    angles = 2 * np.pi * (np.arange(steps) + 0.5) / steps

    def sample(fractions: np.ndarray) -> np.ndarray:
        """The colour label at these fractions of the radius along every ray (-1 off the image)."""
        px = np.rint(cx + np.outer(np.cos(angles), fractions) * radius).astype(int)
        py = np.rint(cy - np.outer(np.sin(angles), fractions) * radius).astype(int)
        inside = (px >= 0) & (px < parser.width) & (py >= 0) & (py < parser.height)
        return np.where(inside, labels[py.clip(0, parser.height - 1), px.clip(0, parser.width - 1)], -1)

    # sampled in the disk's outer half: a stroke between wedges (or a wedge's label) spans a wider angle near
    # the centre, and a small wedge read there came out a tenth short (dev pies -n 40, seeds 0-3: 89% -> 93%)
    votes = sample(np.array([0.55, 0.65, 0.75, 0.85, 0.93]))
    shifted = votes + 1  # per ray, the most common label (-1, no colour, counts as its own)
    tallies = np.stack([(shifted == k).sum(axis=1) for k in range(len(colours) + 1)], axis=1)
    tallies[:, 0] = 0
    owners = np.where(tallies.max(axis=1) > 0, tallies.argmax(axis=1) - 1, -1).tolist()
    # a pie's wedges are radial: along most rays one colour from near the centre to the rim, and beyond the
    # rim no wedge colour (a colour gradient or a photograph has neither)
    radial = float(np.mean(tallies.max(axis=1) >= 3))
    beyond = float(np.mean(sample(np.array([1.12])) < 0))
    if radial < 0.6 or beyond < 0.6:
        raise ChartParseError("found no numeric axis, and the coloured region is not a pie (its colours do not "
                              "run in wedges from a centre)")
    if not texts:
        raise ChartParseError("found a coloured disk but no text at all: no labels, legend or percentages")
    # a mode filter around the circle removes the odd ray caught on an anti-aliased edge between slices
    owners = [max(set(w), key=w.count) for w in
              ([owners[(k + d) % steps] for d in range(-4, 5)] for k in range(steps))]
    start = next((k for k in range(steps) if owners[k] != owners[k - 1]), 0)
    runs: list[tuple[int, int, int]] = []  # colour, first step, length: maximal runs of one colour
    for k in range(steps):
        o = owners[(k + start) % steps]
        if runs and runs[-1][0] == o:
            runs[-1] = (o, runs[-1][1], runs[-1][2] + 1)
        else:
            runs.append((o, (k + start) % steps, 1))
    slices = _wedges(runs, steps, colours)
    total = sum(r[2] for r in slices)
    percent_texts = [t for t in body if t.number is not None and t.is_percent]
    used = set()
    plain = [t for t in body if t.number is None or not t.is_percent]
    disk_top = cy - radius
    series, index = parser.series([s[0] for s in slices], colours, names, "value")
    marks, categories = [], []
    for colour, first, length in slices:
        a0, a1 = 360.0 * first / steps, 360.0 * (first + length) / steps
        share = 100.0 * length / total
        mid = math.radians((a0 + a1) / 2)
        inside = [t for t in percent_texts if math.hypot(t.cx - cx, t.cy - cy) < radius
                  and _angle_between(math.degrees(math.atan2(cy - t.cy, t.cx - cx)) % 360, a0, a1)]
        if inside and abs(inside[0].number - share) <= 2.0:
            share = float(inside[0].number)
        if colour in names:
            label = names[colour]
        else:
            target = (cx + 1.2 * radius * math.cos(mid), cy - 1.2 * radius * math.sin(mid))
            # a text clear above the disk is its title (matplotlib and Vega-Lite leave a quarter of the radius or
            # more between them), not the label of a wedge at the top (a tenth of the radius out)
            outside = [t for t in plain if math.hypot(t.cx - cx, t.cy - cy) > 0.85 * radius and id(t) not in used
                       and t.box[3] >= disk_top - 0.15 * radius]
            label = None
            if outside:
                nearest = min(outside, key=lambda t: _box_distance(t, target))
                if _box_distance(nearest, target) < 0.8 * radius:
                    label = nearest.text
                    used.add(id(nearest))
            label = label or f"slice {len(categories) + 1}"
        categories.append(label)
        marks.append(Mark("slice", 0, label, round(share, 1), (float(x), float(y), float(x + w), float(y + h)),
                          angles=(round(a0, 2), round(a1, 2)), color=as_rgb(colours[colour])))
    categories = dedupe(categories)
    for mark, label in zip(marks, categories):
        mark.label = label
    legend_texts = {id(e.text) for e in legend}
    rest = [t for t in texts if id(t) not in used and id(t) not in legend_texts and not t.is_percent]
    title = " ".join(t.text for t in sorted([t for t in rest if t.box[3] < disk_top], key=lambda t: (t.cy, t.cx)))
    pie_series = [Series(name="share (%)", color=series[0].color if series else (0, 0, 0))]
    return ChartParse(parser.width, parser.height, "pie", title, "", "", texts, pie_series, marks, categories, legend,
                      None, pie=(float(cx), float(cy), float(radius)), polylines={})


def _wedges(runs: list[tuple[int, int, int]], steps: int, colours: list[np.ndarray]) -> list[tuple[int, int, int]]:
    """A pie's wedges from the runs of one colour around its circle (colour, first step, length; in order, wrapping
    around). A run with no colour or a very short one is a stroke drawn along the boundary between two wedges. So is
    a narrow run (under 1% of the circle) of a colour that draws a wedge five times as wide elsewhere or that is seen
    three times or more (black edges around the wedges), or whose colour is a blend of its neighbours' (the
    anti-aliased boundary between them). The boundary lies in the stroke's middle, so each neighbour takes half of
    it (a 2.7% wedge lost a tenth of its angle to its white edges when they were dropped instead)."""
    widest: dict[int, int] = {}
    for colour, _, length in runs:
        widest[colour] = max(widest.get(colour, 0), length)
    times = Counter(colour for colour, _, _ in runs)

    def between(i: int) -> bool:
        before, after = runs[i - 1][0], runs[(i + 1) % len(runs)][0]
        return before >= 0 and after >= 0 and is_blend_of(colours[runs[i][0]], colours[before], colours[after])

    keep = [colour >= 0 and length >= 4 and not (length <= 0.01 * steps and (
        widest[colour] >= 5 * length or times[colour] >= 3 or between(i)))
        for i, (colour, _, length) in enumerate(runs)]
    kept = [i for i, k in enumerate(keep) if k]
    if not kept:
        return []
    grown = {i: [runs[i][1], runs[i][2]] for i in kept}
    for i, run in enumerate(runs):
        if keep[i]:
            continue
        before = max((k for k in kept if k < i), default=kept[-1])
        after = min((k for k in kept if k > i), default=kept[0])
        half = run[2] / 2
        grown[before][1] += half
        grown[after][0] -= half
        grown[after][1] += half
    return [(runs[i][0], round(first) % steps, round(length)) for i, (first, length) in
            ((i, grown[i]) for i in kept)]


def _angle_between(angle: float, a0: float, a1: float) -> bool:
    return a0 <= angle <= a1 or a0 <= angle + 360 <= a1


def _box_distance(t: Text, point: tuple[float, float]) -> float:
    dx = max(t.box[0] - point[0], 0, point[0] - t.box[2])
    dy = max(t.box[1] - point[1], 0, point[1] - t.box[3])
    return math.hypot(dx, dy)
