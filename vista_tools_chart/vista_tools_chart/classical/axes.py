"""The numeric axes: tick labels fitted to a linear pixel/value scale, snapped to the drawn tick marks; the
category axis's tick marks."""

from __future__ import annotations

import itertools
import math
import re

import numpy as np

from ..ocr import Text
from .results import Scale


def fit_scale(ticks: list[Text], direction: str) -> tuple[Scale | None, float]:
    """RANSAC over pairs of numeric labels: the linear value/pixel map most labels agree with, and its quality."""
    points = [(t.cy if direction == "y" else t.cx, t.number, t) for t in ticks if t.number is not None]
    best: tuple[int, float, list] | None = None
    for (p1, v1, _), (p2, v2, _) in itertools.combinations(points, 2):
        if abs(p2 - p1) < 5 or v1 == v2:
            continue
        slope = (v2 - v1) / (p2 - p1)
        if direction == "y" and slope >= 0 or direction == "x" and slope <= 0:
            continue  # values grow upwards and rightwards on an ordinary axis
        intercept = v1 - slope * p1
        inliers = [pt for pt in points if abs((pt[1] - intercept) / slope - pt[0]) < 3.5]
        residual = sum(abs((pt[1] - intercept) / slope - pt[0]) for pt in inliers)
        if best is None or (len(inliers), -residual) > (best[0], -best[1]):
            best = (len(inliers), residual, inliers)
    if best is None or best[0] < 2:
        return None, 0.0
    inliers = best[2]
    positions = np.array([p for p, _, _ in inliers])
    values = np.array([v for _, v, _ in inliers])
    slope, intercept = np.polyfit(positions, values, 1)
    spacing = np.diff(np.sort(values))
    regular = len(spacing) > 1 and np.allclose(spacing, spacing[0], rtol=0.02)
    quality = len(inliers) + (1.5 if regular else 0.0)
    return Scale(direction, float(slope), float(intercept), [t for _, _, t in inliers]), quality


def _aligned_groups(texts: list[Text], key, tolerance: float) -> list[list[Text]]:
    ordered = sorted(texts, key=key)
    groups: list[list[Text]] = []
    for t in ordered:
        if groups and key(t) - key(groups[-1][-1]) <= tolerance:
            groups[-1].append(t)
        else:
            groups.append([t])
    return [g for g in groups if len(g) >= 2]


_DASH = re.compile(r"^[-−–—]\s*(?=\d)")


def _undashed(t: Text) -> Text:
    return Text(_DASH.sub("", t.text), t.box, t.score) if _DASH.match(t.text) else t


def _digits_left(t: Text) -> float:
    """Where a label's digits start if a tick mark read into it as a minus sign ('- 3', '-40') takes its share of
    the box (so that it lines up with the labels read without their marks, '5', '0'; a box may also have been cut
    after the mark's ink already, `parser._without_symbol`, so both this and the box's left end are tried)."""
    dash = _DASH.match(t.text)
    return t.box[0] + t.width * len(dash[0]) / len(t.text) if dash else t.box[0]


def find_scales(texts: list[Text], marks: np.ndarray | None = None) -> tuple[Scale | None, Scale | None]:
    """The best vertical (y) and horizontal (x) numeric axis, each from labels aligned like tick labels. With the
    mask of the chart's marks, a column of numbers standing among the marks (a line's value labels above its points
    line up too, and are linear in their height) is not an axis: tick labels stand left of or under the marks, or,
    where no axis stands there, on the far side: right of them (left-aligned) or above them (`Scale.far`)."""
    numeric = [t for t in texts if t.number is not None]
    left, low, right, high = -np.inf, np.inf, np.inf, -np.inf
    if marks is not None and marks.any():
        ys, xs = np.nonzero(marks)
        left, low = float(np.percentile(xs, 2)), float(np.percentile(ys, 98))
        right, high = float(np.percentile(xs, 98)), float(np.percentile(ys, 2))
    result = []
    # tick labels left of the plot line up at their right ends or middles, those right of it at their left ends
    for direction, keys in (("y", ((lambda t: t.box[2], True), (lambda t: t.cx, True), (lambda t: t.box[0], False),
                                   (_digits_left, False))),
                            ("x", ((lambda t: t.cy, True),))):
        best, best_quality, best_where, best_far = None, 0.0, 0.0, True
        for key, near_side in keys:
            for group in _aligned_groups(numeric, key, 7.0):
                scale, quality = fit_scale(group, direction)
                if not near_side and any(_DASH.match(t.text) for t in group):
                    # right of the plot, a tick mark left of its label may be read as a minus sign ('-10')
                    undashed, undashed_quality = fit_scale([_undashed(t) for t in group], direction)
                    if undashed is not None and undashed_quality > quality:
                        scale, quality = undashed, undashed_quality
                if scale is None or quality < 2.5:
                    continue
                if direction == "y":
                    near = near_side and np.mean([t.cx for t in scale.ticks]) <= left + 5
                    far = np.mean([t.box[0] for t in scale.ticks]) >= right - 5
                else:
                    near = np.mean([t.cy for t in scale.ticks]) >= low - 5
                    far = np.mean([t.box[3] for t in scale.ticks]) <= high + 5
                if not near and not far:
                    continue
                # the y axis sits on the left, the x axis at the bottom: prefer them to stray aligned labels, and
                # to an axis on the far side (a second one there is a twin axis)
                where = -scale.ticks[0].cx if direction == "y" else scale.ticks[0].cy
                if near and best_far or (near or best_far) and (quality, where) > (best_quality, best_where):
                    best, best_quality, best_where, best_far = scale, quality, where, not near
        if best is not None:
            best.far = best_far
        result.append(best)
    return result[0], result[1]


def right_y_axis(texts: list[Text], marks: np.ndarray, left_axis: Scale) -> Scale | None:
    """A second value axis on the right of the marks (a twin y axis): numbers left-aligned in a column right of
    98% of the marks, fitting a linear scale of their own (at least three ticks, evenly spaced) that is not the left
    axis's. None when there is none."""
    if not marks.any():
        return None
    right = float(np.percentile(np.nonzero(marks)[1], 98))
    numeric = [t for t in texts if t.number is not None and t.box[0] > right - 2 and t.box not in
               {u.box for u in left_axis.ticks}]
    for group in _aligned_groups(numeric, lambda t: t.box[0], 7.0):
        scale, quality = fit_scale(group, "y")
        if scale is not None and len(scale.ticks) >= 3 and quality >= 4.5 \
                and abs(scale.slope / left_axis.slope - 1) + abs(scale.intercept - left_axis.intercept) \
                / max(abs(left_axis.step), 1e-9) > 0.05:
            return scale
    return None


def snap_to_tick_marks(rgb: np.ndarray, scale: Scale | None) -> Scale | None:
    """Refit the scale on where its ticks are drawn: a label's box centre can sit a pixel off its tick, and one
    pixel is several percent of a small value. Beside each label, across a band just off it towards the plot, a
    tick mark, a gridline or the axis line at that value shows as a row (or column) whose colour stands out from
    its neighbours': dark ticks on white, white gridlines on grey, light ticks on black alike. The scale is kept
    as it is when fewer than two are found."""
    if scale is None:
        return None
    image = rgb.astype(float)
    h, w = rgb.shape[:2]
    snapped = []
    for t in scale.ticks:
        if scale.direction == "y" and scale.far:
            x1 = int(max(1, t.box[0] - 1))
            band = image[:, max(0, x1 - 12):x1]
            centre, stripes = t.cy, band.mean(axis=1)
        elif scale.direction == "y":
            x0 = int(min(w - 1, t.box[2] + 1))
            band = image[:, x0:min(w, x0 + 12)]
            centre, stripes = t.cy, band.mean(axis=1)
        elif scale.far:
            y0 = int(min(h - 1, t.box[3] + 1))
            band = image[y0:min(h, y0 + 12)]
            centre, stripes = t.cx, band.mean(axis=0)
        else:
            y1 = int(max(1, t.box[1] - 1))
            band = image[max(0, y1 - 12):y1]
            centre, stripes = t.cx, band.mean(axis=0)
        if band.size == 0:
            continue
        lo, hi = int(max(0, centre - 9)), int(min(len(stripes), centre + 10))
        window = stripes[lo:hi]
        if len(window) < 8:
            continue
        contrast = np.linalg.norm(window - np.median(window, axis=0), axis=1)
        peak = int(np.argmax(contrast))
        if contrast[peak] < 20 or abs(lo + peak - centre) > 5:
            continue
        run = np.arange(max(0, peak - 2), min(len(window), peak + 3))
        run = run[contrast[run] >= 0.4 * contrast[peak]]
        # a tick, gridline or axis line is a stripe: the same colour on both sides of it. A step (a bar's end
        # reaching into the band: background on one side, the bar's colour on the other) is no tick, however it
        # stands out; in a theme whose gridlines are faint it is all that stands out beside some labels
        before, after = int(run[0]) - 2, int(run[-1]) + 2
        if before >= 0 and after < len(window) \
                and np.linalg.norm(window[before] - window[after]) > 0.5 * contrast[peak]:
            continue
        snapped.append((lo + float(np.average(run, weights=contrast[run])) + 0.5, t.number))
    if len(snapped) < 2 or len({round(p) for p, _ in snapped}) < 2:
        return scale
    slope, intercept = np.polyfit([p for p, _ in snapped], [v for _, v in snapped], 1)
    refitted = Scale(scale.direction, float(slope), float(intercept), scale.ticks, scale.far)
    # a stray stripe (a bar's edge, a line crossing the band) must not bend the scale the labels gave
    if any(abs(refitted.pixel(v) - p) > 1.5 for p, v in snapped) or abs(slope / scale.slope - 1) > 0.03:
        return scale
    return refitted


def tick_marks(ink: np.ndarray, bottom: float, left: float) -> list[float]:
    """Centres of the x axis's tick marks: the short dark strokes hanging under the bottom spine (the longest dark
    row at or below `bottom`). Empty when the chart draws no spine or ticks."""
    start = max(0, int(bottom) - 3)
    rows = ink[start:, int(left):]
    if rows.shape[0] < 6:
        return []
    coverage = rows.mean(axis=1)
    spine = int(np.argmax(coverage))
    if coverage[spine] < 0.5:
        return []
    while spine + 1 < len(coverage) and coverage[spine + 1] >= 0.5:
        spine += 1
    strip = rows[spine + 2:spine + 4]
    if strip.shape[0] < 2:
        return []
    columns = np.nonzero(strip.all(axis=0))[0]
    if len(columns) < 2:
        return []
    runs = np.split(columns, np.nonzero(np.diff(columns) > 1)[0] + 1)
    marks = [float(r.mean()) + int(left) for r in runs if len(r) <= 4]
    return marks if len(marks) >= 2 else []


def precision(scale: Scale | None) -> int:
    step = scale.step if scale is not None else 1.0
    return max(0, min(6, -math.floor(math.log10(max(step, 1e-9) / 100))))
