"""Pixel boxes as the policy writes them: one argument type, one check (E4 when a box leaves the image)."""

from __future__ import annotations

from typing import Any

from PIL import Image
from pydantic import Field
from vista import ToolArgumentError

Box = list[float]


def BoxField(description: str, default: Any = ...) -> Any:
    """A `[x0, y0, x1, y1]` pixel box: four numbers by schema (E3), inside the image by `check_box` (E4)."""
    return Field(default, min_length=4, max_length=4, description=description)


def check_box(box: Box, image: Image.Image, argument: str = "bbox") -> tuple[int, int, int, int]:
    """The box as integer pixel bounds, or E4 saying what a valid box for this image is."""
    x0, y0, x1, y1 = (round(v) for v in box)
    if not (0 <= x0 < x1 <= image.width and 0 <= y0 < y1 <= image.height):
        raise ToolArgumentError(
            f"{argument} {list(box)} is outside the {image.width}x{image.height} image or empty; "
            f"use [x0, y0, x1, y1] with 0 <= x0 < x1 <= {image.width} and 0 <= y0 < y1 <= {image.height}",
            argument=argument)
    return x0, y0, x1, y1

