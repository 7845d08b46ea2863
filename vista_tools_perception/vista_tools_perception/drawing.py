"""Pictures returned to the policy: boxes with labels, masks laid over the image."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

# Distinct, saturated colours that stay visible on photos, charts and white backgrounds.
PALETTE = ((230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180), (70, 240, 240),
           (240, 50, 230), (210, 245, 60), (0, 128, 128), (170, 110, 40))


def draw_boxes(image: Image.Image, boxes: Sequence[Sequence[int]], labels: Sequence[str]) -> Image.Image:
    canvas = image.convert("RGB")
    draw = ImageDraw.Draw(canvas)
    for index, (box, label) in enumerate(zip(boxes, labels)):
        colour = PALETTE[index % len(PALETTE)]
        draw.rectangle(list(box), outline=colour, width=2)
        tag = f"{index}: {label}"
        left, top, right, bottom = draw.textbbox((box[0], box[1]), tag)
        y = max(0, box[1] - (bottom - top) - 2)
        draw.rectangle([box[0], y, box[0] + right - left + 2, y + bottom - top + 2], fill=colour)
        draw.text((box[0] + 1, y), tag, fill="white")
    return canvas


def overlay_masks(image: Image.Image, masks: Sequence[np.ndarray], alpha: float = 0.5) -> Image.Image:
    """The image with each boolean mask tinted in its own colour and outlined by its box."""
    canvas = np.asarray(image.convert("RGB")).astype(np.float32)
    for index, mask in enumerate(masks):
        colour = np.array(PALETTE[index % len(PALETTE)], dtype=np.float32)
        canvas[mask] = (1 - alpha) * canvas[mask] + alpha * colour
    return Image.fromarray(canvas.round().astype(np.uint8))
