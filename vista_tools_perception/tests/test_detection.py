import math

import pytest
from PIL import Image, ImageDraw
from vista import ErrorClass, ToolContext, ToolUnavailableError, call_tool
from vista_tools_perception.detection import GROUNDING_DINO_ENV_VAR, DetectObjects

# (colour name, RGB, shape, centre, radius, rotation): a CLEVR-like 2-D scene with a known answer
SCENE = [
    ("red", (214, 48, 49), "circle", (60, 60), 30, 0),
    ("blue", (41, 98, 214), "square", (170, 70), 28, 30),
    ("green", (46, 160, 67), "triangle", (280, 80), 32, 10),
    ("yellow", (240, 196, 25), "circle", (80, 200), 16, 0),
    ("purple", (142, 68, 173), "square", (200, 210), 18, 0),
    ("gray", (127, 127, 127), "triangle", (320, 220), 20, 45),
]


def draw_scene(background=(246, 243, 236), scale=3) -> Image.Image:
    image = Image.new("RGB", (400 * scale, 300 * scale), background)
    draw = ImageDraw.Draw(image)
    for _, rgb, shape, (x, y), r, rotation in SCENE:
        x, y, r = x * scale, y * scale, r * scale
        outline = tuple(int(c * 0.6) for c in rgb)
        if shape == "circle":
            draw.ellipse([x - r, y - r, x + r, y + r], fill=rgb, outline=outline, width=2 * scale)
        else:
            sides = 4 if shape == "square" else 3
            start = (45 if sides == 4 else -90) + rotation
            draw.polygon([(x + r * math.cos(math.radians(start + k * 360 / sides)),
                           y + r * math.sin(math.radians(start + k * 360 / sides))) for k in range(sides)],
                         fill=rgb, outline=outline, width=2 * scale)
    return image.resize((400, 300), Image.Resampling.LANCZOS)


def detect(arguments, image=None, tool=None):
    tool = tool or DetectObjects()
    return call_tool("detect_objects", arguments, ToolContext([image or draw_scene()]), tools={tool.name: tool})


def test_classical_backend_finds_every_shape_with_colour_shape_and_box():
    result = detect({"prompt": "object", "backend": "classical"})
    assert result.ok, result.text
    found = sorted((o["color"], o["shape"]) for o in result.data["objects"])
    assert found == sorted((color, shape) for color, _, shape, *_ in SCENE)
    for obj in result.data["objects"]:
        color, _, shape, (x, y), r, _ = next(s for s in SCENE if s[0] == obj["color"])
        x0, y0, x1, y1 = obj["bbox"]
        assert x0 <= x <= x1 and y0 <= y <= y1 and (x1 - x0) <= 2 * r + 4
        assert obj["label"] == f"{color} {shape}" and obj["area"] > 0 and obj["score"] > 0.7
    assert len(result.images) == 1 and result.images[0].size == (400, 300)


def test_classical_prompt_filters_by_colour_and_shape_with_synonyms():
    result = detect({"prompt": "red sphere . cubes", "backend": "classical"})
    assert sorted(o["label"] for o in result.data["objects"]) == ["blue square", "purple square", "red circle"]
    larger_first = detect({"prompt": "circle", "backend": "classical"}).data["objects"]
    assert [o["color"] for o in larger_first] == ["red", "yellow"]


def test_classical_sizes_are_judged_against_the_picture_and_filter_the_prompt():
    # circumradii 28-32 px are large in a 300 px tall picture, 16-20 px small; the count comes first in the text
    large = detect({"prompt": "large circle", "backend": "classical"})
    assert [o["label"] for o in large.data["objects"]] == ["red circle"] and large.text.startswith("1 object found")
    small = detect({"prompt": "small objects", "backend": "classical"})
    assert sorted(o["color"] for o in small.data["objects"]) == ["gray", "purple", "yellow"]
    assert all(o["size"] == "small" for o in small.data["objects"]) and small.text.startswith("3 objects found")
    mixed = detect({"prompt": "big square . tiny triangle", "backend": "classical"})
    assert sorted(o["label"] for o in mixed.data["objects"]) == ["blue square", "gray triangle"]
    twice = draw_scene().resize((800, 600))  # the same scene at twice the size: the same sizes
    assert sorted(o["color"] for o in detect({"prompt": "large object", "backend": "classical"}, twice)
                  .data["objects"]) == ["blue", "green", "red"]


def test_classical_reports_words_it_ignores_and_refuses_prompts_it_cannot_serve():
    noted = detect({"prompt": "shiny triangle", "backend": "classical"})
    assert len(noted.data["objects"]) == 2 and "ignored the words: shiny" in noted.text
    refused = detect({"prompt": "giraffe", "backend": "classical"})
    assert refused.error.error_class is ErrorClass.E4 and "grounding_dino" in refused.error.message
    nothing = detect({"prompt": "orange circle", "backend": "classical"})
    assert nothing.ok and nothing.data["objects"] == [] and not nothing.images


def test_classical_on_a_blank_image_finds_nothing():
    assert detect({"prompt": "object", "backend": "classical"}, Image.new("RGB", (64, 48), "white")).data == {
        "objects": []}


def test_grounding_dino_full_path_with_a_tiny_model(tiny_grounding_dino):
    tool = DetectObjects(weights=str(tiny_grounding_dino))
    result = detect({"prompt": "red cube . sphere", "box_threshold": 0.0, "text_threshold": 0.0}, tool=tool)
    assert result.ok, result.text
    objects = result.data["objects"]
    assert 0 < len(objects) <= 10  # the tiny model has 10 queries
    for obj in objects:
        x0, y0, x1, y1 = obj["bbox"]
        assert 0 <= x0 <= x1 <= 400 and 0 <= y0 <= y1 <= 300 and 0 <= obj["score"] <= 1
    assert [o["score"] for o in objects] == sorted((o["score"] for o in objects), reverse=True)
    assert result.images[0].size == (400, 300)
    strict = detect({"prompt": "red cube", "box_threshold": 1.0}, tool=tool)
    assert strict.ok and strict.data["objects"] == []


def test_grounding_dino_weights_from_the_environment(tiny_grounding_dino, monkeypatch):
    monkeypatch.setenv(GROUNDING_DINO_ENV_VAR, str(tiny_grounding_dino))
    result = detect({"prompt": "dog", "box_threshold": 0.0, "text_threshold": 0.0})
    assert result.ok and result.data["objects"]


def test_missing_grounding_dino_weights_say_which_and_how(monkeypatch, tmp_path):
    monkeypatch.setenv(GROUNDING_DINO_ENV_VAR, str(tmp_path / "absent"))
    result = detect({"prompt": "dog"})
    assert result.error.error_class is ErrorClass.TOOL_FAILURE and result.error.code == "unavailable"
    assert "GroundingDINO" in result.error.message and GROUNDING_DINO_ENV_VAR in result.error.message
    with pytest.raises(ToolUnavailableError, match="huggingface-cli download"):
        DetectObjects(weights="IDEA-Research/not-cached-here").grounding_dino()
