"""segment: SAM masks from point or box prompts, returned as an overlay image and per-mask statistics."""

from __future__ import annotations

import threading
from typing import Annotated

import numpy as np
from PIL import Image
from pydantic import BaseModel, Field
from vista import ImageName, Tool, ToolArgumentError, ToolArguments, ToolContext, ToolResult, ToolUnavailableError
from vista.weights import load_once, resolve_weights

from .drawing import overlay_masks
from .regions import check_box

SAM_ENV_VAR = "VISTA_WEIGHTS_SAM"
SAM_DEFAULT = "facebook/sam-vit-base"
MAX_PROMPTS = 16
Point = Annotated[list[float], Field(min_length=2, max_length=2)]
Box = Annotated[list[float], Field(min_length=4, max_length=4)]


class SegmentArguments(ToolArguments):
    image: str = ImageName()
    points: list[Point] | None = Field(
        None, min_length=1, max_length=MAX_PROMPTS,
        description="points [[x, y], ...] in pixels, each on one object: one mask per point")
    boxes: list[Box] | None = Field(
        None, min_length=1, max_length=MAX_PROMPTS,
        description="boxes [[x0, y0, x1, y1], ...] in pixels, each around one object: one mask per box")


class MaskStats(BaseModel):
    bbox: list[int] | None = Field(description="[x0, y0, x1, y1] of the mask in pixels; null when the mask is empty")
    area: int = Field(ge=0, description="pixels in the mask")
    score: float = Field(description="SAM's predicted IoU of the mask")


class SegmentOutput(BaseModel):
    masks: list[MaskStats]


class Sam:
    """Meta's Segment Anything through transformers' SamModel, loaded once per weights source."""

    def __init__(self, source: str):
        try:
            import torch
            from transformers import AutoProcessor, SamModel
        except ImportError as exc:
            raise ToolUnavailableError(f"segment needs torch and transformers: {exc}; "
                                       "`pip install torch transformers`") from exc
        self._torch = torch
        self.processor = AutoProcessor.from_pretrained(source, local_files_only=True)
        self.model = SamModel.from_pretrained(source, local_files_only=True).eval()
        self._lock = threading.Lock()

    def segment(self, image: Image.Image, points: list[list[float]] | None,
                boxes: list[list[int]] | None) -> tuple[list[np.ndarray], list[float]]:
        """One boolean HxW mask (and its predicted IoU) per point or box."""
        if points is not None:
            prompt = {"input_points": [[[point] for point in points]]}  # image, prompts, points per prompt, xy
        else:
            prompt = {"input_boxes": [boxes]}
        with self._lock, self._torch.inference_mode():
            inputs = self.processor(images=image, return_tensors="pt", **prompt)
            outputs = self.model(**inputs, multimask_output=False)
            masks = self.processor.image_processor.post_process_masks(
                outputs.pred_masks, inputs["original_sizes"], inputs["reshaped_input_sizes"])[0]
        return [mask[0].numpy().astype(bool) for mask in masks], outputs.iou_scores[0, :, 0].tolist()


def mask_stats(mask: np.ndarray, score: float) -> dict:
    ys, xs = np.nonzero(mask)
    bbox = [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1] if len(xs) else None
    return {"bbox": bbox, "area": int(len(xs)), "score": round(float(score), 4)}


class Segment(Tool):
    name = "segment"
    family = "perception"
    description = ("Segment objects with SAM: give points [[x, y], ...] on the objects or boxes [[x0, y0, x1, y1], "
                   "...] around them (not both); returns each mask's box, area and score, and the image with the "
                   "masks tinted.")
    Arguments = SegmentArguments
    Output = SegmentOutput
    examples = [{"points": [[32, 24]]}, {"boxes": [[8, 8, 40, 32]]}]
    blocking = True

    def __init__(self, weights: str | None = None):
        self.weights = weights

    def sam(self) -> Sam:
        source = resolve_weights(self.name, self.weights, env_var=SAM_ENV_VAR, default=SAM_DEFAULT,
                                 what="SAM (Segment Anything)")
        return load_once(("sam", source), lambda: Sam(source))

    def run(self, args: SegmentArguments, ctx: ToolContext) -> ToolResult:
        image = ctx.image(args.image).convert("RGB")
        if (args.points is None) == (args.boxes is None):
            raise ToolArgumentError("give either points or boxes (one mask per prompt), not both and not neither",
                                    argument="points")
        boxes = None
        if args.points is not None:
            for point in args.points:
                if not (0 <= point[0] < image.width and 0 <= point[1] < image.height):
                    raise ToolArgumentError(
                        f"point {point} is outside the {image.width}x{image.height} image; use "
                        f"0 <= x < {image.width}, 0 <= y < {image.height}", argument="points")
        else:
            boxes = [list(check_box(box, image, argument="boxes")) for box in args.boxes]
        masks, scores = self.sam().segment(image, args.points, boxes)
        stats = [mask_stats(mask, score) for mask, score in zip(masks, scores)]
        listing = "\n".join(f"{i}: area {s['area']} px, box {s['bbox']}, score {s['score']:.2f}"
                            for i, s in enumerate(stats))
        return ToolResult(text=f"{len(stats)} masks:\n{listing}\nThe image with the masks tinted follows.",
                          data={"masks": stats}, images=[overlay_masks(image, masks)])
