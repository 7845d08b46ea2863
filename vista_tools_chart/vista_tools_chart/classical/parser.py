"""One chart's parse: the steps run in order (text, colours, legend, axes), then the chart type decided from the
marks and the reader of that type run."""

from __future__ import annotations

import re

import cv2
import numpy as np
from PIL import Image

from ..ocr import Text, parse_number, read_line, read_text
from .axes import find_scales, right_y_axis, snap_to_tick_marks
from .bars import on_baseline, read_bars, rectangles, short_bars_checked, spread
from .colours import Pixels, as_rgb, find_backgrounds, find_colours, label_pixels
from .labels import rows_below
from .legend import (
    colours_only_the_legend_shows,
    find_legend,
    swatches_at_the_entries_offset,
    swatches_on_their_own_colour,
    unlabelled_swatches,
)
from .lines import read_lines
from .pie import is_disk, read_pie
from .results import ChartParse, ChartParseError, LegendEntry, Series


class ChartParser:
    """Parse one chart image. Stateless apart from the image; `parse()` returns a `ChartParse`."""

    def __init__(self, image: Image.Image):
        self.rgb = np.asarray(image.convert("RGB"))
        self.height, self.width = self.rgb.shape[:2]

    def parse(self) -> ChartParse:
        texts = _dollar_signs([_without_symbol(self.rgb, t) for t in _without_marks(read_text(self.rgb))
                               for t in _split_at_swatches(self.rgb, t)])
        pixels = Pixels.of(self.rgb)
        backgrounds = find_backgrounds(self.rgb, pixels)
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
        self.faint_ink = (neutral & (contrast > 25))[pixels.inverse]  # light grey tick marks and axis lines too
        legend = find_legend(texts, labels, text_mask)
        legend += swatches_at_the_entries_offset(np.where(text_mask, -1, labels), texts, legend)
        legend += self.unread_legend_labels(texts, legend, np.where(text_mask, -1, labels))
        legend += swatches_on_their_own_colour(labels, texts, legend)
        missed = colours_only_the_legend_shows(self.rgb, texts, legend, backgrounds, colours)
        if any(colour is not None for colour, _ in missed):
            colours = colours + [colour for colour, _ in missed if colour is not None]
            labels = label_pixels(pixels, colours, backgrounds)
        legend = legend + [entry for _, entry in missed]
        for entry in legend:  # swatches are not data; what the legend frame covers is faded out of reach anyway
            x0, y0, x1, y1 = (int(v) for v in entry.swatch)
            labels[max(0, y0 - 2):y1 + 3, max(0, x0 - 2):x1 + 3] = -1
        legend_texts = {id(e.text) for e in legend}
        body = [t for t in texts if id(t) not in legend_texts]
        marks = (labels >= 0) & ~text_mask
        y_scale, x_scale = find_scales(body, marks)
        # a rectangle inside a text's box is a piece of its letters (a bar's colour blended into a grey axis line
        # closed onto the top of an 'F' under it), of a colour the legend does not name where it names series, is
        # not a bar (a legend or value label drawn over short bars of the named colours covers them)
        named = {e.color_index for e in legend}
        rects = [r for r in rectangles(labels, len(colours), self.rgb)
                 if len(named) < 2 or r.colour in named or text_mask[r.y0:r.y1, r.x0:r.x1].mean() < 0.6]
        # no value axis for the marks (none at all, or only a row of numbers under them that no bar stands on: years
        # naming a line chart's categories) and no pie
        if y_scale is None and not self.sideways_bars(rects, x_scale) \
                and labels.max() >= 0 and not is_disk(np.where(text_mask, -1, labels)):
            # marks but no axis read: the tick labels were missed; read the strips around the marks again (left and
            # under; right and above, where a value axis stands on the far side)
            ys, xs = np.nonzero(labels >= 0)
            x0, x1 = int(np.percentile(xs, 1)), int(np.percentile(xs, 99))
            y0, y1 = int(np.percentile(ys, 1)), int(np.percentile(ys, 99))
            strips = [(0, 0, x0 + 2, self.height), (0, y1 - 2, self.width, self.height),
                      (x1 - 2, 0, self.width, self.height), (0, 0, self.width, y0 + 2)]
            extra: list[Text] = []
            for t in (t for strip in strips for t in self.reread(strip)):  # the strips overlap at the corners
                if not any(_overlap(t, u) > 0.3 for u in texts + extra):
                    extra.append(t)
            extra = _dollar_signs(extra, texts)
            texts = sorted(texts + extra, key=lambda t: (round(t.cy / 8), t.cx))
            body = body + extra
            y_scale, x_scale = find_scales(body, marks)
        y_scale, x_scale = snap_to_tick_marks(self.rgb, y_scale), snap_to_tick_marks(self.rgb, x_scale)
        twin = right_y_axis(body, marks, y_scale) if y_scale is not None else None
        if twin is not None:
            raise ChartParseError(
                "the chart has two value axes (tick labels left of the plot from "
                f"{min(t.number for t in y_scale.ticks):g} to {max(t.number for t in y_scale.ticks):g}, right of it "
                f"from {min(t.number for t in twin.ticks):g} to {max(t.number for t in twin.ticks):g}); the "
                "classical parser reads charts with one, and cannot tell which series each axis measures")
        names = {e.color_index: e.label for e in legend}
        if y_scale is None and x_scale is None:
            return read_pie(self, texts, body, labels, colours, names, legend)
        upright = on_baseline(rects, y_scale, vertical=True)
        sideways = self.sideways_bars(rects, x_scale)
        if len(upright) != len(sideways):
            vertical = len(upright) > len(sideways)
        else:  # bars of a vertical chart share their width, those of a horizontal one their height
            vertical = spread([r.x1 - r.x0 for r in upright]) <= spread([r.y1 - r.y0 for r in upright])
        bars = short_bars_checked(upright if vertical else sideways, vertical)
        bar_area = sum((r.x1 - r.x0) * (r.y1 - r.y0) for r in bars)
        if bars and bar_area >= 0.5 * int(np.isin(labels, [r.colour for r in bars]).sum()):
            scale = y_scale if vertical else x_scale
            return read_bars(self, texts, body, bars, scale, vertical, colours, names, legend)
        if y_scale is None:
            raise ChartParseError("found no bars standing on an axis and no numeric y axis for lines: the tick "
                                  "labels were not read")
        return read_lines(self, texts, body, labels, y_scale, colours, names, legend)

    def series(self, used: list[int], colours: list[np.ndarray], names: dict[int, str],
               fallback: str) -> tuple[list[Series], dict[int, int]]:
        # legend order first; colours the legend does not name keep the order they come in
        ordered = sorted(dict.fromkeys(used), key=lambda c: (c not in names,
                                                            list(names).index(c) if c in names else used.index(c)))
        series, index = [], {}
        for c in ordered:
            index[c] = len(series)
            name = names.get(c, fallback if len(ordered) == 1 else f"series {len(series) + 1}")
            series.append(Series(name=name, color=as_rgb(colours[c])))
        return series, index

    def title_and_axis_labels(self, body: list[Text], top: float, used: set[int],
                              left: float | None = None, bottom: float | None = None,
                              right: float | None = None) -> tuple[str, str, str]:
        rest = [t for t in body if id(t) not in used and t.number is None]
        # a title sits above the plot: its middle above the top of the highest tick label or mark (its box may reach
        # a pixel or two below it)
        title = " ".join(t.text for t in sorted([t for t in rest if t.cy < top], key=lambda t: (t.cy, t.cx)))
        # the y axis's title left of its tick labels, or right of them for an axis on the right (`right`)
        y_label = " ".join(t.text for t in rest if t.cy >= top and (left is not None and t.box[2] < left
                                                                     or right is not None and t.box[0] > right))
        x_label = " ".join(t.text for t in rest if bottom is not None and t.box[1] > bottom)
        return title, x_label, y_label

    def unread_legend_labels(self, texts: list[Text], legend: list[LegendEntry],
                             labels: np.ndarray) -> list[LegendEntry]:
        """Legend entries whose label OCR passed over (a dark theme's 'Japan' under two swatches read as 'o o'):
        a swatch in the legend's column of a colour no entry names, its label read again right of it."""
        added = []
        height = float(np.median([e.text.height for e in legend])) if legend else 0.0
        reach = max((e.text.width for e in legend), default=0.0)
        for colour, (x0, y0, x1, y1) in unlabelled_swatches(labels, legend):
            middle = (y0 + y1) / 2
            read = [t for t in self.reread((x1 + 1, middle - 0.8 * height, x1 + 2 + 2 * reach, middle + 0.8 * height))
                    if t.number is None or len(t.text) > 2]
            if read:
                t = min(read, key=lambda t: t.box[0])
                texts.append(t)
                added.append(LegendEntry(label=t.text, color_index=colour, text=t,
                                         swatch=(float(x0), float(y0), float(x1), float(y1))))
        return added

    def sideways_bars(self, rects, x_scale):
        """The bars standing on the x scale's zero (horizontal bars). A row of years under vertical bars is an x
        scale whose zero lies far off the image: no bar stands on it, though bars side by side (and the 1 px seams
        between them) share left edges, which had outnumbered the bars on the y axis's zero and turned the chart
        into horizontal bars, then lines."""
        if x_scale is not None and not 0 <= x_scale.pixel(0.0) <= self.width:
            return []
        return on_baseline(rects, x_scale, vertical=False)

    def reread(self, box: tuple[float, float, float, float]) -> list[Text]:
        """Text lines in one region, read again at twice the size: detection over the whole chart misses small
        labels now and then (a 72 dpi chart's tick labels are 8 pixels high)."""
        x0, y0 = int(max(0, box[0])), int(max(0, box[1]))
        x1, y1 = int(min(self.width, box[2])), int(min(self.height, box[3]))
        if x1 - x0 < 8 or y1 - y0 < 8:
            return []
        return [Text(t.text, (t.box[0] + x0, t.box[1] + y0, t.box[2] + x0, t.box[3] + y0), t.score)
                for t in read_text(self.rgb[y0:y1, x0:x1], magnify=2)]

    def reread_row(self, row: list[Text], bottom: float, left: float) -> list[Text]:
        """The category labels under the x axis read again in their strip when fewer than expected were read."""
        height = float(np.median([t.height for t in row])) if row else 0.04 * self.height
        reread = rows_below(self.reread((left - 10, bottom - 2, self.width, bottom + 4 * height + 10)), bottom,
                             left)
        return reread if len(reread) > len(row) else row


def _dollar_signs(texts: list[Text], others: list[Text] = ()) -> list[Text]:
    """The texts with a dollar sign read as an 'S' before a number ('S1e+2', 'S3') given back, where another text of
    the chart shows a dollar amount ('$0', '$4'): tick labels in a '$' format whose glyph the recogniser takes for
    the letter now and then."""
    if not any(re.fullmatch(r"\$[0-9]", t.text[:2]) and t.number is not None for t in [*texts, *others]):
        return texts
    return [Text("$" + t.text[1:], t.box, t.score) if t.text[:1] == "S" and t.number is None
            and parse_number("$" + t.text[1:]) is not None else t for t in texts]


# round legend symbols read as letters ('o o': two swatches one above the other), not text
_CIRCLES = re.compile(r"[oO○◦●•°\s]+")


def _without_marks(texts: list[Text]) -> list[Text]:
    """The texts less the marks that OCR read as text: a bar read as '_' (no letter or digit), or as '1' or 'I'
    (one or two characters in a box more than twice as thick as the chart's lines of text), round legend symbols
    read as 'o o', or a marker read as a glyph of a script the chart's other texts do not use (a square with a line
    through it read as '中' beside Latin labels)."""
    texts = [t for t in texts if any(c.isalnum() for c in t.text) and not _CIRCLES.fullmatch(t.text)]
    if not texts:
        return texts
    ascii_texts = sum(t.text.isascii() for t in texts)
    texts = [t for t in texts if t.text.isascii() or len(t.text.replace(" ", "")) > 2
             or ascii_texts < 0.5 * len(texts) or any(c.isascii() and c.isalnum() for c in t.text)]
    thickness = float(np.median([min(t.width, t.height) for t in texts]))
    return [t for t in texts if len(t.text.replace(" ", "")) > 2 or min(t.width, t.height) <= 2 * thickness]


SYMBOLS = "■□▪▫●○•◆◇▲△▼▽★☆♦◼◻"


def _without_symbol(rgb: np.ndarray, t: Text) -> Text:
    """A text less a legend swatch that OCR took into its line, its box starting where the label's own ink starts
    after the gap that follows the swatch: read as a character of its own ('• Cherry', '- West' beside a short
    line), glued to the word ('■West'), or not read at all but inside the box (a solid square or disk, a short thin
    line, ink of another colour than the letters', or a solid sliver of a swatch that the box's left edge cuts,
    shorter than the letters; first in the box and clear of them). Without this the swatch lies inside the text's
    box and no swatch is found for the label. A sign before a number stays ('- 5': closer to its digits than a
    third of the line's height; '- 2022' beside a line swatch is a series named 2022)."""
    x0, y0, x1, y1 = (int(round(v)) for v in t.box)
    patch = rgb[max(0, y0):y1 + 1, max(0, x0):x1 + 1].astype(int)
    if patch.shape[0] < 3 or patch.shape[1] < 3:
        return t
    paper = np.median(np.concatenate([patch[0], patch[-1]]), axis=0)
    inked = np.abs(patch - paper).max(axis=2) > 40
    ink = inked.any(axis=0)
    columns = np.nonzero(ink)[0]
    if not len(columns):
        return t
    first, first_end = columns[0], columns[0]
    while first_end + 1 < len(ink) and ink[first_end + 1]:
        first_end += 1
    after = columns[columns > first_end + 1]
    if not len(after) or after[0] > 0.6 * len(ink):
        return t
    gap = after[0] - first_end - 1
    head, _, rest = t.text.partition(" ")
    if len(head) == 1 and not head.isalnum() and head not in "$€£¥([#" and rest.strip():
        if gap < 0.3 * t.height and head in "+-−–" and parse_number(rest) is not None:
            return t
        text = rest.strip()
    elif t.text[:1] in SYMBOLS and t.text[1:].strip():
        text = t.text[1:].strip()
    else:
        rows = np.nonzero(inked[:, first:first_end + 1].any(axis=1))[0]
        width, height = first_end - first + 1, rows[-1] - rows[0] + 1
        fill = float(inked[rows[0]:rows[-1] + 1, first:first_end + 1].mean())
        blob = 4 <= width <= 1.2 * t.height and 0.7 * height <= width <= 1.4 * height and fill >= 0.72 \
            and gap >= max(2.0, 0.15 * t.height)
        line = height <= max(2.0, 0.2 * t.height) and width >= 0.3 * t.height and gap >= 0.3 * t.height
        # or a line swatch with a marker on it (a legend of lines drawn with their points): long, a thin stroke
        # across it (a row of ink through its whole width, within its height, not at its top or bottom as a
        # letter's bar or serif is), the marker's bulge alone taller. The recogniser may have read it as a letter
        # or digit glued to the label ('12021' for '-•- 2021'): the label is read again without it
        stroke = inked[rows[0]:rows[-1] + 1, first:first_end + 1]
        across = np.nonzero(stroke.mean(axis=1) >= 0.9)[0]
        marked = width >= 0.8 * t.height and height <= 0.7 * t.height and len(across) > 0 \
            and 0 < across[0] and across[-1] < height - 1 and np.median(stroke.sum(axis=0)) <= 0.2 * t.height \
            and gap >= max(2.0, 0.15 * t.height)
        # or ink of another colour than the letters' (a coloured swatch, or the sliver of one the box's edge cuts)
        first_ink = patch[:, first:first_end + 1][inked[:, first:first_end + 1]]
        rest_ink = patch[:, after[0]:][inked[:, after[0]:]]
        # (a hue before grey letters counts however light the letters are: the half of a blue diamond before a
        # mid-grey 'South' differs by 53 in its mean, anti-aliased, but by 68 in chroma)
        coloured = len(rest_ink) > 0 and gap >= 2 and width <= 1.2 * t.height \
            and (float(np.abs(first_ink.mean(axis=0) - rest_ink.mean(axis=0)).max()) > 60
                 or np.ptp(first_ink.mean(axis=0)) > 40 and np.ptp(rest_ink.mean(axis=0)) < 15)
        # or a solid sliver of a swatch that the box's left edge cuts, shorter than the letters
        rest_rows = np.nonzero(inked[:, after[0]:].any(axis=1))[0]
        sliver = first == 0 and fill >= 0.72 and width <= 0.5 * t.height and gap >= max(2.0, 0.15 * t.height) \
            and len(rest_rows) > 0 and height <= 0.85 * (rest_rows[-1] - rest_rows[0] + 1)
        if not (blob or line or coloured or sliver or marked):
            return t
        text = t.text
        if marked and not (blob or line or coloured or sliver):
            text = read_line(rgb, (max(0, x0) + after[0] - 2, t.box[1], t.box[2] + 1, t.box[3])) or t.text
    return Text(text, (float(max(0, x0) + after[0] - 1), t.box[1], t.box[2], t.box[3]), t.score)


def _split_at_swatches(rgb: np.ndarray, t: Text) -> list[Text]:
    """A legend laid out in a row that detection read as one line ('OmegaAlphaDeltaBravo', the round symbols
    between the names dropped): cut at the coloured symbols inside the box (solid, round or square, no taller than
    the line, of another colour than the letters: a navy text's decimal points are no symbols; letters are thin or
    hollow), each name read again in its own stretch. The text as it is when no symbol stands between two
    stretches of letters."""
    if len(t.text) < 4 or t.on_end:
        return [t]
    x0, y0, x1, y1 = (int(round(v)) for v in t.box)
    patch = rgb[max(0, y0):y1 + 1, max(0, x0):x1 + 1].astype(int)
    if patch.shape[0] < 6 or patch.shape[1] < 12:
        return [t]
    paper = np.median(np.concatenate([patch[0], patch[-1]]), axis=0)
    inked = np.abs(patch - paper).max(axis=2) > 40
    coloured = inked & (np.ptp(patch, axis=2) > 40)
    n, components, stats, _ = cv2.connectedComponentsWithStats(coloured.astype(np.uint8), connectivity=8)
    shapes = [k for k in range(1, n) if max(3.0, 0.15 * patch.shape[0]) <= stats[k, 3] <= 0.9 * patch.shape[0]
              and 0.6 <= stats[k, 2] / stats[k, 3] <= 1.6 and _solid(components, k, stats[k])]
    if not shapes:
        return [t]
    # of another colour than the letters (a coloured text's dots and 'o's are no symbols)
    others = inked & ~np.isin(components, shapes)
    ink = np.median(patch[others], axis=0) if others.any() else paper
    symbols = sorted((int(stats[k, 0]), int(stats[k, 0] + stats[k, 2])) for k in shapes
                     if np.abs(np.median(patch[components == k], axis=0) - ink).max() > 40)
    letters = inked.any(axis=0) & ~coloured.any(axis=0)
    for a, b in symbols:  # nor the symbol's anti-aliased rim
        letters[max(0, a - 2):b + 2] = False
    edges = [0, *(v for a, b in symbols for v in (a, b)), patch.shape[1]]
    stretches = [(a, b) for a, b in zip(edges[::2], edges[1::2]) if b > a and letters[a:b].any()]
    if len(symbols) < 1 or len(stretches) < 2:
        return [t]
    parts = []
    for a, b in stretches:
        columns = np.nonzero(letters[a:b])[0] + a
        box = (float(max(0, x0) + columns[0]), t.box[1], float(max(0, x0) + columns[-1] + 1), t.box[3])
        text = read_line(rgb, (box[0] - 2, box[1], box[2] + 2, box[3]))
        if text:
            parts.append(Text(text, box, t.score))
    return parts if len(parts) >= 2 else [t]


def _solid(components: np.ndarray, k: int, stat: np.ndarray) -> bool:
    """Whether piece `k` is a solid symbol: it fills most of its box (a disk, a square), or it is a triangle or a
    diamond (half its box) that every row and column crosses in one run: no hole, no notch ('o', 'e', 'c', 'n')."""
    x, y, w, h, area = (int(v) for v in stat)
    if area >= 0.7 * w * h:
        return True
    if area < 0.45 * w * h:
        return False
    piece = components[y:y + h, x:x + w] == k
    return all(np.count_nonzero(np.diff(line.astype(np.int8)) == 1) + line[0] == 1 for line in (*piece, *piece.T))


def _overlap(a: Text, b: Text) -> float:
    """Intersection over union of two text boxes."""
    w = min(a.box[2], b.box[2]) - max(a.box[0], b.box[0])
    h = min(a.box[3], b.box[3]) - max(a.box[1], b.box[1])
    if w <= 0 or h <= 0:
        return 0.0
    return w * h / (a.width * a.height + b.width * b.height - w * h)


def parse_chart(image: Image.Image) -> ChartParse:
    return ChartParser(image).parse()
