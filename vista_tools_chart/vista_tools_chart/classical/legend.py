"""The legend: texts with a small swatch of a series colour beside them, naming that colour."""

from __future__ import annotations

import cv2
import numpy as np

from ..ocr import Text
from .results import LegendEntry


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
        found: list[LegendEntry] = []
        for colour in np.argsort(-counts):
            if counts[colour] < 6:
                break
            if colour not in components:
                n, comp, stats, _ = cv2.connectedComponentsWithStats((labels == colour).astype(np.uint8),
                                                                     connectivity=8)
                components[colour] = (comp, stats)
            comp, stats = components[colour]
            ys, xs = np.nonzero(window == colour)
            # each piece of this colour in reach, the one nearest the text first: a swatch beside a pie's wedge
            # of its own colour has fewer pixels in the window than the wedge
            pieces = [p for p in np.unique(comp[y0:y1, x0:x1][ys, xs]) if p > 0]
            pieces.sort(key=lambda p: -(stats[p, 0] + stats[p, 2]))
            entry = next((e for e in (_swatch(t, size, int(colour), stats[p, :4], everything, labels, components)
                                      for p in pieces) if e is not None), None)
            if entry is not None:
                found.append(entry)
        # of the swatch-shaped pieces beside the text, the solid one: a small square's anti-aliased rim is a ring
        # of a lighter colour (another series' pink around a plum square) with more pixels than the square
        # A thin line along a symbol's side, inside its box widened by a pixel, is that symbol's anti-aliased edge
        # read as a lighter colour (a dark blue triangle's base blended into the grey page reads as the light blue
        # series): it fills its own 1 px box, so it would beat the triangle on fill and take the other's colour
        found = [e for e in found if not any(f is not e and _edge_of(e, f) for f in found)]
        if found:
            entry = max(found, key=lambda e: _fill(e, labels))
            if not any(e.color_index == entry.color_index for e in entries):
                entries.append(entry)
    # a number beside a mark is a value label, unless it lines up with other entries in a column or a row (series
    # named '2020') whose swatches are the same size (the ends of short bars beside their value labels line up too);
    # in a row, lines of the same length centred on one row are swatches too, one drawn with its marker and one
    # without (a marker makes a line's swatch taller)

    def same_size(e: LegendEntry, f: LegendEntry) -> bool:
        return all(abs((f.swatch[k + 2] - f.swatch[k]) - (e.swatch[k + 2] - e.swatch[k])) <= 3 for k in (0, 1))

    def lines_in_a_row(e: LegendEntry, f: LegendEntry) -> bool:
        return min(f.swatch[3] - f.swatch[1], e.swatch[3] - e.swatch[1]) <= 0.2 * e.text.height \
            and abs(f.swatch[1] + f.swatch[3] - e.swatch[1] - e.swatch[3]) <= 3 \
            and abs((f.swatch[2] - f.swatch[0]) - (e.swatch[2] - e.swatch[0])) <= 3

    return [e for e in entries if e.text.number is None or any(
        f is not e and (same_size(e, f) and (abs(f.swatch[0] - e.swatch[0]) <= 3 or abs(f.swatch[1] - e.swatch[1]) <= 2
                                             and abs(f.swatch[3] - e.swatch[3]) <= 2) or lines_in_a_row(e, f))
        for f in entries)]


def _edge_of(e: LegendEntry, f: LegendEntry) -> bool:
    """Whether swatch `e` is a line at most 2 px thick lying along the side of the larger swatch `f` (inside its box
    widened by a pixel)."""
    (ex0, ey0, ex1, ey1), (fx0, fy0, fx1, fy1) = e.swatch, f.swatch
    thin = min(ex1 - ex0, ey1 - ey0) <= 2
    return thin and (fx1 - fx0) * (fy1 - fy0) > (ex1 - ex0) * (ey1 - ey0) \
        and ex0 >= fx0 - 1 and ey0 >= fy0 - 1 and ex1 <= fx1 + 1 and ey1 <= fy1 + 1


def _fill(entry: LegendEntry, labels: np.ndarray) -> float:
    """The share of a swatch's box its colour covers (a solid patch about 1, a disk 0.8, a ring far less)."""
    x0, y0, x1, y1 = (int(v) for v in entry.swatch)
    return float(np.mean(labels[y0:y1, x0:x1] == entry.color_index)) if x1 > x0 and y1 > y0 else 0.0


def _swatch(t: Text, size: float, colour: int, box: np.ndarray, everything: np.ndarray, labels: np.ndarray,
            components: dict) -> LegendEntry | None:
    """The legend entry naming `colour` if the piece of it at `box` (x, y, w, h) is the swatch of text `t`."""
    cx0, cy0, cw, ch = (int(v) for v in box)
    # a swatch is a short wide patch or line (2 x 0.7 em), or a round or square symbol under a text's height
    # (Vega-Lite's), ending right before its text; a bar end next to a value label is long. A symbol may be
    # under a fifth of the text box's height: Vega-Lite's 8 px square beside 'Omega', 17 px high with its
    # descender, a 5 px circle of a grey ramp whose anti-aliased rim reads as a lighter grey, beside a 22 px box,
    # or the 4 px core of a 6 px square beside a 21 px box. A line swatch
    # may be short too: Vega-Lite's is 7 px long and 1 px thick beside a 16 px box
    # A patch may stand upright too, a little taller than wide but no taller than the text's line (Bokeh's
    # 13 x 17 px swatch beside a 16 px line)
    # A small triangle is wider than tall (Vega-Lite's, 8 x 6 px: its base drawn across whole pixels)
    symbol = 0.8 * ch <= cw <= 1.4 * ch and max(3.0, 0.15 * size) <= ch <= size
    upright = 0.6 * ch <= cw < 1.2 * ch and 0.5 * size <= ch <= 1.25 * size
    short_line = ch <= max(3.0, 0.2 * size) and cw >= max(5.0, 0.3 * size)
    if cw > 3.5 * size or ch > 1.6 * size or cw < max(5.0, 0.5 * size) and not (symbol or short_line) \
            or cw < 1.2 * ch and not (symbol or upright) \
            or cx0 + cw < t.box[0] - 1.5 * size or abs(cy0 + ch / 2 - t.cy) > 0.35 * size:
        return None
    # and it stands alone: the tip of a pie's wedge beside its label touches the other wedges (looked for 3-5 px
    # out, clear of an edge stroke drawn around the swatch). Another entry's swatch may be that close (Vega-Lite
    # stacks 10 px squares 3 px apart): a colour whose piece there is swatch-sized is no wedge
    oy, ox = max(0, cy0 - 5), max(0, cx0 - 5)
    outer = everything[oy:cy0 + ch + 5, ox:cx0 + cw + 5]
    ring = np.ones(outer.shape, bool)
    ring[min(3, cy0):min(3, cy0) + ch + 4, min(3, cx0):min(3, cx0) + cw + 4] = False
    other = ring & (outer >= 0) & (outer != colour)
    for k in np.unique(outer[other]):
        if k not in components:
            components[k] = cv2.connectedComponentsWithStats((labels == k).astype(np.uint8), connectivity=8)[1:3]
        kcomp, kstats = components[k]
        ys, xs = np.nonzero(other & (outer == k))
        pieces = np.unique(kcomp[oy + ys, ox + xs])
        if all(p > 0 and kstats[p, 2] <= 1.5 * max(cw, ch) and kstats[p, 3] <= 1.5 * max(cw, ch)
               for p in pieces):
            other &= outer != k
        elif _legend_fill(kstats, pieces, t, np.mean(outer[ring] == k)):
            other &= outer != k
    if np.mean(other[ring]) > 0.05:
        return None
    return LegendEntry(label=t.text, color_index=colour, text=t,
                       swatch=(float(cx0), float(cy0), float(cx0 + cw), float(cy0 + ch)))


def _legend_fill(stats: np.ndarray, pieces: np.ndarray, t: Text, share: float) -> bool:
    """Whether a colour around a swatch is the legend's own fill (a grey box under swatches and labels): it
    surrounds the swatch (most of the ring round it) in one piece that holds the label's box too."""
    if share < 0.8 or len(pieces) != 1 or pieces[0] <= 0:
        return False
    x, y, w, h = (int(v) for v in stats[pieces[0], :4])
    return x <= t.box[0] and y <= t.box[1] and x + w >= t.box[2] and y + h >= t.box[3]


def unlabelled_swatches(labels: np.ndarray, entries: list[LegendEntry]) -> list[tuple[int, tuple[int, int, int, int]]]:
    """Swatches in the legend's column whose label OCR did not read: a piece of a colour no entry names, the size
    of the entries' swatches, at their x and within a few rows' steps of them. Each as (colour, box x0, y0, x1,
    y1); the caller reads the text right of it again."""
    if len(entries) < 2:
        return []
    x0 = float(np.median([e.swatch[0] for e in entries]))
    if any(abs(e.swatch[0] - x0) > 3 for e in entries):
        return []
    width = float(np.median([e.swatch[2] - e.swatch[0] for e in entries]))
    height = float(np.median([e.swatch[3] - e.swatch[1] for e in entries]))
    rows = sorted((e.swatch[1] + e.swatch[3]) / 2 for e in entries)
    step = float(np.median(np.diff(rows)))
    named = {e.color_index for e in entries}
    found = []
    for colour in range(int(labels.max()) + 1):
        if colour in named:
            continue
        n, _, stats, _ = cv2.connectedComponentsWithStats((labels == colour).astype(np.uint8), connectivity=8)
        for k in range(1, n):
            cx, cy, cw, ch = (int(v) for v in stats[k, :4])
            middle = cy + ch / 2
            if abs(cx - x0) <= 3 and abs(cw - width) <= 3 and abs(ch - height) <= 3 \
                    and rows[0] - 3.5 * step <= middle <= rows[-1] + 3.5 * step \
                    and min(abs(middle - r) for r in rows) >= 0.6 * step:
                found.append((colour, (cx, cy, cx + cw, cy + ch)))
                break
    return found


def colours_only_the_legend_shows(rgb: np.ndarray, texts: list[Text], entries: list[LegendEntry],
                                  backgrounds: list[np.ndarray], known: list[np.ndarray]
                                  ) -> list[tuple[np.ndarray | None, LegendEntry]]:
    """Series colours the colour finder passed over that the legend shows (a grey series beside coloured ones:
    beside hues, greys are far more often frames, gridlines and fringes): a text in the legend's column, a line
    step from an entry, with a swatch at the entries' offset left of it in a colour far from the backgrounds and
    from the colours known. Each with its legend entry, numbered on from the colours known. A swatch drawn in
    shades of a known colour no entry names (a 1 px ring, paler than the colour found, or stronger where the
    colour found is a thin line's blend with the background) names that colour: its entry comes with None."""
    if not entries:
        return []
    column = float(np.median([e.text.box[0] for e in entries]))
    near = float(np.median([e.text.box[0] - e.swatch[2] for e in entries]))
    far = float(np.median([e.text.box[0] - e.swatch[0] for e in entries]))
    rows = sorted(e.text.cy for e in entries)
    step = float(np.median(np.diff(rows))) if len(rows) > 1 else 1.8 * float(np.median([e.text.height
                                                                                        for e in entries]))
    taken = {id(e.text) for e in entries}
    found: list[np.ndarray] = []
    added: list[tuple[np.ndarray | None, LegendEntry]] = []
    image = rgb.astype(float)
    h, w = rgb.shape[:2]
    for t in sorted(texts, key=lambda t: abs(t.cy - np.mean(rows))):
        if id(t) in taken or abs(t.box[0] - column) > 4 or min(abs(t.cy - r) for r in rows) > 1.3 * step:
            continue
        y0, y1 = int(max(0, t.cy - 0.3 * t.height)), int(min(h, t.cy + 0.3 * t.height + 1))
        x0, x1 = int(max(0, t.box[0] - far)), int(min(w, t.box[0] - near + 1))
        pixels = image[y0:y1, x0:x1].reshape(-1, 3)
        if not len(pixels):
            continue
        keep = np.all([np.abs(pixels - bg).max(axis=1) > 30 for bg in backgrounds], axis=0)
        shade = _shade_of(pixels[keep], known, backgrounds, {e.color_index for e in entries}
                          | {e.color_index for _, e in added})
        if shade is not None:
            added.append((None, LegendEntry(label=t.text, color_index=shade, text=t,
                                            swatch=(float(x0), float(y0), float(x1), float(y1)))))
            rows.append(t.cy)
            taken.add(id(t))
            continue
        for colour in [*known, *found]:
            keep &= np.linalg.norm(pixels - colour, axis=1) >= 40
        if keep.sum() >= 6:
            # the swatch's own colour, not its anti-aliased rim: a 1 px line swatch has twice as many rim pixels as
            # core ones (a grey series read as the light grey of its rim took the grey line for the black one's)
            away = np.min([np.abs(pixels[keep] - bg).max(axis=1) for bg in backgrounds], axis=0)
            found.append(np.median(pixels[keep][away >= 0.7 * away.max()], axis=0))
            added.append((found[-1], LegendEntry(label=t.text, color_index=len(known) + len(found) - 1, text=t,
                                                 swatch=(float(x0), float(y0), float(x1), float(y1)))))
            rows.append(t.cy)
            taken.add(id(t))
    return added


def _shade_of(pixels: np.ndarray, known: list[np.ndarray], backgrounds: list[np.ndarray],
              named: set[int]) -> int | None:
    """The one known colour, named by no entry, that nearly all of these (non-background) pixels are shades of:
    that colour blended with a background, from a third as strong to half as strong again. None otherwise."""
    if len(pixels) < 6:
        return None
    for k, colour in enumerate(known):
        if k in named:
            continue
        shades = np.zeros(len(pixels), bool)
        for bg in backgrounds:
            d = colour - bg
            t = (pixels - bg) @ d / max(float(d @ d), 1.0)
            shades |= (np.linalg.norm(pixels - bg - t[:, None] * d, axis=1) < 18) & (t >= 0.3) & (t <= 1.5)
        if shades.mean() >= 0.8:
            return k
    return None


def swatches_on_their_own_colour(labels: np.ndarray, texts: list[Text],
                                 entries: list[LegendEntry]) -> list[LegendEntry]:
    """Legend entries whose swatch lies on a mark of its own colour (a legend drawn over a pie: the swatch is part
    of the wedge under it, no piece of its own): a text in the legend's column, a row step from an entry, with no
    entry of its own, and where the entries' swatches stand left of their texts, most of the pixels of one colour
    no entry names."""
    if len(entries) < 2:
        return []
    column = float(np.median([e.text.box[0] for e in entries]))
    if any(abs(e.text.box[0] - column) > 4 for e in entries):
        return []
    near = float(np.median([e.text.box[0] - e.swatch[2] for e in entries]))
    far = float(np.median([e.text.box[0] - e.swatch[0] for e in entries]))
    rows = sorted(e.text.cy for e in entries)
    step = float(np.median(np.diff(rows)))
    named = {e.color_index for e in entries}
    taken = {id(e.text) for e in entries}
    h, w = labels.shape
    added: list[LegendEntry] = []
    for t in sorted(texts, key=lambda t: abs(t.cy - np.mean(rows))):
        if id(t) in taken or min(abs(t.cy - r) for r in rows) > 1.3 * step \
                or min(abs(t.cy - r) for r in rows) < 0.6 * step:
            continue
        head, _, rest = t.text.partition(" ")
        if abs(t.box[0] - (column - far)) <= 4 and len(head) == 1 and rest.strip():
            # the symbol read into the text as a letter ('o Delta' for a ring on a wedge): the label is the rest
            t = Text(rest.strip(), (column, t.box[1], t.box[2], t.box[3]), t.score)
        elif abs(t.box[0] - column) > 4:
            continue
        y0, y1 = int(max(0, t.cy - 0.3 * t.height)), int(min(h, t.cy + 0.3 * t.height + 1))
        x0, x1 = int(max(0, t.box[0] - far)), int(min(w, t.box[0] - near + 1))
        core = labels[y0:y1, x0:x1]
        if core.size < 6:
            continue
        counts = np.bincount(core[core >= 0].ravel(), minlength=1)
        colour = int(np.argmax(counts))
        if counts[colour] < 0.6 * core.size or colour in named:
            continue
        added.append(LegendEntry(label=t.text, color_index=colour, text=t,
                                 swatch=(float(x0), float(y0), float(x1), float(y1))))
        named.add(colour)
        rows.append(t.cy)
    return added


def swatches_at_the_entries_offset(labels: np.ndarray, texts: list[Text],
                                   entries: list[LegendEntry]) -> list[LegendEntry]:
    """Legend entries whose symbol was too small for `find_legend` beside a tall text box (a 4 px triangle beside a
    28 px box, in a row of 5 px ones it bound): a text in the entries' row (or column) with no entry of its own,
    and at the entries' offset left of it, where their swatches stand, a piece of a colour no entry names, about
    their size (a piece of a wedge or bar is far larger)."""
    if len(entries) < 2:
        return []
    in_row = max(e.text.cy for e in entries) - min(e.text.cy for e in entries) <= 4
    column = float(np.median([e.text.box[0] for e in entries]))
    in_column = all(abs(e.text.box[0] - column) <= 4 for e in entries)
    if not (in_row or in_column):
        return []
    gap = float(np.median([e.text.box[0] - e.swatch[2] for e in entries]))
    width = float(np.median([e.swatch[2] - e.swatch[0] for e in entries]))
    height = float(np.median([e.swatch[3] - e.swatch[1] for e in entries]))
    rise = float(np.median([(e.swatch[1] + e.swatch[3]) / 2 - e.text.cy for e in entries]))
    heights = float(np.median([e.text.height for e in entries]))
    if in_row:
        row = float(np.median([e.text.cy for e in entries]))
        alike = [t for t in texts if abs(t.cy - row) <= 4]
    else:
        rows = sorted(e.text.cy for e in entries)
        step = float(np.median(np.diff(rows)))
        alike = [t for t in texts if abs(t.box[0] - column) <= 4 and min(abs(t.cy - r) for r in rows) <= 1.3 * step]
    named = {e.color_index for e in entries}
    taken = {id(e.text) for e in entries}
    h, w = labels.shape
    reach = 0.3 * heights + 2
    added: list[LegendEntry] = []
    for t in alike:
        if id(t) in taken or t.number is not None or abs(t.height - heights) > 0.3 * heights:
            continue
        x1, middle = t.box[0] - gap, t.cy + rise
        box = (int(max(0, x1 - width - reach)), int(max(0, middle - height / 2 - 2)),
               int(min(w, x1 + reach + 1)), int(min(h, middle + height / 2 + 3)))
        window = labels[box[1]:box[3], box[0]:box[2]]
        counts = np.bincount(window[window >= 0].ravel(), minlength=1)
        for colour in np.argsort(-counts):
            if counts[colour] < max(6, 0.3 * width * height) or colour in named:
                continue
            n, comp, stats, _ = cv2.connectedComponentsWithStats((labels == colour).astype(np.uint8),
                                                                 connectivity=8)
            ys, xs = np.nonzero(window == colour)
            piece = np.bincount(comp[box[1] + ys, box[0] + xs]).argmax()
            px, py, pw, ph = (int(v) for v in stats[piece, :4])
            if piece == 0 or pw > width + 3 or ph > height + 3 or pw < 0.5 * width or ph < 0.5 * height:
                continue
            added.append(LegendEntry(label=t.text, color_index=int(colour), text=t,
                                     swatch=(float(px), float(py), float(px + pw), float(py + ph))))
            named.add(int(colour))
            break
    return added
