"""myplugin: a vista-gym plugin. Replace the tool, task and reward below with your own; keep the three hooks.

Each hook receives `register`; call it once per object. vista checks what you register (unique snake_case names,
closed argument schemas) and reports a problem by your plugin's name. Run `vista check-plugin myplugin`.
"""

from __future__ import annotations

import random

import vista
from PIL import Image
from pydantic import BaseModel, Field


class ImageInfoArguments(vista.ToolArguments):  # extra arguments are rejected (E2); ranges are checked (E3)
    image: str = vista.ImageName()
    scale: int = Field(1, ge=1, le=100, description="divide the reported width and height by this factor")


class ImageInfoOutput(BaseModel):  # what `data` must look like; a violation is the tool's own fault (E5)
    width: int
    height: int
    mode: str


class ImageInfo(vista.Tool):
    name = "myplugin_image_info"
    family = "myplugin"
    description = "Report an image's width and height in pixels (optionally divided by `scale`) and its colour mode."
    Arguments = ImageInfoArguments
    Output = ImageInfoOutput
    examples = [{}, {"image": "image_0", "scale": 2}]  # check_tool runs these on a blank image
    # How the tool server admits calls (vista.Tool documents it): False promises microseconds and no waiting (calls
    # without images then run on its event loop); True for a model run in `run`, a solver or a request to another
    # server (a short queue, then 503). Left out, a tool with run_batch or arun counts as True, and any other runs
    # in a worker thread, admitted like a light tool.
    blocking = False

    def run(self, args: ImageInfoArguments, ctx: vista.ToolContext) -> vista.ToolResult:
        image = ctx.image(args.image)  # an unknown image name becomes E4, with the names that exist
        if args.scale > min(image.size):
            raise vista.ToolArgumentError(  # E4: valid by schema, wrong for this image; say what would be valid
                f"scale {args.scale} is larger than the {image.width}x{image.height} image; use 1..{min(image.size)}",
                argument="scale")
        width, height = image.width // args.scale, image.height // args.scale
        return vista.ToolResult(text=f"{args.image}: {width}x{height} pixels, mode {image.mode}",
                                data={"width": width, "height": height, "mode": image.mode})


class ImageWidth(vista.Task):
    """A procedural task: how wide is a blank image? Same split and seed, same example."""

    name = "myplugin_image_width"
    version = 0
    category = "general_vqa"
    splits = ("train", "test")
    procedural = True
    recommended_tools = ("myplugin_image_info",)

    def load(self, split="test", data_dir=None, *, seed=0, limit=None):
        if split not in self.splits:
            raise ValueError(f"task '{self.id}' has no split '{split}'; its splits are {list(self.splits)}")
        for index in range(seed, seed + (100 if limit is None else limit)):
            rng = random.Random(f"{split}-{index}")
            width = rng.randint(16, 256)
            yield vista.Example(id=f"{self.name}-{split}-{index}", task=self.name,
                                images=[Image.new("RGB", (width, rng.randint(16, 256)), "white")],
                                question="How many pixels wide is the image?", answer=str(width),
                                answer_type="integer")

    def score(self, prediction, example):
        return float(prediction is not None and prediction.strip() == str(example.answer))

    def oracle(self, example):
        return vista.OracleSolution(
            steps=[vista.OracleStep(think="Measure the image.", tool="myplugin_image_info",
                                    arguments={"image": "image_0"})],
            answer=str(example.answer))


class AnswerGiven(vista.Reward):
    """0.5 for giving any answer, 1 for the right one. Never raises on a malformed trajectory."""

    name = "myplugin_answer_given"
    description = "0.5 for answering at all, 1.0 for a correct answer"

    def compute(self, trajectory, example, task):
        answer = trajectory.steps[-1].answer if trajectory.steps else None
        correct = float(task.score(answer, example))
        answered = float(answer is not None)
        return vista.RewardResult(total=max(0.5 * answered, correct),
                                  components={"answered": answered, "correctness": correct})


@vista.hookimpl
def register_tools(register):
    register(ImageInfo())


@vista.hookimpl
def register_tasks(register):
    register(ImageWidth())


@vista.hookimpl
def register_rewards(register):
    register(AnswerGiven())
