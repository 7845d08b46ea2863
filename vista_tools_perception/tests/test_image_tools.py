import pytest
from PIL import Image
from vista import ErrorClass, ToolContext, call_tool
from vista_tools_perception.image_tools import Crop, Rotate, Zoom

TOOLS = {tool.name: tool for tool in (Crop(), Zoom(), Rotate())}


@pytest.fixture
def picture() -> Image.Image:
    image = Image.new("RGB", (100, 60), "white")
    image.paste((255, 0, 0), (10, 20, 30, 40))  # a red square: its pixels say where a view came from
    return image


def test_crop_returns_the_region_as_a_new_episode_image(picture):
    ctx = ToolContext([picture])
    result = call_tool("crop", {"bbox": [10, 20, 30, 40]}, ctx, tools=TOOLS)
    assert result.ok and result.data == {"width": 20, "height": 20, "source_bbox": [10, 20, 30, 40]}
    assert result.image_names == ["image_1"]
    crop = ctx.image("image_1")
    assert crop.size == (20, 20) and crop.getpixel((0, 0)) == (255, 0, 0) and crop.getpixel((19, 19)) == (255, 0, 0)


def test_zoom_magnifies_a_region_and_the_crop_of_a_crop_works(picture):
    ctx = ToolContext([picture])
    result = call_tool("zoom", {"bbox": [0, 10, 40, 50], "factor": 3}, ctx, tools=TOOLS)
    assert result.ok and (result.data["width"], result.data["height"]) == (120, 120)
    zoomed = ctx.image("image_1")
    assert zoomed.getpixel((60, 60)) == (255, 0, 0) and zoomed.getpixel((5, 5)) == (255, 255, 255)
    whole = call_tool("zoom", {"image": "image_1", "factor": 1.5}, ctx, tools=TOOLS)
    assert whole.ok and whole.data["source_bbox"] == [0, 0, 120, 120] and whole.data["width"] == 180


def test_rotate_by_quarter_turns_is_exact_and_other_angles_grow_the_canvas(picture):
    ctx = ToolContext([picture])
    turned = call_tool("rotate", {"degrees": 90}, ctx, tools=TOOLS)
    assert turned.ok and (turned.data["width"], turned.data["height"]) == (60, 100)
    # counter-clockwise: the square at x 10-30, y 20-40 lands at x 20-40, y 70-90
    assert ctx.image("image_1").getpixel((30, 80)) == (255, 0, 0)
    tilted = call_tool("rotate", {"degrees": 30}, ctx, tools=TOOLS)
    assert tilted.ok and tilted.data["width"] > 100 and tilted.data["height"] > 60


@pytest.mark.parametrize("tool, arguments", [
    ("crop", {"bbox": [50, 10, 120, 40]}),   # beyond the right edge
    ("crop", {"bbox": [30, 10, 30, 40]}),    # empty
    ("zoom", {"bbox": [-5, 0, 10, 10]}),     # negative
])
def test_boxes_outside_the_image_are_e4_with_the_valid_range(picture, tool, arguments):
    result = call_tool(tool, arguments, [picture], tools=TOOLS)
    assert result.error.error_class is ErrorClass.E4 and result.error.argument == "bbox"
    assert "100x60" in result.error.message


def test_schema_faults_are_e2_and_e3_and_missing_images_e4(picture):
    assert call_tool("zoom", {"factor": 9}, [picture], tools=TOOLS).error.error_class is ErrorClass.E3
    assert call_tool("crop", {"bbox": [0, 0, 5]}, [picture], tools=TOOLS).error.error_class is ErrorClass.E3
    assert call_tool("rotate", {"angle": 90}, [picture], tools=TOOLS).error.error_class is ErrorClass.E2
    missing = call_tool("crop", {"bbox": [0, 0, 5, 5], "image": "image_3"}, [picture], tools=TOOLS)
    assert missing.error.error_class is ErrorClass.E4 and "image_0" in missing.error.message


def test_a_zoom_past_the_size_limit_is_refused_with_the_largest_factor(picture):
    big = Image.new("RGB", (1000, 800), "white")
    result = call_tool("zoom", {"factor": 5}, [big], tools=TOOLS)
    assert result.error.error_class is ErrorClass.E4 and result.error.argument == "factor"
    assert "4.10" in result.error.message
