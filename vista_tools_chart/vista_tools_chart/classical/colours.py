"""Colour segmentation: the backgrounds, the series colours, and every pixel labelled with the colour it shows
(anti-aliased shades included)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

CHROMA = 28  # max-min channel spread above which a colour counts as a hue, not a grey


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


def find_backgrounds(rgb: np.ndarray, pixels: Pixels) -> list[np.ndarray]:
    """The figure's background (the colour of most of the image's border) and the plot area's when it differs: a
    colour without much hue covering a large share of the image and framing at least half of it. Light, tinted or
    dark alike."""
    h, w = rgb.shape[:2]
    # the image's outer band, 8 pixels deep: a thin line framing the image (a screenshot's edge, a canvas's first
    # row and column blended with the page under it) is not the figure's background
    depth = max(1, min(8, h // 8, w // 8))
    inverse = pixels.inverse
    border = np.concatenate([inverse[:depth].ravel(), inverse[-depth:].ravel(), inverse[:, :depth].ravel(),
                             inverse[:, -depth:].ravel()])
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
    # too, but leave its corners inside the frame empty: three of the four inner corners must be this colour, or
    # the two at the right or at the top (bars standing on the left or bottom edge of the plot take the others)
    inner = mask[y0:y0 + bh, x0:x0 + bw]
    corners = [inner[6:16, 6:16], inner[6:16, -16:-6], inner[-16:-6, 6:16], inner[-16:-6, -16:-6]]
    top_left, top_right, bottom_left, bottom_right = (c.size > 0 and c.mean() >= 0.5 for c in corners)
    filled = sum((top_left, top_right, bottom_left, bottom_right)) >= 3 or top_right and bottom_right \
        and not (top_left or bottom_left) or top_left and top_right and not (bottom_left or bottom_right)
    return across >= 0.6 and down >= 0.6 and filled


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
        hue = np.ptp(centre) >= CHROMA
        # blended with a background, or with the black of an edge stroke drawn around wedges and swatches
        faded = any(is_blend_of(centre, c, bg) for c in found for bg in backgrounds)
        darkened = not faded and any(is_blend_of(centre, c, np.zeros(3)) for c in found)
        if (not hue or faded or darkened) and not _solid(pixels, members, text_mask, minimum):
            # a darker shade of a found hue is a series of its own where it draws a line across the plot (a
            # palette of one hue's shades), not the fringe of an edge stroke
            if not (hue and darkened and polyline((np.abs(colours - centre).max(axis=1) <= 12)[pixels.inverse]
                                                  & (True if text_mask is None else ~text_mask)).any()):
                continue
        found.append(centre)
    found = _without_fringes(found, pixels, backgrounds, text_mask, minimum)
    # a grey or black line series: a neutral colour that draws one long stroke across the plot which is neither a
    # gridline nor a spine. A grey is also a blend of black and white: its stroke must run clear of the found
    # colours' own strokes (the anti-aliased fringe of a black line is a grey next to it). Looked for in charts
    # without a hue only (a grayscale style): beside coloured series, greys are a style's frames, gridlines and
    # fringes far more often (tried: a colour-blind palette's grey series came with false ones in other sheets).
    if any(np.ptp(c) >= CHROMA for c in found):
        return found
    for key in np.argsort(-cluster_counts)[:40]:
        if cluster_counts[key] < minimum or len(found) >= max_colours:
            break
        members = usable & (key_ids == key)
        centre = (colours[members] * counts[members, None]).sum(axis=0) / counts[members].sum()
        if np.ptp(centre) >= CHROMA or any(np.linalg.norm(centre - c) < 24 for c in found):
            continue
        near_found = np.zeros(len(colours), bool)
        for c in found:
            near_found |= np.abs(colours - c).max(axis=1) <= 12
        clear = ~cv2.dilate(near_found[pixels.inverse].astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        if polyline(members[pixels.inverse] & clear & (True if text_mask is None else ~text_mask)).any():
            found.append(centre)
    return found


def _without_fringes(found: list[np.ndarray], pixels: Pixels, backgrounds: list[np.ndarray],
                     text_mask: np.ndarray | None, minimum: int) -> list[np.ndarray]:
    """The found colours less those that are the anti-aliased fringe of a stronger one also found (a line
    1 px wide has more pixels of its pale blends than of its own colour): a blend of it with a background, not
    solid, whose pixels lie next to stronger shades of it (a pale line series of the same hue runs on its own)."""
    kept = []
    for colour in found:
        members = np.abs(pixels.colours - colour).max(axis=1) <= 12
        own = members[pixels.inverse] if text_mask is None else members[pixels.inverse] & ~text_mask
        stronger = np.zeros(len(pixels.colours), bool)
        for c in found:
            for bg in backgrounds:
                if c is not colour and is_blend_of(colour, c, bg):
                    d = c - bg
                    t = (pixels.colours - bg) @ d / max(float(d @ d), 1.0)
                    off = np.linalg.norm(pixels.colours - bg - t[:, None] * d, axis=1)
                    stronger |= (off < 22) & (t > float((colour - bg) @ d) / max(float(d @ d), 1.0) + 0.1)
        if stronger.any() and own.any():
            beside = cv2.dilate(stronger[pixels.inverse].astype(np.uint8), np.ones((3, 3), np.uint8))
            if beside[own].mean() >= 0.8 and not _solid(pixels, members, text_mask, minimum):
                continue
        kept.append(colour)
    return kept


def polyline(mask: np.ndarray, across: float = 0.25, single: float = 0.7) -> np.ndarray:
    """The pixels of a mask that belong to a line series: gridlines and spines (long straight thin strokes) left
    out, and kept where what remains, joined over single-pixel gaps (an anti-aliased diagonal's core breaks), forms
    a stroke running `across` of the image's width and rising or falling (tick marks, stray letters and a legend's
    swatch are short), and a line rather than a frame's outline: one run of pixels in a `single` share of its
    columns."""
    h, w = mask.shape
    rest = mask & ~gridlines(mask)
    n, components, stats, _ = cv2.connectedComponentsWithStats(
        cv2.dilate(rest.astype(np.uint8), np.ones((3, 3), np.uint8)), connectivity=8)
    area = np.bincount(components[rest], minlength=n)  # the stroke's own pixels, not the joined ones
    keep = [k for k in range(1, n) if stats[k, cv2.CC_STAT_WIDTH] >= across * w
            and stats[k, cv2.CC_STAT_HEIGHT] >= 0.03 * h
            # a stroke, not a filled area: a line's length is at most its width and height together, far more than
            # its width where it climbs steeply
            and area[k] <= 8 * (stats[k, cv2.CC_STAT_WIDTH] + stats[k, cv2.CC_STAT_HEIGHT])
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


def is_blend_of(pixel: np.ndarray, color: np.ndarray, background: np.ndarray) -> bool:
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


def gridlines(mask: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
    """The thin (under 5 px) horizontal and vertical strokes of a mask that run a quarter of the image or more.
    With the colour `labels` of the pixels: less the horizontal ones that are a line's flat stretch (a series
    holding one value over two or three categories), which run on, at one end or both, into a stroke of their own
    colour off their rows across three columns or more (a gridline ends at the plot's edge, or at a spine: a long
    straight stroke, or an anti-aliased column or two)."""
    h, w = mask.shape
    mask = mask.astype(np.uint8)
    found = np.zeros_like(mask)
    for run, across in (((1, max(3, w // 4)), (5, 1)), ((max(3, h // 4), 1), (1, 5))):
        long = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones(run, np.uint8))
        found |= long & ~cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones(across, np.uint8))
    if labels is None or not found.any():
        return found.astype(bool)
    horizontal = cv2.morphologyEx(found, cv2.MORPH_OPEN, np.ones((1, max(3, w // 4)), np.uint8))
    rest = mask.astype(bool) & ~found.astype(bool)
    n, components, stats, _ = cv2.connectedComponentsWithStats(horizontal, connectivity=8)
    for k in range(1, n):
        x, y, width, height = stats[k, :4]
        stroke = components == k
        colour = np.bincount(labels[stroke][labels[stroke] >= 0]).argmax() if (labels[stroke] >= 0).any() else -1
        off_rows = np.ones(h, bool)
        off_rows[max(0, y - 1):y + height + 1] = False
        for lo, hi in ((max(0, x - 12), x), (x + width, min(w, x + width + 12))):
            beyond = (rest[:, lo:hi] & (labels[:, lo:hi] == colour) & off_rows[:, None])[max(0, y - 12):y + height + 12]
            # across three columns or more: a line leaving it, not a spine standing at its end (two columns at most)
            if hi > lo and beyond.any(axis=0).sum() >= 3:
                found[stroke] = 0
                break
    return found.astype(bool)


def as_rgb(colour: np.ndarray) -> tuple[int, int, int]:
    return tuple(int(round(float(v))) for v in colour)
