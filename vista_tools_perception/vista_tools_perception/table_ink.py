"""What a table image's pixels say beyond OCR: ruling lines, the ink of one text box, the gaps between its glyphs.

OCR gives a string per box; the pixels decide what the string cannot: where the table draws its cell boundaries,
whether digits stand a space apart ('0 3 4 5', a stem-and-leaf row, that a recogniser returns as '0345'), and
whether a lone 'x' is lower or upper case (the shapes are the same; only the height differs).
Ink is whatever differs from the box's own background (its median colour), so white text on a coloured header
reads like dark text on white.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

import numpy as np
from PIL import Image

# A pixel is ink when some channel differs from the background by more than this (of 255): anti-aliased edges of
# 12-16 px text fall below, strokes and ruling lines are far above.
INK_CONTRAST = 80
# Two digits stand a space apart when their centres are further apart than this share of the digits' height:
# one advance is about 0.75 of the height in common faces, an advance and a space about 1.15.
DIGIT_SPACE_PITCH = 0.95
# ... and the blank between them is this share of the height or more (two digits of one number leave under 0.35).
DIGIT_SPACE_GAP = 0.35
# A letter and a digit read together ('Jul1') stand a space apart when the blank between them is this share of the
# text's height or more (a word space: 0.46-0.55 in 13-16 px faces; letters stand 0.1-0.2 apart).
LETTER_DIGIT_SPACE = 0.35
# Ink along this share of a box's width or height is a ruling line through the box, not text.
RULE_IN_BOX = 0.85
# A boundary line runs along at least this share of the table's width (or height) within a pixel or two.
RULE_COVERAGE = 0.6


def as_array(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.int16)


def ink_mask(pixels: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """Ink inside a box of an RGB array: pixels far from the box's median colour, less the ruling lines that cross
    the box (ink along nearly its whole width or height, which no glyph has: padded OCR boxes often take in the
    line between two cells)."""
    x0, y0, x1, y1 = _clip(box, pixels)
    crop = pixels[y0:y1, x0:x1]
    if crop.size == 0:
        return np.zeros((0, 0), dtype=bool)
    background = np.median(crop.reshape(-1, 3), axis=0)
    mask = np.abs(crop - background).max(axis=2) > INK_CONTRAST
    mask[mask.mean(axis=1) >= RULE_IN_BOX, :] = False
    mask[:, mask.mean(axis=0) >= RULE_IN_BOX] = False
    return mask


def _clip(box: tuple[int, int, int, int], pixels: np.ndarray) -> tuple[int, int, int, int]:
    height, width = pixels.shape[:2]
    x0, y0, x1, y1 = box
    return max(0, x0), max(0, y0), min(width, x1), min(height, y1)


def runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of True as (start, stop)."""
    padded = np.concatenate([[False], flags, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


@dataclass(frozen=True)
class Glyphs:
    """The ink of one text box: its runs of ink left to right (each glyph, or glyphs that touch), their colours, and
    the ink's vertical extent, all in box coordinates."""

    spans: list[tuple[int, int]]
    colours: list[tuple[float, float, float]]  # the mean colour of each span's ink
    top: int
    bottom: int

    @property
    def height(self) -> int:
        return self.bottom - self.top

    def gaps(self) -> list[int]:
        return [b[0] - a[1] for a, b in zip(self.spans, self.spans[1:])]


def glyphs(pixels: np.ndarray, box: tuple[int, int, int, int], rules: Sequence[float] = ()) -> Glyphs | None:
    """The ink in a box, less the table's vertical boundaries `rules` (x positions) and the slivers of ruling
    lines that a padded box takes in at its left or right edge (a run of ink one or two pixels wide touching it)."""
    mask = ink_mask(pixels, box)
    x0 = _clip(box, pixels)[0]
    for x in rules:
        column = round(x) - x0
        if 0 <= column + 1 and column - 1 < mask.shape[1]:
            mask[:, max(0, column - 1):column + 2] = False
    if not mask.any():
        return None
    spans = runs(mask.any(axis=0))
    if len(spans) > 1 and spans[0][0] == 0 and spans[0][1] <= 2:
        spans = spans[1:]
    if len(spans) > 1 and spans[-1][1] == mask.shape[1] and spans[-1][1] - spans[-1][0] <= 2:
        spans = spans[:-1]
    mask[:, :spans[0][0]] = False
    mask[:, spans[-1][1]:] = False
    rows = np.flatnonzero(mask.any(axis=1))
    y0 = _clip(box, pixels)[1]
    colours = []
    for start, stop in spans:
        inked = pixels[y0:y0 + mask.shape[0], x0 + start:x0 + stop][mask[:, start:stop]]
        colours.append(tuple(float(v) for v in inked.mean(axis=0)))
    return Glyphs(spans=spans, colours=colours, top=int(rows[0]), bottom=int(rows[-1]) + 1)


def respace(text: str, ink: Glyphs | None) -> str:
    """The text with a space between two digits where their glyphs stand a space apart, and nowhere else changed.
    Recognisers drop the spaces between lone digits (a stem-and-leaf row '0 3 4 5' comes back '0345' or '0 345'),
    having no word to tell them where one ends; words keep the spaces they were read with. Judged only when every
    character is one run of ink (digits and most letters are; '%' or a kerned 'rf' are not, and the text is then
    left as read): digits are as wide as each other, so the distance between two digits' centres is one advance
    (about 0.75 of their height) or one advance and a space (about 1.15)."""
    characters = text.replace(" ", "")
    if ink is None or len(characters) < 2 or len(ink.spans) != len(characters) or ink.height <= 0:
        return text
    spaced_in_text = _spaces_before(text)
    centres = [(start + stop) / 2 for start, stop in ink.spans]
    gaps = ink.gaps()
    result = characters[0]
    for index, character in enumerate(characters[1:], start=1):
        previous = characters[index - 1]
        gap = gaps[index - 1]
        if previous.isdigit() and character.isdigit():
            # and a blank between them wider than two digits leave (at 9 px high '53' stands 1.0 apart, 3 px)
            apart = centres[index] - centres[index - 1] > DIGIT_SPACE_PITCH * ink.height \
                and gap >= DIGIT_SPACE_GAP * ink.height
        elif previous.isalnum() and character.isalnum() and previous.isalpha() != character.isalpha() \
                and not spaced_in_text[index]:
            # a word and a number a space apart read as one ('Jul1', 'Mar8'): a blank a third of the text's height
            # and twice the box's other letter gaps ('A1' or '5th' stand as close as letters do)
            others = gaps[:index - 1] + gaps[index:]
            apart = gap >= LETTER_DIGIT_SPACE * ink.height and bool(others) and gap >= 2 * median(others)
        else:
            apart = spaced_in_text[index]
        result += (" " if apart else "") + character
    return result


def _spaces_before(text: str) -> list[bool]:
    """For each non-space character of the text, whether a space comes right before it."""
    flags, after_space = [], False
    for character in text:
        if character == " ":
            after_space = True
        else:
            flags.append(after_space)
            after_space = False
    return flags


def boundaries(pixels: np.ndarray, axis: int, span: tuple[int, int], across: tuple[int, int],
               coverage: float = RULE_COVERAGE) -> list[float]:
    """Where the table draws a boundary across its rows (axis=0: y positions of horizontal rules or of a change of
    row shading) or its columns (axis=1: x positions), found as a step in colour along at least `coverage` of
    `across` (the table's extent the other way); `span` bounds the positions searched. A drawn line gives two steps
    a pixel or two apart, taken as one boundary."""
    gray = pixels.mean(axis=2)
    if axis == 1:
        gray = gray.T
    lo, hi = max(0, span[0]), min(gray.shape[0] - 1, span[1])
    a, b = max(0, across[0]), min(gray.shape[1], across[1])
    if hi <= lo or b <= a:
        return []
    steps = np.abs(np.diff(gray[lo:hi + 1, a:b], axis=0)) > 8
    found = runs(steps.mean(axis=1) >= coverage)
    merged: list[list[int]] = []
    for start, stop in found:
        if merged and start - merged[-1][1] <= 2:
            merged[-1][1] = stop
        else:
            merged.append([start, stop])
    return [lo + (start + stop) / 2 for start, stop in merged]
