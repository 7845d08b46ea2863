"""A small real plugin for the core's tests: tools that exercise every error class."""

from __future__ import annotations

from typing import Literal

import vista
from pydantic import BaseModel, Field
from vista import ImageName, Tool, ToolArgumentError, ToolArguments, ToolResult


class CropArgs(ToolArguments):
    image: str = ImageName()
    bbox: list[int] = Field(description="[x0, y0, x1, y1] in pixels", min_length=4, max_length=4)


class CropOutput(BaseModel):
    width: int
    height: int


class Crop(Tool):
    name = "crop"
    family = "perception"
    description = "Crop a region of an image; returns the crop as a new image."
    Arguments = CropArgs
    Output = CropOutput
    examples = [{"bbox": [0, 0, 10, 10]}]

    def run(self, args: CropArgs, ctx: vista.ToolContext) -> ToolResult:
        image = ctx.image(args.image)
        x0, y0, x1, y1 = args.bbox
        if not (0 <= x0 < x1 <= image.width and 0 <= y0 < y1 <= image.height):
            raise ToolArgumentError(f"bbox {args.bbox} is outside the {image.width}x{image.height} image "
                                    f"or empty; use 0 <= x0 < x1 <= {image.width}, 0 <= y0 < y1 <= {image.height}",
                                    argument="bbox")
        crop = image.crop((x0, y0, x1, y1))
        return ToolResult(text=f"cropped {crop.width}x{crop.height}", data={"width": crop.width, "height": crop.height},
                          images=[crop])


class ScaleArgs(ToolArguments):
    value: float = Field(description="the number to scale")
    factor: int = Field(2, ge=1, le=8, description="integer factor")
    mode: Literal["mul", "div"] = Field("mul", description="multiply or divide")


class ScaleOutput(BaseModel):
    result: float


class Scale(Tool):
    name = "scale"
    family = "math"
    description = "Multiply or divide a number by a small integer factor."
    Arguments = ScaleArgs
    Output = ScaleOutput
    task_argument = "mode"
    examples = [{"value": 3, "factor": 2}]

    def run(self, args: ScaleArgs, ctx: vista.ToolContext) -> ToolResult:
        result = args.value * args.factor if args.mode == "mul" else args.value / args.factor
        return ToolResult(text=str(result), data={"result": result})


class BrokenOutput(Tool):
    name = "broken_output"
    family = "math"
    description = "Returns data that violates its own output schema."
    Arguments = ToolArguments
    Output = ScaleOutput

    def run(self, args, ctx) -> ToolResult:
        return ToolResult(text="oops", data={"result": "not a number"})


class Crashing(Tool):
    name = "crashing"
    family = "math"
    description = "Always raises."
    Arguments = ToolArguments

    def run(self, args, ctx) -> ToolResult:
        raise RuntimeError("segfault simulated by an exception")


@vista.hookimpl
def register_tools(register) -> None:
    for tool in (Crop(), Scale(), BrokenOutput(), Crashing()):
        register(tool)


class Multiply(vista.Task):
    """A tiny procedural task: multiply the number shown (as the image's width) by a factor."""

    name = "multiply"
    category = "math"
    procedural = True
    splits = ("train", "test")
    recommended_tools = ("scale", "crop")

    def load(self, split="test", data_dir=None, *, seed=0, limit=None):
        import random

        offset = 0 if split == "train" else 10**6
        for i in range(limit if limit is not None else 10):
            rng = random.Random(offset + seed + i)
            value, factor = rng.randint(2, 50), rng.randint(2, 8)
            from PIL import Image as _Image

            yield vista.Example(id=f"{split}-{seed + i}", task=self.name,
                                images=[_Image.new("RGB", (value, 20), "white")],
                                question=f"Multiply {value} by {factor}.", answer=str(value * factor),
                                answer_type="integer", metadata={"value": value, "factor": factor})

    def score(self, prediction, example):
        return float(prediction is not None and prediction.strip() == str(example.answer))


@vista.hookimpl
def register_tasks(register) -> None:
    register(Multiply())
