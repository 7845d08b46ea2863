"""A small real plugin for the trainer's tests: a procedural task with an oracle and the tool the oracle uses."""

from __future__ import annotations

import random

import vista
from PIL import Image, ImageDraw
from pydantic import BaseModel, Field
from vista.testing import Pause


class MeasureArgs(vista.ToolArguments):
    image: str = vista.ImageName()
    color: str = Field(description="colour of the bar to measure", pattern="^(red|blue)$")


class MeasureOutput(BaseModel):
    height: int


class MeasureBar(vista.Tool):
    name = "measure_bar"
    family = "perception"
    description = "Height in pixels of the red or blue bar."
    Arguments = MeasureArgs
    Output = MeasureOutput
    examples = [{"color": "red"}]

    def run(self, args: MeasureArgs, ctx: vista.ToolContext) -> vista.ToolResult:
        image = ctx.image(args.image).convert("RGB")
        target = (255, 0, 0) if args.color == "red" else (0, 0, 255)
        rows = {y for x in range(image.width) for y in range(image.height) if image.getpixel((x, y)) == target}
        if not rows:
            raise vista.ToolArgumentError(f"there is no {args.color} bar in {args.image}", argument="color")
        height = max(rows) - min(rows) + 1
        return vista.ToolResult(text=f"height {height}", data={"height": height})


class CropBar(vista.Tool):
    """Returns a picture: the bar cut out, drawn in ``CROP_SHADE`` (the tests change it to change the image)."""

    name = "crop_bar"
    family = "perception"
    description = "A crop of the red or blue bar, as a new image."
    Arguments = MeasureArgs
    examples = [{"color": "red"}]
    shade = 255

    def run(self, args: MeasureArgs, ctx: vista.ToolContext) -> vista.ToolResult:
        image = ctx.image(args.image).convert("RGB")
        crop = image.crop((0, 0, 12, 32) if args.color == "red" else (12, 0, 24, 32))
        crop = Image.eval(crop, lambda v: min(v, self.shade))
        return vista.ToolResult(text=f"the {args.color} bar", images=[crop.resize((56, 56))])


class BarHeight(vista.Task):
    name = "bar_height"
    category = "chart"
    procedural = True
    splits = ("train", "test")
    recommended_tools = ("measure_bar",)

    def load(self, split="test", data_dir=None, *, seed=0, limit=None):
        for i in range(limit if limit is not None else 10):
            rng = random.Random((0 if split == "train" else 10**6) + seed + i)
            red, blue = rng.randint(3, 30), rng.randint(3, 30)
            color = rng.choice(["red", "blue"])
            image = Image.new("RGB", (24, 32), "white")
            draw = ImageDraw.Draw(image)
            draw.rectangle([2, 32 - red, 9, 31], fill=(255, 0, 0))
            draw.rectangle([13, 32 - blue, 20, 31], fill=(0, 0, 255))
            yield vista.Example(id=f"bar-{split}-{seed + i}", task=self.name, images=[image],
                                question=f"How tall is the {color} bar in pixels?",
                                answer=str(red if color == "red" else blue), answer_type="integer",
                                metadata={"color": color})

    def score(self, prediction, example):
        return float(prediction is not None and prediction.strip() == example.answer)

    def oracle(self, example):
        color = example.metadata["color"]
        return vista.OracleSolution(
            steps=[vista.OracleStep(think=f"Measure the {color} bar.", tool="measure_bar",
                                    arguments={"color": color})],
            answer=example.answer, rationale=f"The {color} bar is {example.answer} pixels tall.")


@vista.hookimpl
def register_tools(register) -> None:
    register(MeasureBar())
    register(CropBar())
    register(Pause())


@vista.hookimpl
def register_tasks(register) -> None:
    register(BarHeight())


class Brevity(vista.Reward):
    """Shorter episodes score higher: a dense signal that differs between samples even for a random policy."""

    name = "brevity"
    description = "minus the characters the policy wrote, in hundreds"

    def compute(self, trajectory, example, task):
        written = sum(len(step.action) for step in trajectory.steps)
        return vista.RewardResult(total=-written / 100, components={"length": written})


@vista.hookimpl
def register_rewards(register) -> None:
    register(Brevity())
