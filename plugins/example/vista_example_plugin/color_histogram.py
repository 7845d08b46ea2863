"""`color_histogram`: how much of an image region each named colour covers, with its mean colour and brightness."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
import vista
from pydantic import BaseModel, Field

from .palette import N_CELLS, NAMES, PALETTE, cell_names, cells

ColorName = Literal[NAMES]  # an enum in the schema, so a misspelt colour is caught by validation (E3)


class ColorHistogramArguments(vista.ToolArguments):
    image: str = vista.ImageName()
    bbox: list[Annotated[int, Field(ge=0)]] | None = Field(
        None, min_length=4, max_length=4,
        description="the region to measure, [x0, y0, x1, y1] in pixels (x1, y1 excluded); the whole image if omitted")
    ignore: list[ColorName] = Field(
        default_factory=list, description="colour names to leave out of the count, e.g. ['white'] for a background")
    top_k: int = Field(5, ge=1, le=len(NAMES), description="how many of the most frequent colours to report")


class ColorShare(BaseModel):
    name: str
    rgb: list[int]
    pixels: int
    fraction: float = Field(ge=0, le=1, description="share of the counted (not ignored) pixels of the region")


class ColorHistogramOutput(BaseModel):
    region: list[int] = Field(description="[x0, y0, x1, y1] actually measured")
    pixels_counted: int
    mean_rgb: list[float]
    brightness: float = Field(ge=0, le=255, description="mean luma (ITU-R BT.601) of the counted pixels")
    colors: list[ColorShare]


class ColorHistogram(vista.Tool):
    name = "color_histogram"
    family = "color"
    description = ("Measure the colours of an image or a rectangular region of it: the share of the region each "
                   "named colour covers (most frequent first), the mean colour and the brightness. Use it to compare "
                   "the areas of coloured shapes or to ignore a background colour.")
    Arguments = ColorHistogramArguments
    Output = ColorHistogramOutput
    examples = [{}, {"bbox": [0, 0, 16, 16], "top_k": 2}, {"ignore": ["black"]}]

    def run(self, args: ColorHistogramArguments, ctx: vista.ToolContext) -> vista.ToolResult:
        image = ctx.image(args.image).convert("RGB")
        region = args.bbox or [0, 0, image.width, image.height]
        x0, y0, x1, y1 = region
        if not (x0 < x1 <= image.width and y0 < y1 <= image.height):
            raise vista.ToolArgumentError(
                f"bbox {region} is empty or outside the {image.width}x{image.height} image '{args.image}'; "
                f"use 0 <= x0 < x1 <= {image.width} and 0 <= y0 < y1 <= {image.height}", argument="bbox")
        pixels = np.asarray(image.crop((x0, y0, x1, y1))).reshape(-1, 3)
        # everything below works on the 32768 RGB cells, not on the pixels: one pass over a large image
        codes = cells(pixels)
        per_cell = np.bincount(codes, minlength=N_CELLS)
        sums = np.stack([np.bincount(codes, weights=pixels[:, c], minlength=N_CELLS) for c in range(3)])
        names = cell_names()
        kept = ~np.isin(names, [NAMES.index(name) for name in args.ignore]) & (per_cell > 0)
        if not kept.any():
            raise vista.ToolArgumentError(
                f"every pixel of region {region} is one of the ignored colours {args.ignore}; ignore fewer colours "
                "or measure another region", argument="ignore")
        counts = np.bincount(names[kept], weights=per_cell[kept], minlength=len(NAMES)).astype(np.int64)
        total = int(per_cell[kept].sum())
        mean = sums[:, kept].sum(axis=1) / total
        brightness = float(mean @ np.array([0.299, 0.587, 0.114]))
        order = [int(i) for i in np.argsort(-counts, kind="stable")[: args.top_k] if counts[i] > 0]
        colors = [ColorShare(name=NAMES[i], rgb=list(PALETTE[NAMES[i]]), pixels=int(counts[i]),
                             fraction=round(float(counts[i]) / total, 4)) for i in order]
        output = ColorHistogramOutput(region=region, pixels_counted=total, mean_rgb=[round(float(v), 1) for v in mean],
                                      brightness=round(min(brightness, 255.0), 1), colors=colors)
        shares = ", ".join(f"{c.name} {100 * c.fraction:.1f}%" for c in colors)
        ignored_note = f" (ignoring {', '.join(args.ignore)})" if args.ignore else ""
        text = (f"region {region} of {args.image}, {total} pixels counted{ignored_note}: {shares}; "
                f"mean RGB ({', '.join(f'{v:.0f}' for v in output.mean_rgb)}), brightness {output.brightness}")
        return vista.ToolResult(text=text, data=output)
