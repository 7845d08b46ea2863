import io

import pytest
import vista
from PIL import Image
from vista.checks import check_tool
from vista_example_plugin import ColorHistogram, DominantColor
from vista_example_plugin.palette import PALETTE

TOOLS = {"color_histogram": ColorHistogram()}


def histogram(arguments, image):
    return vista.call_tool("color_histogram", arguments, [image], tools=TOOLS)


def test_keeps_the_tool_contract():
    assert check_tool(ColorHistogram()) == []


def test_counts_match_the_pixels_the_task_drew():
    for example in DominantColor().load("test", seed=0, limit=20):
        region = example.metadata["region"]
        result = histogram({"ignore": ["white"], "top_k": 13} | ({"bbox": region} if region else {}),
                           example.images[0])
        assert result.ok, result.text
        measured = {c.name: c.pixels for c in result.data.colors}
        assert measured == {k: v for k, v in example.metadata["areas"].items() if v > 0}
        assert result.data.colors[0].name == example.metadata["color"]
        assert sum(c.fraction for c in result.data.colors) == pytest.approx(1, abs=1e-3)


def test_survives_jpeg_compression():
    example = next(DominantColor().load("train", seed=3, limit=1))
    buffer = io.BytesIO()
    example.images[0].save(buffer, format="JPEG", quality=60)
    jpeg = Image.open(io.BytesIO(buffer.getvalue()))
    region = example.metadata["region"]
    result = histogram({"ignore": ["white"]} | ({"bbox": region} if region else {}), jpeg)
    assert result.data.colors[0].name == example.metadata["color"]


def test_mean_colour_and_brightness():
    image = Image.new("RGB", (10, 10), PALETTE["white"])
    image.paste(PALETTE["black"], (0, 0, 5, 10))
    result = histogram({}, image)
    assert result.data.mean_rgb == [127.5, 127.5, 127.5] and result.data.brightness == pytest.approx(127.5)
    assert [(c.name, c.fraction) for c in result.data.colors] == [("black", 0.5), ("white", 0.5)]
    assert histogram({"bbox": [0, 0, 5, 10]}, image).data.brightness == 0
    assert "black 50.0%" in result.text


def test_top_k_limits_the_list():
    image = Image.new("RGB", (4, 1))
    for x, name in enumerate(["red", "green", "blue", "red"]):
        image.putpixel((x, 0), PALETTE[name])
    assert [c.name for c in histogram({"top_k": 1}, image).data.colors] == ["red"]


@pytest.mark.parametrize("arguments, error_class, argument", [
    ({"bbox": [0, 0, 100, 10]}, "E4", "bbox"),         # outside the 20x20 image
    ({"bbox": [5, 5, 5, 9]}, "E4", "bbox"),            # empty
    ({"ignore": ["white"]}, "E4", "ignore"),          # nothing left to count
    ({"ignore": ["grey"]}, "E3", None),               # not a palette name
    ({"bbox": [0, 0, 10]}, "E3", None),               # three numbers
    ({"top_k": 0}, "E3", None),
    ({"image": "image_3"}, "E4", "image"),            # no such image in the episode
    ({"colour": "red"}, "E2", None),                  # unknown argument
])
def test_bad_calls_are_classified(arguments, error_class, argument):
    result = histogram(arguments, Image.new("RGB", (20, 20), "white"))
    assert not result.ok and result.error.error_class.value == error_class, result.error
    if argument:
        assert result.error.argument == argument
