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
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image

from .ocr import Text, read_line, read_text

CHART_TYPES = ("bar", "horizontal_bar", "line", "pie", "unknown")


@dataclass
class Scale:
    """A linear map value = slope * pixel + intercept along one image direction ('x' or 'y')."""

    direction: str
    slope: float
    intercept: float
    ticks: list[Text]

    def value(self, pixel: float) -> float:
        return self.slope * pixel + self.intercept

    def pixel(self, value: float) -> float:
        return (value - self.intercept) / self.slope

    @property
    def step(self) -> float:
        values = sorted({t.number for t in self.ticks})
        diffs = [b - a for a, b in zip(values, values[1:]) if b > a]
        return min(diffs) if diffs else abs(self.slope) * 50


@dataclass
class Series:
    name: str
    color: tuple[int, int, int]


@dataclass
class Mark:
    """One data mark: a bar, a line vertex or a pie slice, with the category it belongs to and its value."""

    kind: str  # "bar" | "point" | "slice"
    series: int
    label: str
    value: float
    box: tuple[float, float, float, float]  # bar extent, point neighbourhood, or slice's disk box
    angles: tuple[float, float] | None = None  # for slices: start and end, degrees counter-clockwise from 3 o'clock
    color: tuple[int, int, int] = (0, 0, 0)


@dataclass
class LegendEntry:
    label: str
    color_index: int
    swatch: tuple[float, float, float, float]
    text: Text


@dataclass
class ChartParse:
    """Everything the parser found; `table()` is the chart's data in the shared table shape."""

    width: int
    height: int
    chart_type: str
    title: str
    x_label: str
    y_label: str
    texts: list[Text]
    series: list[Series]
    marks: list[Mark]
    categories: list[str]
    legend: list[LegendEntry]
    scale: Scale | None
    polylines: dict[int, list[tuple[float, float]]] = field(default_factory=dict)
    pie: tuple[float, float, float] | None = None  # centre x, centre y, radius

    def table(self) -> dict:
        header = ["label"] + [s.name for s in self.series]
        cells = {(m.label, m.series): m.value for m in self.marks}
        rows = [[label] + [cells.get((label, i)) for i in range(len(self.series))] for label in self.categories]
        return {"header": header, "rows": rows}


class ChartParseError(ValueError):
    """The image does not look like a chart the classical parser can read; the message says what was missing."""


# ---------------------------------------------------------------------------------------------------- colours

_CHROMA = 28  # max-min channel spread above which a colour counts as a hue, not a grey


@dataclass
class Pixels:
    """The image as its distinct colours: `colours[inverse]` is the image; colour statistics are computed once per
    distinct colour rather than per pixel (a chart has a few thousand colours, and a million pixels)."""

    colours: np.ndarray   # (n, 3) float
    inverse: np.ndarray   # (h, w) index into colours
    counts: np.ndarray    # (n,) pixels of each colour

    @classmethod
    def of(cls, rgb: np.ndarray) -> Pixels:
        packed = (rgb[..., 0].astype(np.int32) << 16) | (rgb[..., 1].astype(np.int32) << 8) | rgb[..., 2]
        keys, inverse, counts = np.unique(packed.ravel(), return_inverse=True, return_counts=True)
        colours = np.stack([keys >> 16, (keys >> 8) & 255, keys & 255], axis=1).astype(float)
        return cls(colours, inverse.reshape(rgb.shape[:2]), counts)


def _backgrounds(rgb: np.ndarray, pixels: Pixels) -> list[np.ndarray]:
    """The figure's background (the colour of most of the image's border) and the plot area's when it differs: a
    colour without much hue covering a large share of the image and framing at least half of it. Light, tinted or
    dark alike."""
    h, w = rgb.shape[:2]
    border = np.concatenate([pixels.inverse[0], pixels.inverse[-1], pixels.inverse[:, 0], pixels.inverse[:, -1]])
    figure = int(np.bincount(border).argmax())
    found = [pixels.colours[figure]]
    spread = np.ptp(pixels.colours, axis=1)
    for k in np.argsort(-pixels.counts)[:6]:
        if pixels.counts[k] < 0.08 * h * w:
            break
        colour = pixels.colours[k]
        if np.abs(colour - found[0]).max() <= 8 or spread[k] >= 40:
            continue
        if _fills_a_frame(pixels.inverse == k, w, h):
            found.append(colour)
            break
    return found


def _fills_a_frame(mask: np.ndarray, w: int, h: int) -> bool:
    """Whether a colour is a plot area's background: one region (once gridlines, lines and a legend crossing it are
    closed over) spanning half the image or more both ways, and running along the top or bottom and the left or
    right of its extent (bars of one colour leave the top of their extent empty but for the tallest)."""
    closed = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    n, components, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=4)
    if n < 2:
        return False
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x0, y0, bw, bh = stats[largest, :4]
    if bw < 0.5 * w or bh < 0.5 * h:
        return False
    box = components[y0:y0 + bh, x0:x0 + bw] == largest
    across = max(box[:3].mean(axis=1).max(), box[-3:].mean(axis=1).max())
    down = max(box[:, :3].mean(axis=0).max(), box[:, -3:].mean(axis=0).max())
    # a background fills the plot up to its frame; black spines and black bars (a grayscale style) frame the plot
    # too, but leave its corners inside the frame empty: three of the four inner corners must be this colour
    inner = mask[y0:y0 + bh, x0:x0 + bw]
    corners = [inner[6:16, 6:16], inner[6:16, -16:-6], inner[-16:-6, 6:16], inner[-16:-6, -16:-6]]
    return across >= 0.6 and down >= 0.6 and sum(c.size > 0 and c.mean() >= 0.5 for c in corners) >= 3


def _blend_score(pixels: np.ndarray, color: np.ndarray, background: np.ndarray) -> np.ndarray:
    """How far each pixel is from being `color` anti-aliased over `background` (0: it is exactly `color`)."""
    d = color - background
    t = ((pixels - background) @ d) / max(float(d @ d), 1.0)
    closest = background + np.clip(t, 0, 1)[:, None] * d
    perpendicular = np.linalg.norm(pixels - closest, axis=1)
    score = perpendicular + 20.0 * (1.0 - np.clip(t, 0, 1))
    score[(t < 0.45) | (perpendicular > 18)] = np.inf
    return score


def find_colours(pixels: Pixels, backgrounds: list[np.ndarray], text_mask: np.ndarray | None = None,
                 max_colours: int = 12) -> list[np.ndarray]:
    """Series colour candidates, most frequent first, text left out: hues, and any colour that fills a solid
    region (grey or black bars and wedges, markers); the anti-aliased blends of a found colour with the background
    are that colour, not a new one, unless they too fill a solid region (a pale bar beside a strong one)."""
    inside_text = np.bincount(pixels.inverse[text_mask], minlength=len(pixels.counts)) if text_mask is not None \
        else 0
    counts = pixels.counts - inside_text
    colours = pixels.colours
    near_background = np.zeros(len(colours), bool)
    for bg in backgrounds:
        near_background |= np.abs(colours - bg).max(axis=1) <= 12
    keys = (colours // 12).astype(int)
    key_ids = keys[:, 0] * 484 + keys[:, 1] * 22 + keys[:, 2]
    usable = ~near_background & (counts > 0)
    cluster_counts = np.bincount(key_ids[usable], weights=counts[usable], minlength=22 ** 3)
    total = pixels.inverse.size
    minimum = max(30, int(0.0003 * total))
    found: list[np.ndarray] = []
    for key in np.argsort(-cluster_counts)[:40]:
        if cluster_counts[key] < minimum or len(found) >= max_colours:
            break
        members = usable & (key_ids == key)
        centre = (colours[members] * counts[members, None]).sum(axis=0) / counts[members].sum()
        if any(np.linalg.norm(centre - c) < 24 for c in found):  # pastel palettes hold colours 38 apart
            continue
        hue = np.ptp(centre) >= _CHROMA
        # blended with a background, or with the black of an edge stroke drawn around wedges and swatches
        blend = any(_is_blend_of(centre, c, bg) for c in found for bg in [*backgrounds, np.zeros(3)])
        if (not hue or blend) and not _solid(pixels, members, text_mask, minimum):
            continue
        found.append(centre)
    # a grey or black line series: a neutral colour that draws one long stroke across the plot which is neither a
    # gridline nor a spine. A grey is also a blend of black and white: its stroke must run clear of the found
    # colours' own strokes (the anti-aliased fringe of a black line is a grey next to it). Looked for in charts
    # without a hue only (a grayscale style): beside coloured series, greys are a style's frames, gridlines and
    # fringes far more often (tried: a colour-blind palette's grey series came with false ones in other sheets).
    if any(np.ptp(c) >= _CHROMA for c in found):
        return found
    for key in np.argsort(-cluster_counts)[:40]:
        if cluster_counts[key] < minimum or len(found) >= max_colours:
            break
        members = usable & (key_ids == key)
        centre = (colours[members] * counts[members, None]).sum(axis=0) / counts[members].sum()
        if np.ptp(centre) >= _CHROMA or any(np.linalg.norm(centre - c) < 24 for c in found):
            continue
        near_found = np.zeros(len(colours), bool)
        for c in found:
            near_found |= np.abs(colours - c).max(axis=1) <= 12
        clear = ~cv2.dilate(near_found[pixels.inverse].astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        if polyline(members[pixels.inverse] & clear & (True if text_mask is None else ~text_mask)).any():
            found.append(centre)
    return found


def polyline(mask: np.ndarray, across: float = 0.25, single: float = 0.7) -> np.ndarray:
    """The pixels of a mask that belong to a line series: gridlines and spines (long straight thin strokes) left
    out, and kept where what remains, joined over single-pixel gaps (an anti-aliased diagonal's core breaks), forms
    a stroke running `across` of the image's width and rising or falling (tick marks, stray letters and a legend's
    swatch are short), and a line rather than a frame's outline: one run of pixels in a `single` share of its
    columns."""
    h, w = mask.shape
    rest = mask & ~_gridlines(mask)
    n, components, stats, _ = cv2.connectedComponentsWithStats(
        cv2.dilate(rest.astype(np.uint8), np.ones((3, 3), np.uint8)), connectivity=8)
    area = np.bincount(components[rest], minlength=n)  # the stroke's own pixels, not the joined ones
    keep = [k for k in range(1, n) if stats[k, cv2.CC_STAT_WIDTH] >= across * w
            and stats[k, cv2.CC_STAT_HEIGHT] >= 0.03 * h
            and area[k] <= 8 * stats[k, cv2.CC_STAT_WIDTH]  # a stroke, not a filled area
            and _one_run_per_column(rest & (components == k)) >= single]
    return np.isin(components, keep) & mask.astype(bool) if keep else np.zeros(mask.shape, bool)


def _one_run_per_column(stroke: np.ndarray) -> float:
    """The share of the columns a stroke crosses where it is one vertical run of pixels (a frame's outline is two:
    its top and bottom edges)."""
    columns = np.nonzero(stroke.any(axis=0))[0]
    if not len(columns):
        return 0.0
    sub = stroke[:, columns].astype(np.int8)
    starts = (np.diff(sub, axis=0, prepend=0) == 1).sum(axis=0)
    return float(np.mean(starts == 1))


def _solid(pixels: Pixels, members: np.ndarray, text_mask: np.ndarray | None, minimum: int) -> bool:
    """Whether these colours fill a region thicker than a stroke (gridlines of a poster style are 3-4 px wide):
    what is left after a 5x5 erosion."""
    mask = members[pixels.inverse]
    if text_mask is not None:
        mask &= ~text_mask
    core = cv2.erode(mask.astype(np.uint8), np.ones((5, 5), np.uint8))
    return int(core.sum()) >= minimum


def _is_blend_of(pixel: np.ndarray, color: np.ndarray, background: np.ndarray) -> bool:
    d = color - background
    t = float((pixel - background) @ d) / max(float(d @ d), 1.0)
    return 0.05 < t < 1.0 and float(np.linalg.norm(pixel - background - t * d)) < 22


def label_pixels(pixels: Pixels, colours: list[np.ndarray], backgrounds: list[np.ndarray]) -> np.ndarray:
    """Per pixel, the index of the colour it shows (anti-aliased shades included), or -1."""
    if not colours:
        return np.full(pixels.inverse.shape, -1, int)
    scores = np.stack([np.min([_blend_score(pixels.colours, c, bg) for bg in backgrounds], axis=0)
                       for c in colours])
    best = scores.argmin(axis=0)
    best[~np.isfinite(scores.min(axis=0))] = -1
    return best[pixels.inverse]


# ---------------------------------------------------------------------------------------------------- axes

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


def find_scales(texts: list[Text], marks: np.ndarray | None = None) -> tuple[Scale | None, Scale | None]:
    """The best vertical (y) and horizontal (x) numeric axis, each from labels aligned like tick labels. With the
    mask of the chart's marks, a column of numbers standing among the marks (a line's value labels above its points
    line up too, and are linear in their height) is not an axis: tick labels stand left of or under the marks."""
    numeric = [t for t in texts if t.number is not None]
    left, low = -np.inf, np.inf
    if marks is not None and marks.any():
        ys, xs = np.nonzero(marks)
        left, low = float(np.percentile(xs, 2)), float(np.percentile(ys, 98))
    result = []
    for direction, keys in (("y", (lambda t: t.box[2], lambda t: t.cx)), ("x", (lambda t: t.cy,))):
        best, best_quality, best_where = None, 0.0, 0.0
        for key in keys:
            for group in _aligned_groups(numeric, key, 7.0):
                scale, quality = fit_scale(group, direction)
                if scale is None or direction == "y" and np.mean([t.cx for t in scale.ticks]) > left + 5 \
                        or direction == "x" and np.mean([t.cy for t in scale.ticks]) < low - 5:
                    continue
                # the y axis sits on the left, the x axis at the bottom: prefer them to stray aligned labels
                where = -scale.ticks[0].cx if direction == "y" else scale.ticks[0].cy
                if best is None or (quality, where) > (best_quality, best_where):
                    best, best_quality, best_where = scale, quality, where
        result.append(best if best is not None and best_quality >= 2.5 else None)
    return result[0], result[1]


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
        if scale.direction == "y":
            x0 = int(min(w - 1, t.box[2] + 1))
            band = image[:, x0:min(w, x0 + 12)]
            centre, stripes = t.cy, band.mean(axis=1)
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
        snapped.append((lo + float(np.average(run, weights=contrast[run])) + 0.5, t.number))
    if len(snapped) < 2 or len({round(p) for p, _ in snapped}) < 2:
        return scale
    slope, intercept = np.polyfit([p for p, _ in snapped], [v for _, v in snapped], 1)
    refitted = Scale(scale.direction, float(slope), float(intercept), scale.ticks)
    # a stray stripe (a bar's edge, a line crossing the band) must not bend the scale the labels gave
    if any(abs(refitted.pixel(v) - p) > 1.5 for p, v in snapped) or abs(slope / scale.slope - 1) > 0.03:
        return scale
    return refitted


# ---------------------------------------------------------------------------------------------------- legend

def find_legend(texts: list[Text], labels: np.ndarray, text_mask: np.ndarray | None = None) -> list[LegendEntry]:
    """Texts with a small isolated swatch of one series colour just to their left: a patch, or a short line with
    or without a marker. Every colour in reach is tried, so a legend's frame or a gridline beside it does not hide
    the swatch. A swatch is never inside a text (`text_mask`): black letters beside a label are not a black
    series' swatch."""
    entries: list[LegendEntry] = []
    h, w = labels.shape
    everything = labels
    if text_mask is not None:
        labels = np.where(text_mask, -1, labels)
    components: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for t in texts:
        size = max(t.height, 8.0)
        x0, x1 = int(max(0, t.box[0] - 3.5 * size)), int(max(0, t.box[0] - 1))
        y0, y1 = int(max(0, t.cy - 0.6 * size)), int(min(h, t.cy + 0.6 * size))
        if x1 - x0 < 3 or y1 <= y0:
            continue
        window = labels[y0:y1, x0:x1]
        counts = np.bincount(window[window >= 0].ravel(), minlength=1)
        for colour in np.argsort(-counts):
            if counts[colour] < 6:
                break
            if colour not in components:
                n, comp, stats, _ = cv2.connectedComponentsWithStats((labels == colour).astype(np.uint8),
                                                                     connectivity=8)
                components[colour] = (comp, stats)
            comp, stats = components[colour]
            ys, xs = np.nonzero(window == colour)
            cid = int(np.bincount(comp[y0:y1, x0:x1][ys, xs]).argmax())
            cx0, cy0, cw, ch = stats[cid, :4]
            # a swatch is a short wide patch or line (2 x 0.7 em) ending right before its text; a bar end next to a
            # value label is long
            if cw > 3.5 * size or ch > 1.6 * size or cw < max(5.0, 0.5 * size) or cw < 1.2 * ch \
                    or cx0 + cw < t.box[0] - 1.5 * size or abs(cy0 + ch / 2 - t.cy) > 0.35 * size:
                continue
            # and it stands alone: the tip of a pie's wedge beside its label touches the other wedges (looked for
            # 3-5 px out, clear of an edge stroke drawn around the swatch)
            outer = everything[max(0, cy0 - 5):cy0 + ch + 5, max(0, cx0 - 5):cx0 + cw + 5]
            ring = np.ones(outer.shape, bool)
            ring[min(3, cy0):min(3, cy0) + ch + 4, min(3, cx0):min(3, cx0) + cw + 4] = False
            if np.mean((outer[ring] >= 0) & (outer[ring] != colour)) > 0.05:
                continue
            if not any(e.color_index == colour for e in entries):
                entries.append(LegendEntry(label=t.text, color_index=int(colour), text=t,
                                           swatch=(float(cx0), float(cy0), float(cx0 + cw), float(cy0 + ch))))
            break
    # a number beside a mark is a value label, unless it lines up with other entries in a column or a row (series
    # named '2020') whose swatches are the same size (the ends of short bars beside their value labels line up too)
    def same_size(e: LegendEntry, f: LegendEntry) -> bool:
        return all(abs((f.swatch[k + 2] - f.swatch[k]) - (e.swatch[k + 2] - e.swatch[k])) <= 3 for k in (0, 1))

    return [e for e in entries if e.text.number is None or any(
        f is not e and same_size(e, f) and (abs(f.swatch[0] - e.swatch[0]) <= 3 or abs(f.swatch[1] - e.swatch[1]) <= 2
                                            and abs(f.swatch[3] - e.swatch[3]) <= 2) for f in entries)]


# ---------------------------------------------------------------------------------------------------- parsing

@dataclass
class _Rect:
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


def _rectangles(labels: np.ndarray, n_colours: int) -> list[_Rect]:
    """Filled axis-aligned rectangles of one colour: bar candidates. Strokes of the same colour class touching a
    bar (a gridline of a colour close to the bars', an anti-aliased edge) would join it into one shape that is not
    a rectangle: shapes are taken from the mask opened by 5 x 5, which strokes do not survive; bars thinner than
    that (a bar a pixel or two short) come from the mask as drawn."""
    rects: list[_Rect] = []
    square = np.ones((5, 5), np.uint8)
    for c in range(n_colours):
        # gridlines drawn over bars in the background's colour cut them in two: close the thin gaps
        mask = cv2.morphologyEx((labels == c).astype(np.uint8), cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
        for source, thin in ((cv2.morphologyEx(mask, cv2.MORPH_OPEN, square), False), (mask, True)):
            n, _, stats, _ = cv2.connectedComponentsWithStats(source, connectivity=4)
            for i in range(1, n):
                x, y, w, h, area = stats[i]
                if thin and min(w, h) >= 5:
                    continue  # found in the opened mask already
                if max(w, h) >= 4 and area >= 4 and area >= 0.85 * w * h:
                    rects.append(_Rect(c, int(x), int(y), int(x + w), int(y + h)))
    return rects


def _on_baseline(rects: list[_Rect], scale: Scale | None, vertical: bool) -> list[_Rect]:
    """The rectangles that grow from the value axis's zero (or, when zero is off the axis, from the common edge
    most of them share): bars, as opposed to legend swatches, square markers or bold text strokes."""
    if scale is None or not rects:
        return []
    zero = scale.pixel(0.0)

    def near(r: _Rect) -> float:
        ends = (r.y0, r.y1) if vertical else (r.x0, r.x1)
        return min(ends, key=lambda e: abs(e - zero))

    def area(group: list[_Rect]) -> int:
        return sum((r.x1 - r.x0) * (r.y1 - r.y0) for r in group)

    on_zero = [r for r in rects if abs(near(r) - zero) <= 3]
    # by area: specks of anti-aliased text in a bar's colour are many, and small
    if on_zero and area(on_zero) >= area(rects) / 3:
        return on_zero
    edges = [r.y1 if vertical else r.x0 for r in rects]
    common = max(set(edges), key=lambda e: sum(abs(f - e) <= 2 for f in edges))
    shared = [r for r, e in zip(rects, edges) if abs(e - common) <= 2]
    return shared if len(shared) >= 2 else []


def _short_bars_checked(rects: list[_Rect], vertical: bool) -> list[_Rect]:
    """Keep a bar under 2 pixels long, or a small one, only where it is as wide as the other bars and of a colour
    that draws them (a stroke of anti-aliasing or of a bar's edge is neither)."""
    def length(r: _Rect) -> int:
        return r.y1 - r.y0 if vertical else r.x1 - r.x0

    def width(r: _Rect) -> int:
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


def _gridlines(mask: np.ndarray) -> np.ndarray:
    """The thin (under 5 px) horizontal and vertical strokes of a mask that run a quarter of the image or more."""
    h, w = mask.shape
    mask = mask.astype(np.uint8)
    found = np.zeros_like(mask)
    for run, across in (((1, max(3, w // 4)), (5, 1)), ((max(3, h // 4), 1), (1, 5))):
        long = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones(run, np.uint8))
        found |= long & ~cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones(across, np.uint8))
    return found.astype(bool)


def _spread(values: list[float]) -> float:
    return float(np.std(values) / max(np.mean(values), 1e-6)) if values else 0.0


def _rows_below(texts: list[Text], y: float, left: float) -> list[Text]:
    """The first row of texts under pixel row `y` (the category tick labels of a vertical chart)."""
    below = [t for t in texts if t.box[1] >= y - 2 and t.cx > left]
    if not below:
        return []
    first = min(t.cy for t in below)
    tolerance = max(6.0, 0.6 * np.median([t.height for t in below]))
    return sorted([t for t in below if t.cy - first <= tolerance], key=lambda t: t.cx)


def _column_left_of(texts: list[Text], x: float, top: float, bottom: float) -> list[Text]:
    """The column of texts right-aligned nearest to the left of pixel column `x` (horizontal-bar categories)."""
    # a y-axis title standing on its end is not a category label
    left = [t for t in texts if t.box[2] <= x + 2 and top - 4 <= t.cy <= bottom + 4
            and not t.on_end]
    if not left:
        return []
    nearest = max(t.box[2] for t in left)
    return sorted([t for t in left if nearest - t.box[2] <= 0.3 * max(t.width, 1) + 25], key=lambda t: t.cy)


def _assign_labels(rgb: np.ndarray, ink: np.ndarray, positions: list[float], texts: list[Text],
                   along: str) -> list[str]:
    """The category label at each mark position: the text whose extent covers it (or the nearest). A text that
    covers several positions is labels that detection merged into one line: each position's share of it is
    re-read on its own."""
    lo, hi = (0, 2) if along == "x" else (1, 3)
    covering: dict[int, list[int]] = {}
    labels = []
    for i, p in enumerate(positions):
        if not texts:
            labels.append(f"item {i + 1}")
            continue
        inside = [j for j, t in enumerate(texts) if t.box[lo] - 3 <= p <= t.box[hi] + 3]
        j = min(inside or range(len(texts)), key=lambda j: abs((texts[j].box[lo] + texts[j].box[hi]) / 2 - p))
        labels.append(texts[j].text)
        covering.setdefault(j, []).append(i)
    for j, members in covering.items():
        if len(members) < 2:
            continue
        members.sort(key=lambda i: positions[i])
        box = texts[j].box
        # each label is centred on its tick: a label whose ink starts at `start` ends at 2 * tick - start, where
        # the next one starts; snap that cut to the widest blank stretch (the space between two words) within a
        # third of the way to the next tick (a cut estimated from the previous one drifts)
        columns = _ink(ink, box, along)
        start = columns[0] if len(columns) else box[lo]
        for n, i in enumerate(members):
            if n < len(members) - 1:
                spacing = positions[members[n + 1]] - positions[i]
                guess = min(max(2 * positions[i] - start, positions[i]), positions[members[n + 1]])
            end = box[hi] if n == len(members) - 1 else _blank_near(ink, box, guess, along, max(5.0, spacing / 3))
            part = (start - 1, box[1] - 2, end + 1, box[3] + 2) if along == "x" else \
                (box[0] - 2, start - 1, box[2] + 2, end + 1)
            labels[i] = read_line(rgb, part) or labels[i]
            after = columns[columns > end] if len(columns) else columns
            start = float(after[0]) if len(after) else end
    return labels


def _ink(ink: np.ndarray, box: tuple[float, float, float, float], along: str) -> np.ndarray:
    """Image coordinates (along the line of text) of the columns (or rows) in `box` that hold text pixels."""
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    region = ink[max(0, y0):y1, max(0, x0):x1]
    found = np.nonzero(region.any(axis=0) if along == "x" else region.any(axis=1))[0]
    return found + (max(0, x0) if along == "x" else max(0, y0))


def _blank_near(ink: np.ndarray, box: tuple[float, float, float, float], middle: float, along: str,
                reach: float) -> float:
    """Where to cut a merged line of labels near `middle`: the centre of the widest blank stretch (the space
    between two words) within `reach` of it, nearer ones preferred, or `middle` itself when there is none."""
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    region = ink[max(0, y0):y1, max(0, x0):x1]
    inked = region.any(axis=0) if along == "x" else region.any(axis=1)
    origin = max(0, x0) if along == "x" else max(0, y0)
    blank = np.nonzero(~inked)[0]
    if not len(blank):
        return middle
    runs = [r for r in np.split(blank, np.nonzero(np.diff(blank) > 1)[0] + 1)
            if len(r) >= 2 and abs(origin + r.mean() - middle) <= reach]
    if not runs:
        return middle
    # wide and near: a word space two pixels from the estimate beats one a pixel wider across the next word
    widest = max(runs, key=lambda r: len(r) - 0.5 * abs(origin + r.mean() - middle))
    return float(origin + widest.mean())


def _tick_marks(ink: np.ndarray, bottom: float, left: float) -> list[float]:
    """Centres of the x axis's tick marks: the short dark strokes hanging under the bottom spine (the longest dark
    row at or below `bottom`). Empty when the chart draws no spine or ticks."""
    dark = ink
    start = max(0, int(bottom) - 3)
    rows = dark[start:, int(left):]
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


def _dedupe(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


def _precision(scale: Scale | None) -> int:
    step = scale.step if scale is not None else 1.0
    return max(0, min(6, -math.floor(math.log10(max(step, 1e-9) / 100))))


class ChartParser:
    """Parse one chart image. Stateless apart from the image; `parse()` returns a `ChartParse`."""

    def __init__(self, image: Image.Image):
        self.rgb = np.asarray(image.convert("RGB"))
        self.height, self.width = self.rgb.shape[:2]

    def parse(self) -> ChartParse:
        texts = read_text(self.rgb)
        pixels = Pixels.of(self.rgb)
        backgrounds = _backgrounds(self.rgb, pixels)
        self.text_mask = text_mask = np.zeros(self.rgb.shape[:2], bool)
        for t in texts:
            if t.score >= 0.75:  # a low-scored 'text' is often a legend swatch read as letters
                x0, y0, x1, y1 = (int(round(v)) for v in t.box)
                text_mask[max(0, y0):y1 + 1, max(0, x0):x1 + 1] = True
        colours = find_colours(pixels, backgrounds, text_mask)
        labels = label_pixels(pixels, colours, backgrounds)
        contrast = np.min([np.abs(pixels.colours - bg).max(axis=1) for bg in backgrounds], axis=0)
        neutral = np.ptp(pixels.colours, axis=1) < 60
        # text, spines and tick marks: far from every background, whatever its lightness (dark styles draw white)
        self.ink = (neutral & (contrast > 105))[pixels.inverse]
        self.strong_ink = (neutral & (contrast > 145))[pixels.inverse]
        legend = find_legend(texts, labels, text_mask)
        for entry in legend:  # swatches are not data; what the legend frame covers is faded out of reach anyway
            x0, y0, x1, y1 = (int(v) for v in entry.swatch)
            labels[max(0, y0 - 2):y1 + 3, max(0, x0 - 2):x1 + 3] = -1
        legend_texts = {id(e.text) for e in legend}
        body = [t for t in texts if id(t) not in legend_texts]
        marks = (labels >= 0) & ~text_mask
        y_scale, x_scale = find_scales(body, marks)
        if y_scale is None and x_scale is None and labels.max() >= 0 and not self._disk(labels):
            # marks but no axis read: the tick labels were missed; read the strips left of and under the marks again
            ys, xs = np.nonzero(labels >= 0)
            left = self._reread((0, 0, int(np.percentile(xs, 1)) + 2, self.height))
            under = self._reread((0, int(np.percentile(ys, 99)) - 2, self.width, self.height))
            extra = [t for t in left + under if not any(_overlap(t, u) > 0.3 for u in texts)]
            texts = sorted(texts + extra, key=lambda t: (round(t.cy / 8), t.cx))
            body = body + extra
            y_scale, x_scale = find_scales(body, marks)
        y_scale, x_scale = snap_to_tick_marks(self.rgb, y_scale), snap_to_tick_marks(self.rgb, x_scale)
        rects = _rectangles(labels, len(colours))
        names = {e.color_index: e.label for e in legend}
        if y_scale is None and x_scale is None:
            return self._pie(texts, body, labels, colours, names, legend)
        upright = _on_baseline(rects, y_scale, vertical=True)
        sideways = _on_baseline(rects, x_scale, vertical=False)
        if len(upright) != len(sideways):
            vertical = len(upright) > len(sideways)
        else:  # bars of a vertical chart share their width, those of a horizontal one their height
            vertical = _spread([r.x1 - r.x0 for r in upright]) <= _spread([r.y1 - r.y0 for r in upright])
        bars = _short_bars_checked(upright if vertical else sideways, vertical)
        bar_area = sum((r.x1 - r.x0) * (r.y1 - r.y0) for r in bars)
        if bars and bar_area >= 0.5 * int(np.isin(labels, [r.colour for r in bars]).sum()):
            return self._bars(texts, body, bars, y_scale if vertical else x_scale, vertical, colours, names, legend)
        if y_scale is None:
            raise ChartParseError("found no bars standing on an axis and no numeric y axis for lines: the tick "
                                  "labels were not read")
        return self._lines(texts, body, labels, y_scale, colours, names, legend)

    def _series(self, used: list[int], colours: list[np.ndarray], names: dict[int, str],
                fallback: str) -> tuple[list[Series], dict[int, int]]:
        # legend order first; colours the legend does not name keep the order they come in
        ordered = sorted(dict.fromkeys(used), key=lambda c: (c not in names,
                                                            list(names).index(c) if c in names else used.index(c)))
        series, index = [], {}
        for c in ordered:
            index[c] = len(series)
            name = names.get(c, fallback if len(ordered) == 1 else f"series {len(series) + 1}")
            series.append(Series(name=name, color=_rgb(colours[c])))
        return series, index

    def _title_and_axis_labels(self, body: list[Text], top: float, used: set[int],
                               left: float | None = None, bottom: float | None = None) -> tuple[str, str, str]:
        rest = [t for t in body if id(t) not in used and t.number is None]
        # a title sits above the plot: its middle above the top of the highest tick label or mark (its box may reach
        # a pixel or two below it)
        title = " ".join(t.text for t in sorted([t for t in rest if t.cy < top], key=lambda t: (t.cy, t.cx)))
        y_label = " ".join(t.text for t in rest if left is not None and t.box[2] < left and t.cy >= top)
        x_label = " ".join(t.text for t in rest if bottom is not None and t.box[1] > bottom)
        return title, x_label, y_label

    def _bars(self, texts, body, rects, scale: Scale, vertical: bool, colours, names, legend) -> ChartParse:
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
            end += outward * self._edge_width(r, vertical, outward) / 2
            marks_raw.append((r, scale.value(end)))
            ends.append((end, outward))
        value_labels, value_label_texts = self._value_labels(body, rects, ends, vertical)
        for k, (r, value) in enumerate(marks_raw):
            read = value_labels.get(k)
            if read is not None and abs(read - value) <= 0.1 * max(abs(value), scale.step):
                marks_raw[k] = (r, read)
        used_texts = {id(t) for t in scale.ticks}
        candidates = [t for t in body if id(t) not in used_texts and id(t) not in value_label_texts]
        if vertical:
            bottom = max(max(r.y1 for r in rects), max(t.cy for t in scale.ticks))
            tick_row = _rows_below(candidates, bottom, left=min(t.box[0] for t in scale.ticks))
            groups = self._groups(rects, vertical)
            if len(tick_row) < len(groups):
                tick_row = self._reread_row(tick_row, bottom, min(t.box[0] for t in scale.ticks))
            positions = [float(np.mean([rects[i].cx for i in g])) for g in groups]
            group_labels = _assign_labels(self.rgb, self.ink, positions, tick_row, "x")
            top = min(min(r.y0 for r in rects), min(t.box[1] for t in scale.ticks))
            title, x_label, y_label = self._title_and_axis_labels(
                body, top, {id(t) for t in tick_row} | used_texts | value_label_texts,
                left=min(t.box[0] for t in scale.ticks),
                bottom=max((t.box[3] for t in tick_row), default=bottom))
        else:
            left = min(min(r.x0 for r in rects), min(t.cx for t in scale.ticks))
            top_px, bottom_px = min(r.y0 for r in rects), max(r.y1 for r in rects)
            tick_column = _column_left_of(candidates, left, top_px, bottom_px)
            groups = self._groups(rects, vertical)
            if len(tick_column) < len(groups):
                reread = _column_left_of(self._reread((0, top_px - 10, left - 1, bottom_px + 10)), left, top_px,
                                         bottom_px)
                tick_column = reread if len(reread) > len(tick_column) else tick_column
            positions = [float(np.mean([rects[i].cy for i in g])) for g in groups]
            group_labels = _assign_labels(self.rgb, self.ink, positions, tick_column, "y")
            top = min(top_px, min(t.box[1] for t in scale.ticks)) - 4
            title, x_label, y_label = self._title_and_axis_labels(
                body, top, {id(t) for t in tick_column} | used_texts | value_label_texts,
                left=min((t.box[0] for t in tick_column), default=left),
                bottom=max(t.box[3] for t in scale.ticks))
        group_labels = _dedupe(group_labels)
        # series in drawing order: by where their bars sit inside the groups (left to right, top down)
        rank = {c: float(np.mean([g.index(i) for g in groups for i in g if rects[i].colour == c]))
                for c in {r.colour for r in rects}}
        series, index = self._series(sorted(rank, key=rank.get), colours, names,
                                     (y_label if vertical else x_label) or "value")
        if all(len(g) == 1 for g in groups) and len(names) < 2:
            # one bar per category in several colours is one series drawn with a colour per bar
            series, index = series[:1], {r.colour: 0 for r in rects}
            series[0].name = names.get(rects[0].colour) or (y_label if vertical else x_label) or "value"
        digits = _precision(scale)
        marks = []
        for g, label in zip(groups, group_labels):
            for i in g:
                r, value = marks_raw[i]
                marks.append(Mark("bar", index[r.colour], label, round(value, digits),
                                  (float(r.x0), float(r.y0), float(r.x1), float(r.y1)), color=_rgb(colours[r.colour])))
            if len(series) > 1:
                # a series with no bar in this group has a bar too short to draw: its value is zero to the pixel
                for k in set(range(len(series))) - {index[rects[i].colour] for i in g}:
                    box = marks[-1].box if marks else (0.0, 0.0, 0.0, 0.0)
                    marks.append(Mark("bar", k, label, 0.0, box, color=series[k].color))
        order = sorted(range(len(groups)), key=lambda k: positions[k])  # reading order: left to right, top down
        categories = [group_labels[k] for k in order]
        return ChartParse(self.width, self.height, "bar" if vertical else "horizontal_bar", title, x_label, y_label,
                          texts, series, marks, categories, legend, scale)

    @staticmethod
    def _disk(labels: np.ndarray) -> bool:
        """Whether the coloured marks are mostly one round blob (a pie; wedge edges closed over, as `_pie` does)."""
        coloured = cv2.morphologyEx((labels >= 0).astype(np.uint8), cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
        n, _, stats, _ = cv2.connectedComponentsWithStats(coloured, connectivity=8)
        if n < 2:
            return False
        x, y, w, h, area = stats[1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))]
        return min(w, h) >= 0.8 * max(w, h) and area >= 0.6 * math.pi * (max(w, h) / 2) ** 2

    def _reread(self, box: tuple[float, float, float, float]) -> list[Text]:
        """Text lines in one region, read again at twice the size: detection over the whole chart misses small
        labels now and then (a 72 dpi chart's tick labels are 8 pixels high)."""
        x0, y0 = int(max(0, box[0])), int(max(0, box[1]))
        x1, y1 = int(min(self.width, box[2])), int(min(self.height, box[3]))
        if x1 - x0 < 8 or y1 - y0 < 8:
            return []
        return [Text(t.text, (t.box[0] + x0, t.box[1] + y0, t.box[2] + x0, t.box[3] + y0), t.score)
                for t in read_text(self.rgb[y0:y1, x0:x1], magnify=2)]

    def _reread_row(self, row: list[Text], bottom: float, left: float) -> list[Text]:
        """The category labels under the x axis read again in their strip when fewer than expected were read."""
        height = float(np.median([t.height for t in row])) if row else 0.04 * self.height
        reread = _rows_below(self._reread((left - 10, bottom - 2, self.width, bottom + 4 * height + 10)), bottom,
                             left)
        return reread if len(reread) > len(row) else row

    def _edge_width(self, r: _Rect, vertical: bool, outward: int) -> int:
        """The width in pixels of an edge stroke drawn around a bar, seen beyond its far end (0 when it has none).
        The stroke is centred on the bar's outline, so the value lies half of it beyond the fill."""
        if vertical:
            across = slice(r.x0 + 2, max(r.x0 + 3, r.x1 - 2))
            start = r.y0 - 1 if outward < 0 else r.y1
            lines = [self.ink[y, across] for y in range(start, start + 4 * outward, outward) if 0 <= y < self.height]
        else:
            across = slice(r.y0 + 2, max(r.y0 + 3, r.y1 - 2))
            start = r.x1 if outward > 0 else r.x0 - 1
            lines = [self.ink[across, x] for x in range(start, start + 4 * outward, outward) if 0 <= x < self.width]
        width = 0
        for line in lines:
            if not len(line) or line.mean() < 0.7:
                break
            width += 1
        return width

    @staticmethod
    def _value_labels(body: list[Text], rects: list[_Rect], ends: list[tuple[int, int]],
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

    @staticmethod
    def _groups(rects: list[_Rect], vertical: bool) -> list[list[int]]:
        """Bars of different series side by side are one category of a grouped chart: the gaps inside a group
        are clearly narrower than those between groups. Evenly spaced bars are one category each."""
        order = sorted(range(len(rects)), key=lambda i: rects[i].cx if vertical else rects[i].cy)
        gaps = [rects[b].x0 - rects[a].x1 if vertical else rects[b].y0 - rects[a].y1 for a, b in zip(order, order[1:])]
        if not gaps or max(gaps) <= 2 * max(min(gaps), 0) + 2:
            return [[i] for i in order]
        threshold = (min(gaps) + max(gaps)) / 2
        groups = [[order[0]]]
        for gap, i in zip(gaps, order[1:]):
            if gap < threshold and rects[i].colour not in {rects[j].colour for j in groups[-1]}:
                groups[-1].append(i)
            else:
                groups.append([i])
        return groups

    def _lines(self, texts, body, labels, scale: Scale, colours, names, legend) -> ChartParse:
        # text is no part of a line: anti-aliased light text on a dark background passes for a pale series colour;
        # nor are gridlines of a colour close to a series' (long straight strokes along the axes)
        labels = np.where(self.text_mask | _gridlines(labels >= 0), -1, labels)
        tick_x = min(t.box[0] for t in scale.ticks)
        plot_left = max(t.box[2] for t in scale.ticks)
        # a grey there is a gridline or anti-aliased text unless it draws a line across the plot; of a grey series,
        # only that line: not the tick marks and spines of its colour, nor the grey fringe of a darker line
        for c in range(len(colours)):
            if np.ptp(colours[c]) < _CHROMA:
                darker = [np.abs(self.rgb.astype(np.int16) - colours[k].astype(np.int16)).max(axis=2) <= 12
                          for k in range(len(colours)) if colours[k].mean() < colours[c].mean()]
                others = np.any(darker, axis=0) if darker else np.zeros(labels.shape, bool)
                fringe = cv2.dilate(others.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
                line = polyline((labels == c) & ~fringe, across=0.04, single=0.0)
                labels = np.where((labels == c) & ~line, -1, labels)
        used_colours = [c for c in range(len(colours)) if (labels[:, int(plot_left):] == c).sum() >= 20]
        columns = {c: self._column_profile(labels == c) for c in used_colours}
        columns = {c: p for c, p in columns.items() if np.isfinite(p).sum() >= 0.1 * self.width}
        if not columns:
            raise ChartParseError("found a numeric axis but no coloured bars, lines or markers")
        lowest_line = max(int(np.max(np.nonzero(np.any(labels == c, axis=1))[0])) for c in columns)
        bottom = max(lowest_line, max(t.cy for t in scale.ticks))
        # the x axis's spine where one is drawn: value labels under the lowest points still stand above it
        spine = np.nonzero(self.strong_ink[int(bottom):, int(plot_left):].mean(axis=1) >= 0.5)[0]
        if len(spine):
            bottom += int(spine[0])
        candidates = [t for t in body if id(t) not in {id(s) for s in scale.ticks}]
        tick_row = _rows_below(candidates, bottom, left=plot_left)
        if len(tick_row) < 2:
            tick_row = self._reread_row(tick_row, bottom, plot_left)
        if not tick_row:
            raise ChartParseError("found lines but no category labels under the x axis")
        positions = _tick_marks(self.strong_ink, bottom, plot_left) or [t.cx for t in tick_row]
        categories = _dedupe(_assign_labels(self.rgb, self.ink, positions, tick_row, "x"))
        series, index = self._series(list(columns), colours, names, "value")
        digits = _precision(scale)
        spacing = float(np.median(np.diff(positions))) if len(positions) > 1 else 0.2 * self.width
        heights = {c: [self._height_at(labels == c, profile, x, spacing) for x in positions]
                   for c, profile in columns.items()}
        for c, row in heights.items():
            for k, y in enumerate(row):
                if y is None:
                    row[k] = self._hidden_height(c, columns, heights, k, positions[k])
        marks, polylines = [], {}
        for c, row in heights.items():
            points = [(x, y) for x, y in zip(positions, row) if y is not None]
            marks += [Mark("point", index[c], label, round(scale.value(y), digits), (x - 3, y - 3, x + 3, y + 3),
                           color=_rgb(colours[c])) for label, x, y in zip(categories, positions, row) if y is not None]
            polylines[index[c]] = points
        top = min(min(t.box[1] for t in scale.ticks),
                  min(int(np.min(np.nonzero(np.any(labels == c, axis=1))[0])) for c in columns))
        title, x_label, y_label = self._title_and_axis_labels(
            body, top, {id(t) for t in tick_row} | {id(t) for t in scale.ticks}, left=tick_x,
            bottom=max(t.box[3] for t in tick_row))
        if len(series) == 1 and series[0].name == "value" and y_label:
            series[0].name = y_label
        return ChartParse(self.width, self.height, "line", title, x_label, y_label, texts, series, marks, categories,
                          legend, scale, polylines=polylines)

    @staticmethod
    def _column_profile(mask: np.ndarray) -> np.ndarray:
        """Per column, the median row of the mask's pixels, as the row's centre in image coordinates (row r spans
        r to r + 1, as the tick positions and bar ends do); NaN where it has none."""
        profile = np.full(mask.shape[1], np.nan)
        for column in np.nonzero(mask.any(axis=0))[0]:
            profile[column] = float(np.median(np.nonzero(mask[:, column])[0])) + 0.5
        return profile

    @staticmethod
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

    @staticmethod
    def _height_at(mask: np.ndarray, profile: np.ndarray, x: float, spacing: float) -> float | None:
        """The line's pixel row at column x. A line is straight between vertices and the middle of a straight
        stroke's column is its centre line, so fit the stroke on each side (clear of the vertex, where joins and
        markers bulge) and meet it at x; fall back to the pixels at x when neither side is long enough."""
        estimates = []
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
            estimates.append(float(np.polyval(fit, x)))
        if estimates:
            return float(np.mean(estimates))
        xi = int(round(x))
        for radius in (1, 2, 3):
            ys = np.unique(np.nonzero(mask[:, max(0, xi - radius):xi + radius + 1])[0])
            if len(ys):
                run = max(np.split(ys, np.nonzero(np.diff(ys) > 2)[0] + 1), key=len)
                return (float(run[0]) + float(run[-1])) / 2 + 0.5
        return None

    def _pie(self, texts, body, labels, colours, names, legend) -> ChartParse:
        coloured = (labels >= 0).astype(np.uint8)
        n, comp, stats, _ = cv2.connectedComponentsWithStats(
            cv2.morphologyEx(coloured, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8)), connectivity=8)
        if n <= 1:
            raise ChartParseError("found no numeric axis and no pie: no tick labels were read and no coloured "
                                  "disk was found")
        biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        x, y, w, h, area = stats[biggest]
        radius = max(w, h) / 2
        if area < 0.6 * math.pi * radius * radius or min(w, h) < 0.8 * max(w, h) or radius < 15:
            raise ChartParseError("found no numeric axis and the coloured marks do not form a pie")
        cx, cy = x + w / 2, y + h / 2
        steps = 1440
        angles = 2 * np.pi * (np.arange(steps) + 0.5) / steps

        def sample(fractions: np.ndarray) -> np.ndarray:
            """The colour label at these fractions of the radius along every ray (-1 off the image)."""
            px = np.rint(cx + np.outer(np.cos(angles), fractions) * radius).astype(int)
            py = np.rint(cy - np.outer(np.sin(angles), fractions) * radius).astype(int)
            inside = (px >= 0) & (px < self.width) & (py >= 0) & (py < self.height)
            return np.where(inside, labels[py.clip(0, self.height - 1), px.clip(0, self.width - 1)], -1)

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
        series, index = self._series([s[0] for s in slices], colours, names, "value")
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
                outside = [t for t in plain if math.hypot(t.cx - cx, t.cy - cy) > 0.85 * radius and id(t) not in used]
                label = None
                if outside:
                    nearest = min(outside, key=lambda t: _box_distance(t, target))
                    if _box_distance(nearest, target) < 0.8 * radius:
                        label = nearest.text
                        used.add(id(nearest))
                label = label or f"slice {len(categories) + 1}"
            categories.append(label)
            marks.append(Mark("slice", 0, label, round(share, 1), (float(x), float(y), float(x + w), float(y + h)),
                              angles=(round(a0, 2), round(a1, 2)), color=_rgb(colours[colour])))
        categories = _dedupe(categories)
        for mark, label in zip(marks, categories):
            mark.label = label
        legend_texts = {id(e.text) for e in legend}
        rest = [t for t in texts if id(t) not in used and id(t) not in legend_texts and not t.is_percent]
        title = " ".join(t.text for t in sorted([t for t in rest if t.box[3] < disk_top], key=lambda t: (t.cy, t.cx)))
        pie_series = [Series(name="share (%)", color=series[0].color if series else (0, 0, 0))]
        return ChartParse(self.width, self.height, "pie", title, "", "", texts, pie_series, marks, categories, legend,
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
        return before >= 0 and after >= 0 and _is_blend_of(colours[runs[i][0]], colours[before], colours[after])

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


def _overlap(a: Text, b: Text) -> float:
    """Intersection over union of two text boxes."""
    w = min(a.box[2], b.box[2]) - max(a.box[0], b.box[0])
    h = min(a.box[3], b.box[3]) - max(a.box[1], b.box[1])
    if w <= 0 or h <= 0:
        return 0.0
    return w * h / (a.width * a.height + b.width * b.height - w * h)


def _rgb(colour: np.ndarray) -> tuple[int, int, int]:
    return tuple(int(round(float(v))) for v in colour)


def _angle_between(angle: float, a0: float, a1: float) -> bool:
    return a0 <= angle <= a1 or a0 <= angle + 360 <= a1


def _box_distance(t: Text, point: tuple[float, float]) -> float:
    dx = max(t.box[0] - point[0], 0, point[0] - t.box[2])
    dy = max(t.box[1] - point[1], 0, point[1] - t.box[3])
    return math.hypot(dx, dy)


def parse_chart(image: Image.Image) -> ChartParse:
    return ChartParser(image).parse()

