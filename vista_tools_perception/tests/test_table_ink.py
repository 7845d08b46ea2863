"""What the pixels say about a table, on images drawn here with known text, spacing and lines."""

from pathlib import Path

import matplotlib
import pytest
from PIL import Image, ImageDraw, ImageFont
from vista_tools_perception.table_ink import as_array, boundaries, glyphs, respace

FONTS = Path(matplotlib.__file__).parent / "mpl-data" / "fonts" / "ttf"


def drawn(text: str, font: str = "DejaVuSans.ttf", size: int = 16, line_at: int | None = None):
    """The text drawn black on a light grey cell (with a vertical ruling line at x=line_at), and its box."""
    image = Image.new("RGB", (200, 40), (236, 236, 236))
    draw = ImageDraw.Draw(image)
    draw.text((20, 10), text, fill=(20, 20, 20), font=ImageFont.truetype(str(FONTS / font), size))
    if line_at is not None:
        draw.line([(line_at, 0), (line_at, 39)], fill=(120, 120, 120), width=1)
    return as_array(image), (14, 4, 190, 36)


@pytest.mark.parametrize("font", ["DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSans-Bold.ttf"])
@pytest.mark.parametrize("size", [12, 16, 22])
@pytest.mark.parametrize("printed, read", [("0 3 4 5", "0345"), ("0 3 4 5", "0 345"), ("2 4 6", "2 46"),
                                           ("11", "11"), ("1 1", "11"), ("22,600", "22,600")])
def test_digits_are_spaced_as_printed_whatever_the_recogniser_returned(font, size, printed, read):
    pixels, box = drawn(printed, font, size)
    assert respace(read, glyphs(pixels, box)) == printed


def test_a_space_read_between_digits_that_touch_none_is_taken_out_unless_glyphs_touch():
    pixels, box = drawn("408", "DejaVuSans.ttf", 16)
    assert respace("4 08", glyphs(pixels, box)) == "408"
    pixels, box = drawn("408", "DejaVuSans-Bold.ttf", 12)  # '4' and '0' touch: two runs of ink for three digits
    assert respace("4 08", glyphs(pixels, box)) == "4 08"


def test_a_ruling_line_through_the_box_is_not_a_glyph():
    pixels, box = drawn("4 8 8", line_at=16)
    assert len(glyphs(pixels, box).spans) == 3
    assert respace("488", glyphs(pixels, box)) == "4 8 8"


def test_words_keep_their_spaces_and_unmatched_ink_leaves_the_text_alone():
    pixels, box = drawn("Number of coins")
    assert respace("Number of coins", glyphs(pixels, box)) == "Number of coins"
    pixels, box = drawn("45%")  # '%' is three runs of ink: the count does not match the text, nothing is changed
    assert respace("45 %", glyphs(pixels, box)) == "45 %"


def test_boundaries_are_drawn_lines_and_changes_of_shading():
    image = Image.new("RGB", (120, 90), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 30, 119, 59], fill=(232, 232, 232))  # a shaded middle row: steps at y=30 and y=60
    draw.line([(60, 0), (60, 89)], fill=(150, 150, 150))  # a column rule
    pixels = as_array(image)
    assert boundaries(pixels, 0, (0, 89), (0, 120)) == [29.5, 59.5]  # between the last white and first grey row
    assert boundaries(pixels, 1, (0, 119), (0, 90)) == [60]
