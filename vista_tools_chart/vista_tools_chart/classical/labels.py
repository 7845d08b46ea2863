"""Category labels: the row or column of texts along the category axis, each assigned to the mark position it
stands at (a merged line of labels cut and read again)."""

from __future__ import annotations

import re

import numpy as np

from ..ocr import Text, read_line, read_on_end, recognise_box

TICK_STROKES = {"1", "I", "l", "|", "!", "i", "'"}


def rows_below(texts: list[Text], y: float, left: float) -> list[Text]:
    """The first row of texts under pixel row `y` (the category tick labels of a vertical chart). Tick marks read as
    text ('1', 'I': a row of lone strokes, some ticks read and others not) are no row of labels."""
    # a box may reach a few pixels above its letters (a tall capital, a tick mark taken in): a text whose middle
    # stands clearly under the row is under it
    below = [t for t in texts if t.cx > left and (t.box[1] >= y - 2 or t.cy >= y + 0.25 * t.height
                                                   and t.box[1] >= y - 0.4 * t.height)]
    while below:
        first = min(t.cy for t in below)
        tolerance = max(6.0, 0.6 * np.median([t.height for t in below]))
        strokes = [t for t in below if t.cy - first <= tolerance]
        if not all(t.text.strip() in TICK_STROKES for t in strokes) or len(strokes) == len(below):
            break
        below = [t for t in below if t.cy - first > tolerance]
    if not below:
        return []
    first = min(t.cy for t in below)
    tolerance = max(6.0, 0.6 * np.median([t.height for t in below]))
    row = [t for t in below if t.cy - first <= tolerance]
    # labels turned on end hang from the axis: their tops line up, their middles do not (a long one reaches lower)
    top = min(t.box[1] for t in row)
    row += [t for t in below if t.on_end and t.cy - first > tolerance and t.box[1] - top <= max(6.0, 0.6 * t.width)]
    return sorted(row, key=lambda t: t.cx)


def anchor(ink: np.ndarray, t: Text, faint: np.ndarray | None = None) -> float:
    """The column a category label marks: its middle, or for a slanted label (its letters' ink runs at 15-75
    degrees) its upper end, which hangs from the axis at its tick (Bokeh's, Vega-Lite's and Plotly's rotated labels
    end there, whichever way they lean: the middle stands half the label's width to the side). The letters are
    `ink`, or `faint` (light grey ink) where `ink` holds next to none of them: a light grey label is slanted too."""
    x0, y0, x1, y1 = (int(round(v)) for v in t.box)
    letters = ink[max(0, y0):y1 + 1, max(0, x0):x1 + 1]
    if letters.sum() < 20 and faint is not None:
        letters = faint[max(0, y0):y1 + 1, max(0, x0):x1 + 1]
    # less an axis line crossing the box (a row of ink across it)
    ys, xs = np.nonzero(letters & (letters.mean(axis=1, keepdims=True) < 0.8))
    if t.on_end or len(xs) < 20:
        return t.cx
    values, vectors = np.linalg.eigh(np.cov(np.stack([xs, ys]).astype(float)))
    dx, dy = vectors[:, int(np.argmax(values))]
    slant = np.degrees(np.arctan2(abs(dy), abs(dx)))
    if not 15 <= slant <= 75 or values.min() > 0.25 * values.max():
        return t.cx
    if dy > 0:  # point the axis upwards, to the end nearer the plot
        dx, dy = -dx, -dy
    along = (xs - xs.mean()) * dx + (ys - ys.mean()) * dy
    end = along >= np.percentile(along, 97)
    return float(max(0, x0) + xs[end].mean())


def join_stacked(rgb: np.ndarray, texts: list[Text]) -> list[Text]:
    """Texts with any label standing on end that detection cut in two (one word above the other in the same
    column) read again as one line."""
    joined: list[Text] = []
    for t in sorted(texts, key=lambda t: t.box[1]):
        above = next((j for j, u in enumerate(joined) if u.on_end and t.on_end
                      and min(u.box[2], t.box[2]) - max(u.box[0], t.box[0]) >= 0.6 * min(u.width, t.width)
                      and -0.3 * t.height <= t.box[1] - u.box[3] <= 0.8 * max(u.width, t.width)), None)
        if above is None:
            joined.append(t)
            continue
        u = joined[above]
        box = (min(u.box[0], t.box[0]), u.box[1], max(u.box[2], t.box[2]), max(u.box[3], t.box[3]))
        text, score = read_on_end(rgb, (box[0] - 1, box[1] - 1, box[2] + 1, box[3] + 1))
        joined[above] = Text(text or f"{u.text} {t.text}", box, score if text else min(u.score, t.score))
    return joined


def column_left_of(texts: list[Text], x: float, top: float, bottom: float) -> list[Text]:
    """The column of texts right-aligned nearest to the left of pixel column `x` (horizontal-bar categories)."""
    # a y-axis title standing on its end is not a category label. A label set flush against the bars (no tick, no
    # padding) may have a box that reaches a few pixels past their start: its letters end at it
    left = [t for t in texts if t.box[2] <= x + max(2.0, 0.3 * t.height) and t.cx < x and top - 4 <= t.cy <= bottom + 4
            and not t.on_end]
    if not left:
        return []
    nearest = max(t.box[2] for t in left)
    return sorted([t for t in left if nearest - t.box[2] <= 0.3 * max(t.width, 1) + 25], key=lambda t: t.cy)


def unread_labels(rgb: np.ndarray, positions: list[float], row: list[Text],
                  along: str) -> list[Text]:
    """The row (or column) of category labels with those that detection passed over read where they must stand:
    at a position no label stands at, placed as the labels read stand at theirs (centred on it, or ending at it),
    recognised in that box without detection. Only where the labels read stand alike at their positions, and
    where the box holds ink. A label read unsurely (a short word on end read flat: 'b' for 'Feb') is read again in
    its box turned both ways, the surer reading kept; one that ends short of a flush column's edge, up to it."""
    if len(row) < 2:
        return row
    lo, hi = (0, 2) if along == "x" else (1, 3)
    # short words turned on end are boxes hardly taller than wide: read both ways, keep the surer
    turned = sum(t.on_end or t.height > t.width for t in row) > len(row) / 2
    ways = {turned, False} if along == "x" else {False}

    def read(box: tuple[float, float, float, float]) -> tuple[str, float]:
        return max((recognise_box(rgb, box, way) for way in ways), key=lambda r: r[1])

    # a column of labels set flush against the axis: a box that ends short of the others' common edge was cut short
    # by detection ('Frai' for 'France'): read again up to the edge
    edge = float(np.median([t.box[2] for t in row]))
    flush = along == "y" and sum(abs(t.box[2] - edge) <= 3 for t in row) >= max(2, 0.6 * len(row))
    mended = []
    for t in row:
        if flush and edge - t.box[2] > max(4.0, 0.3 * t.height):
            text, score = recognise_box(rgb, (t.box[0] - 2, t.box[1] - 2, edge + 2, t.box[3] + 2))
            if len(text) > len(t.text) and score >= 0.8:
                t = Text(text, (t.box[0], t.box[1], edge, t.box[3]), score)
        if t.score < 0.8:
            text, score = read((t.box[0] - 2, t.box[1] - 2, t.box[2] + 2, t.box[3] + 2))
            if score > t.score and any(c.isalnum() for c in text):
                t = Text(text, t.box, score)
        mended.append(t)
    row = mended
    if len(positions) <= len(row):
        return row
    ordered = sorted(positions)
    spacing = float(np.median(np.diff(ordered)))
    if spacing <= 4:
        return row
    offsets = []
    for t in row:
        middle = (t.box[lo] + t.box[hi]) / 2
        offsets.append(middle - min(ordered, key=lambda p: abs(middle - p)))
    offset = float(np.median(offsets))
    if any(abs(o - offset) > 0.25 * spacing for o in offsets):
        return row
    extent = max(t.box[hi] - t.box[lo] for t in row)
    half = extent / 2 + 3 if turned or along == "y" else min(0.5 * spacing - 1, 0.65 * extent + 4)
    added = []
    for p in ordered:
        middle = p + offset
        if any(abs((t.box[lo] + t.box[hi]) / 2 - middle) < 0.5 * spacing or t.box[lo] - 3 <= middle <= t.box[hi] + 3
               for t in row):
            continue  # a label stands there (or a line of labels merged into one, which assign_labels cuts)
        if along == "x":
            box = (middle - half, min(t.box[1] for t in row) - 2, middle + half, max(t.box[3] for t in row) + 2)
        else:
            widest = max(t.width for t in row)
            box = (min(t.box[0] for t in row) - 0.25 * widest, middle - half, max(t.box[2] for t in row) + 2,
                   middle + half)
        x0, y0, x1, y1 = (max(0, int(round(v))) for v in box)
        patch = rgb[y0:y1, x0:x1].astype(int)
        if patch.size == 0 or not (np.abs(patch - np.median(patch, axis=(0, 1))).max(axis=2) > 60).any():
            continue  # nothing drawn there (labels of any colour: light grey ones are no 'ink')
        text, score = read(box)
        if score >= 0.6 and any(c.isalnum() for c in text) and text.strip() not in TICK_STROKES:
            added.append(Text(text, tuple(float(v) for v in box), score))
    return sorted(row + added, key=lambda t: (t.box[lo] + t.box[hi]) / 2)


def assign_labels(rgb: np.ndarray, ink: np.ndarray, positions: list[float], texts: list[Text],
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


def split_merged(rgb: np.ndarray, ink: np.ndarray, row: list[Text]) -> list[Text]:
    """A row of category labels (flat, under the x axis) with any that detection merged into one line ('Canada
    France') cut into its words' labels where nothing else places the categories: a text of two words or more, at
    least 1.6 times as wide as the row's other labels (three or more) and standing a step and a half or more from its
    neighbours (the others' steps apart: a label of two words, 'New York', stands a step from them), is cut at the
    blank between its words nearest where its characters put the space, each part read again. Without this the two
    categories are one, placed between their points."""
    if len(row) < 3:
        return row
    row = sorted(row, key=lambda t: t.cx)
    centres = [t.cx for t in row]
    out: list[Text] = []
    for i, t in enumerate(row):
        words = t.text.split()
        others = [u.width for u in row if u is not t]
        if len(words) < 2 or t.on_end or t.width < 1.6 * float(np.median(others)):
            out.append(t)
            continue
        near = [abs(centres[j] - t.cx) for j in (i - 1, i + 1) if 0 <= j < len(row)]
        steps = [b - a for k, (a, b) in enumerate(zip(centres, centres[1:])) if k not in (i - 1, i)]
        if not steps or min(near) < 1.3 * float(np.median(steps)):
            out.append(t)
            continue
        start, parts = t.box[0], []
        for k in range(1, len(words)):
            guess = t.box[0] + t.width * len(" ".join(words[:k])) / len(t.text)
            cut = _blank_near(ink, t.box, guess, "x", max(4.0, 0.1 * t.width))
            parts.append((start, cut))
            start = cut
        parts.append((start, t.box[2]))
        pieces = []
        for (a, b), word in zip(parts, words):
            read = read_line(rgb, (a - 1, t.box[1] - 1, b + 1, t.box[3] + 1)) or word
            pieces.append(Text(read, (float(a), t.box[1], float(b), t.box[3]), t.score))
        out += pieces
    return out


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




def mend_sequence(labels: list[str], positions: list[float]) -> list[str]:
    """Category labels that count up evenly along the axis (years: 2012, 2013, ...), one of them misread by a
    single digit ('2814' between '2013' and '2015'): that one is read as the sequence's. Four labels or more, all
    whole numbers of up to four digits, all but one on one step; a label off by more than one digit is left as read
    (a sequence with a real gap: 2000, 2005, 2010, 2020)."""
    if len(labels) < 4 or not all(re.fullmatch(r"[0-9]{1,4}", t) for t in labels):
        return labels
    order = sorted(range(len(labels)), key=lambda k: positions[k])
    values = [int(labels[k]) for k in order]
    steps = [b - a for a, b in zip(values, values[1:])]
    step = max(set(steps), key=steps.count)
    if step == 0:
        return labels
    bases = [v - i * step for i, v in enumerate(values)]
    base = max(set(bases), key=bases.count)
    off = [i for i, b in enumerate(bases) if b != base]
    if len(off) != 1:
        return labels
    expected, read = str(base + off[0] * step), labels[order[off[0]]]
    if len(expected) != len(read) or sum(a != b for a, b in zip(expected, read)) != 1:
        return labels
    mended = list(labels)
    mended[order[off[0]]] = expected
    return mended


def dedupe(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out
