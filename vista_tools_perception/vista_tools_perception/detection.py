"""detect_objects: text-prompted boxes from GroundingDINO, or coloured shapes found by classical vision."""

from __future__ import annotations

import re
import threading
from typing import Literal

from PIL import Image
from pydantic import BaseModel, Field
from vista import ImageName, Tool, ToolArgumentError, ToolArguments, ToolContext, ToolResult, ToolUnavailableError
from vista.weights import load_once, resolve_weights

from .drawing import draw_boxes
from .shapes import COLOR_NAMES, SHAPE_NAMES, SIZE_NAMES, Shape, detect_shapes

GROUNDING_DINO_ENV_VAR = "VISTA_WEIGHTS_GROUNDING_DINO"
GROUNDING_DINO_DEFAULT = "IDEA-Research/grounding-dino-tiny"

# Words of a prompt the classical backend understands, mapped onto the names it gives.
_SHAPE_WORDS = {**{name: name for name in SHAPE_NAMES}, "cube": "square", "box": "square", "sphere": "circle",
                "ball": "circle", "disk": "circle", "disc": "circle", "dot": "circle", "pyramid": "triangle"}
_COLOR_WORDS = {**{name: name for name in COLOR_NAMES}, "grey": "gray", "violet": "purple", "magenta": "pink"}
_SIZE_WORDS = {**{name: name for name in SIZE_NAMES}, "tiny": "small", "little": "small", "big": "large"}
_ANY_WORDS = {"object", "shape", "thing", "item"}


def phrases(prompt: str) -> list[str]:
    """GroundingDINO's prompt convention: lower-case phrases separated by '.'."""
    return [" ".join(part.lower().split()) for part in prompt.split(".") if part.strip()]


class DetectArguments(ToolArguments):
    image: str = ImageName()
    prompt: str = Field(min_length=1, max_length=500,
                        description="what to find: phrases separated by ' . ', e.g. 'red cube . sphere' or "
                                    "'person . dog'")
    backend: Literal["grounding_dino", "classical"] = Field(
        "grounding_dino", description="'grounding_dino' (open-vocabulary detector, needs its weights) or "
                                      "'classical' (coloured shapes on a plain background, no weights)")
    box_threshold: float = Field(0.35, ge=0.0, le=1.0, description="keep boxes scoring at least this")
    text_threshold: float = Field(0.25, ge=0.0, le=1.0,
                                  description="grounding_dino: how strongly a prompt word must match a box to label it")


class DetectedObject(BaseModel):
    label: str
    bbox: list[int] = Field(min_length=4, max_length=4, description="[x0, y0, x1, y1] in pixels")
    score: float = Field(ge=0, le=1)
    color: str | None = None
    shape: str | None = None
    area: int | None = Field(None, description="pixels covered by the object (classical backend)")
    size: str | None = Field(None, description="'small' or 'large' against the picture (classical backend)")


class DetectOutput(BaseModel):
    objects: list[DetectedObject]


class GroundingDino:
    """GroundingDINO through transformers' GroundingDinoForObjectDetection, loaded once per weights source."""

    def __init__(self, source: str):
        try:
            import torch
            from transformers import AutoProcessor, GroundingDinoForObjectDetection
        except ImportError as exc:
            raise ToolUnavailableError(f"detect_objects (grounding_dino) needs torch and transformers: {exc}; "
                                       "`pip install torch transformers`") from exc
        self._torch = torch
        self.processor = AutoProcessor.from_pretrained(source, local_files_only=True)
        self.model = GroundingDinoForObjectDetection.from_pretrained(source, local_files_only=True).eval()
        self._lock = threading.Lock()  # torch CPU inference is already parallel inside; one call at a time

    def detect(self, image: Image.Image, prompt: list[str], box_threshold: float,
               text_threshold: float) -> list[dict]:
        text = ". ".join(prompt) + "."
        rgb = image.convert("RGB")
        with self._lock, self._torch.inference_mode():
            inputs = self.processor(images=rgb, text=text, return_tensors="pt")
            outputs = self.model(**inputs)
            found = self.processor.post_process_grounded_object_detection(
                outputs, inputs["input_ids"], threshold=box_threshold, text_threshold=text_threshold,
                target_sizes=[(rgb.height, rgb.width)])[0]
        objects = []
        for box, score, label in zip(found["boxes"].tolist(), found["scores"].tolist(), found["text_labels"]):
            x0, y0, x1, y1 = (round(v) for v in box)
            x0, x1 = sorted((min(max(x0, 0), rgb.width), min(max(x1, 0), rgb.width)))
            y0, y1 = sorted((min(max(y0, 0), rgb.height), min(max(y1, 0), rgb.height)))
            objects.append({"label": label or "object", "bbox": [x0, y0, x1, y1], "score": round(float(score), 4)})
        return sorted(objects, key=lambda o: -o["score"])


Wanted = tuple[str | None, str | None, str | None]  # (colour, shape, size); None = any


def _wanted(shape: Shape, wanted: list[Wanted]) -> bool:
    return any((color is None or color == shape.color) and (kind is None or kind == shape.shape)
               and (size is None or size == shape.size) for color, kind, size in wanted)


def _parse_classical(prompt: list[str]) -> tuple[list[Wanted], list[str]]:
    """(colour, shape, size) filters, one per phrase (None = any), and the words the classical backend ignores."""
    wanted, ignored = [], []
    for phrase in prompt:
        color = kind = size = None
        understood = False
        for word in re.findall(r"[a-z]+", phrase):
            singular = word[:-2] if word.endswith("xes") else word[:-1] if word.endswith("s") else word
            if word in _COLOR_WORDS:
                color, understood = _COLOR_WORDS[word], True
            elif word in _SIZE_WORDS:
                size, understood = _SIZE_WORDS[word], True
            elif word in _SHAPE_WORDS or singular in _SHAPE_WORDS:
                kind, understood = _SHAPE_WORDS.get(word) or _SHAPE_WORDS[singular], True
            elif word in _ANY_WORDS or singular in _ANY_WORDS:
                understood = True
            else:
                ignored.append(word)
        if understood:
            wanted.append((color, kind, size))
    return wanted, ignored


class DetectObjects(Tool):
    name = "detect_objects"
    family = "perception"
    description = ("Find objects named by a text prompt ('red cube . sphere'); returns each object's label, box "
                   "[x0, y0, x1, y1] in pixels and score, and the image with the boxes drawn. backend 'classical' "
                   "finds coloured shapes (circle, square, triangle, ...) on a plain background, understands "
                   "colour, shape and size words ('large red circle') and adds color, shape, size and area; prompt "
                   "'object' lists them all.")
    Arguments = DetectArguments
    Output = DetectOutput
    examples = [{"prompt": "circle . square . triangle", "backend": "classical"}]
    blocking = True  # the default backend is GroundingDINO's forward pass

    def __init__(self, weights: str | None = None):
        self.weights = weights

    def grounding_dino(self) -> GroundingDino:
        source = resolve_weights(self.name, self.weights, env_var=GROUNDING_DINO_ENV_VAR,
                                 default=GROUNDING_DINO_DEFAULT, what="GroundingDINO")
        return load_once(("grounding_dino", source), lambda: GroundingDino(source))

    def run(self, args: DetectArguments, ctx: ToolContext) -> ToolResult:
        image = ctx.image(args.image)
        prompt = phrases(args.prompt)
        if not prompt:
            raise ToolArgumentError("the prompt names nothing to find; write phrases separated by ' . ', "
                                    "e.g. 'red cube . sphere'", argument="prompt")
        note = ""
        if args.backend == "classical":
            wanted, ignored = _parse_classical(prompt)
            if not wanted:
                raise ToolArgumentError(
                    f"the classical backend finds coloured shapes and understands none of {args.prompt!r}; name "
                    f"colours ({', '.join(COLOR_NAMES)}), shapes ({', '.join(SHAPE_NAMES)}) and sizes "
                    f"({', '.join(SIZE_NAMES)}), or 'object' for all; for other things use backend 'grounding_dino'",
                    argument="prompt")
            if ignored:
                note = f" (the classical backend ignored the words: {', '.join(sorted(set(ignored)))})"
            objects = [{"label": s.label, "bbox": s.bbox, "score": s.score, "color": s.color, "shape": s.shape,
                        "size": s.size, "area": s.area}
                       for s in detect_shapes(image) if _wanted(s, wanted) and s.score >= args.box_threshold]
        else:
            objects = self.grounding_dino().detect(image, prompt, args.box_threshold, args.text_threshold)
        if not objects:
            return ToolResult(text=f"no {' or '.join(prompt)} found in {args.image}{note}", data={"objects": []})
        listing = "\n".join(f"{i}: {o['label']} at {o['bbox']} (score {o['score']:.2f}"
                            + (f", {o['size']}, area {o['area']} px" if "area" in o else "") + ")"
                            for i, o in enumerate(objects))
        found = f"{len(objects)} object{'s' if len(objects) > 1 else ''} found"
        return ToolResult(text=f"{found}{note}:\n{listing}\n"
                               "The image with the boxes drawn follows.",
                          data={"objects": objects},
                          images=[draw_boxes(image, [o["bbox"] for o in objects], [o["label"] for o in objects])])
