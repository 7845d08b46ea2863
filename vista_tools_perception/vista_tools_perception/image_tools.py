"""zoom, crop and rotate: new views of an episode image, added to the episode so later calls can use them."""

from __future__ import annotations

from PIL import Image
from pydantic import BaseModel, Field
from vista import ImageName, Tool, ToolArgumentError, ToolArguments, ToolContext, ToolResult

from .regions import Box, BoxField, check_box

# A zoom that makes an image larger than this is refused (E4): it costs the policy tokens and adds nothing.
MAX_SIDE = 4096


class ImageOutput(BaseModel):
    width: int = Field(description="width of the new image in pixels")
    height: int = Field(description="height of the new image in pixels")
    source_bbox: list[int] = Field(description="the region of the source image it shows, [x0, y0, x1, y1]")


def _result(image: Image.Image, source_bbox: list[int], what: str) -> ToolResult:
    return ToolResult(text=f"{what}: a new {image.width}x{image.height} image (it is added to the episode; "
                           f"refer to it by the name given below)",
                      data={"width": image.width, "height": image.height, "source_bbox": source_bbox},
                      images=[image])


class CropArguments(ToolArguments):
    image: str = ImageName()
    bbox: Box = BoxField("the region to keep, [x0, y0, x1, y1] in pixels of the image")


class Crop(Tool):
    name = "crop"
    family = "perception"
    description = "Cut out a rectangular region of an image; returns the region as a new image at the same scale."
    Arguments = CropArguments
    Output = ImageOutput
    examples = [{"bbox": [0, 0, 32, 24]}]

    def run(self, args: CropArguments, ctx: ToolContext) -> ToolResult:
        image = ctx.image(args.image)
        box = check_box(args.bbox, image)
        return _result(image.crop(box), list(box), f"cropped {list(box)}")


class ZoomArguments(ToolArguments):
    image: str = ImageName()
    bbox: Box | None = BoxField("the region to magnify, [x0, y0, x1, y1] in pixels; omit it for the whole image",
                                default=None)
    factor: float = Field(2.0, ge=1.0, le=8.0, description="magnification, 1 to 8 (2 doubles width and height)")


class Zoom(Tool):
    name = "zoom"
    family = "perception"
    description = ("Magnify a region of an image (or the whole image) to read small details; returns the magnified "
                   "region as a new image.")
    Arguments = ZoomArguments
    Output = ImageOutput
    examples = [{"bbox": [8, 8, 40, 32], "factor": 2}, {"factor": 1.5}]

    def run(self, args: ZoomArguments, ctx: ToolContext) -> ToolResult:
        image = ctx.image(args.image)
        box = check_box(args.bbox, image) if args.bbox is not None else (0, 0, image.width, image.height)
        region = image.crop(box)
        size = (max(1, round(region.width * args.factor)), max(1, round(region.height * args.factor)))
        if max(size) > MAX_SIDE:
            raise ToolArgumentError(
                f"zooming a {region.width}x{region.height} region by {args.factor} gives {size[0]}x{size[1]} pixels, "
                f"over the {MAX_SIDE}-pixel limit; choose a smaller bbox or a factor of at most "
                f"{MAX_SIDE / max(region.size):.2f}", argument="factor")
        return _result(region.resize(size, Image.Resampling.LANCZOS), list(box),
                       f"zoomed {list(box)} by {args.factor:g}")


class RotateArguments(ToolArguments):
    image: str = ImageName()
    degrees: float = Field(ge=-360, le=360, description="angle in degrees, counter-clockwise; negative turns clockwise")


class Rotate(Tool):
    name = "rotate"
    family = "perception"
    description = ("Rotate an image counter-clockwise by an angle (use 90, 180, 270 for sideways or upside-down text); "
                   "the canvas grows so nothing is cut off. Returns the rotated image.")
    Arguments = RotateArguments
    Output = ImageOutput
    examples = [{"degrees": 90}, {"degrees": -15}]

    def run(self, args: RotateArguments, ctx: ToolContext) -> ToolResult:
        image = ctx.image(args.image)
        quarter_turns = {90: Image.Transpose.ROTATE_90, 180: Image.Transpose.ROTATE_180,
                         270: Image.Transpose.ROTATE_270}
        angle = args.degrees % 360
        if angle in quarter_turns:  # exact, no resampling blur
            rotated = image.transpose(quarter_turns[angle])
        else:
            fill = "white" if image.mode != "L" else 255
            rotated = image.rotate(args.degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=fill)
        return _result(rotated, [0, 0, image.width, image.height], f"rotated by {args.degrees:g} degrees")
