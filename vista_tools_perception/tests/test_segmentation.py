import numpy as np
import pytest
from PIL import Image
from vista import ErrorClass, ToolContext, ToolUnavailableError, call_tool
from vista_tools_perception.segmentation import SAM_ENV_VAR, Segment, mask_stats


@pytest.fixture
def picture() -> Image.Image:
    image = Image.new("RGB", (120, 90), "white")
    image.paste((30, 90, 200), (20, 30, 70, 80))
    return image


def segment(arguments, image, tool):
    ctx = ToolContext([image])
    return call_tool("segment", arguments, ctx, tools={tool.name: tool}), ctx


def test_sam_full_path_from_points_and_boxes(tiny_sam, picture):
    tool = Segment(weights=str(tiny_sam))
    result, ctx = segment({"points": [[40, 50], [100, 20]]}, picture, tool)
    assert result.ok, result.text
    assert len(result.data["masks"]) == 2
    for stats in result.data["masks"]:
        assert 0 <= stats["area"] <= 120 * 90
        if stats["area"]:
            x0, y0, x1, y1 = stats["bbox"]
            assert 0 <= x0 < x1 <= 120 and 0 <= y0 < y1 <= 90
    assert result.image_names == ["image_1"] and ctx.image("image_1").size == (120, 90)
    boxed, _ = segment({"boxes": [[20, 30, 70, 80]]}, picture, tool)
    assert boxed.ok and len(boxed.data["masks"]) == 1


def test_sam_weights_from_the_environment(tiny_sam, picture, monkeypatch):
    monkeypatch.setenv(SAM_ENV_VAR, str(tiny_sam))
    result, _ = segment({"boxes": [[0, 0, 60, 45]]}, picture, Segment())
    assert result.ok and len(result.data["masks"]) == 1


@pytest.mark.parametrize("arguments, argument", [
    ({"points": [[40, 50]], "boxes": [[0, 0, 10, 10]]}, "points"),
    ({}, "points"),
    ({"points": [[130, 50]]}, "points"),
    ({"boxes": [[0, 0, 200, 10]]}, "boxes"),
])
def test_prompts_that_do_not_fit_the_image_are_e4(tiny_sam, picture, arguments, argument):
    result, _ = segment(arguments, picture, Segment(weights=str(tiny_sam)))
    assert result.error.error_class is ErrorClass.E4 and result.error.argument == argument


def test_malformed_prompts_are_e3(picture):
    result, _ = segment({"points": [[1, 2, 3]]}, picture, Segment())
    assert result.error.error_class is ErrorClass.E3


def test_missing_sam_weights_say_which_and_how(picture, monkeypatch, tmp_path):
    monkeypatch.setenv(SAM_ENV_VAR, str(tmp_path / "absent"))
    result, _ = segment({"points": [[40, 50]]}, picture, Segment())
    assert result.error.code == "unavailable" and "SAM" in result.error.message and SAM_ENV_VAR in result.error.message
    with pytest.raises(ToolUnavailableError, match="facebook/sam-vit-base"):
        Segment(weights="facebook/sam-vit-base").sam()


def test_mask_stats_and_overlay_colours_only_the_mask():
    from vista_tools_perception.drawing import overlay_masks

    mask = np.zeros((10, 20), bool)
    mask[2:5, 3:9] = True
    assert mask_stats(mask, 0.87654) == {"bbox": [3, 2, 9, 5], "area": 18, "score": 0.8765}
    assert mask_stats(np.zeros((4, 4), bool), 0.1)["bbox"] is None
    tinted = overlay_masks(Image.new("RGB", (20, 10), "white"), [mask])
    assert tinted.getpixel((0, 0)) == (255, 255, 255) and tinted.getpixel((4, 3)) != (255, 255, 255)
