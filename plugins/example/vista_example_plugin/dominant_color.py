"""`dominant_color`: a procedural task. Coloured rectangles on a white canvas; which colour covers the most area,
of the whole picture or inside a given box? Same split and seed, same item; the ground truth is counted on the
rendered pixels, and every answer wins by a clear margin so that it is decidable by eye or by `color_histogram`."""

from __future__ import annotations

import random
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import vista
from PIL import Image, ImageDraw

from .palette import PALETTE

SHAPE_COLORS: tuple[str, ...] = tuple(name for name in PALETTE if name != "white")
_SPLIT_OFFSET = {"train": 0, "test": 1_000_000_007}
_LETTER = re.compile(r"^\(?([A-Z])\)?[.):]?$")


@dataclass(frozen=True)
class DominantColorConfig:
    width: int = 192
    height: int = 144
    min_shapes: int = 3
    max_shapes: int = 5
    margin: float = 1.25  # the winner covers at least this many times the runner-up's area
    region_probability: float = 0.5  # share of questions about a box rather than the whole picture
    size: int = 1000  # examples per split when `load` is given no limit

    def validate(self) -> None:
        if self.width < 32 or self.height < 32:
            raise ValueError(f"width and height must be >= 32 pixels to draw shapes, got {self.width}x{self.height}")
        if not 2 <= self.min_shapes <= self.max_shapes <= len(SHAPE_COLORS):
            raise ValueError(f"need 2 <= min_shapes <= max_shapes <= {len(SHAPE_COLORS)} (one colour per shape), "
                             f"got {self.min_shapes}..{self.max_shapes}")
        if self.margin <= 1:
            raise ValueError(f"margin must be > 1 or the answer may be a tie, got {self.margin}")
        if not 0 <= self.region_probability <= 1:
            raise ValueError(f"region_probability is a probability, got {self.region_probability}")


class DominantColor(vista.Task):
    name = "dominant_color"
    version = 0
    category = "general_vqa"
    description = "Which colour covers the largest area of a picture or of a box in it (procedural)."
    splits = ("train", "test")
    procedural = True
    recommended_tools = ("color_histogram",)

    def __init__(self, config: DominantColorConfig = DominantColorConfig()):
        config.validate()
        self.config = config

    def load(self, split: str = "test", data_dir=None, *, seed: int = 0,
             limit: int | None = None) -> Iterator[vista.Example]:
        if split not in _SPLIT_OFFSET:
            raise ValueError(f"task '{self.id}' has no split '{split}'; its splits are {list(self.splits)}")
        for index in range(seed, seed + (self.config.size if limit is None else limit)):
            yield self._generate(split, index)

    def _generate(self, split: str, index: int) -> vista.Example:
        rng = random.Random(_SPLIT_OFFSET[split] + index)
        cfg = self.config
        while True:  # redraw until the answer is unambiguous; the rng makes the number of redraws deterministic
            colors = rng.sample(SHAPE_COLORS, rng.randint(cfg.min_shapes, cfg.max_shapes))
            rects = [self._rect(rng) for _ in colors]
            image = Image.new("RGB", (cfg.width, cfg.height), PALETTE["white"])
            draw = ImageDraw.Draw(image)
            for color, rect in zip(colors, rects, strict=True):
                draw.rectangle([rect[0], rect[1], rect[2] - 1, rect[3] - 1], fill=PALETTE[color])
            region = self._rect(rng) if rng.random() < cfg.region_probability else None
            areas = _areas(image, colors, region)
            ranked = sorted(areas, key=areas.get, reverse=True)
            if areas[ranked[0]] > 0 and areas[ranked[0]] >= cfg.margin * areas[ranked[1]]:
                break
        choices = rng.sample(colors, len(colors))  # independent of drawing order, which favours later shapes
        where = (f"inside the box with corners ({region[0]}, {region[1]}) and ({region[2]}, {region[3]}) "
                 "(pixel coordinates, x to the right, y down)" if region else "in the picture")
        question = f"Not counting the white background, which colour covers the largest area {where}?"
        return vista.Example(
            id=f"{self.name}-{split}-{index}", task=self.name, images=[image], question=question, choices=choices,
            answer=string.ascii_uppercase[choices.index(ranked[0])], answer_type="multiple_choice",
            metadata={"color": ranked[0], "areas": areas, "region": region,
                      "rects": dict(zip(colors, rects, strict=True))})

    def _rect(self, rng: random.Random) -> list[int]:
        w, h = self.config.width, self.config.height
        x0, y0 = rng.randrange(0, w - 16), rng.randrange(0, h - 16)
        x1 = rng.randrange(x0 + 12, min(w, x0 + w // 2) + 1)
        return [x0, y0, x1, rng.randrange(y0 + 12, min(h, y0 + h // 2) + 1)]

    def score(self, prediction: str | None, example: vista.Example) -> float:
        """1 when the prediction is the right option's letter ("B", "(B)", "B.") or names its colour and no other
        option's colour; else 0."""
        if prediction is None:
            return 0.0
        text = prediction.strip()
        letter = _LETTER.match(text)
        if letter:
            return float(letter.group(1) == example.answer)
        named = {c for c in example.choices or () if re.search(rf"\b{c}\b", text, re.IGNORECASE)}
        return float(named == {example.metadata["color"]})

    def oracle(self, example: vista.Example) -> vista.OracleSolution:
        region = example.metadata["region"]
        arguments = {"image": "image_0", "ignore": ["white"], "top_k": 3} | ({"bbox": region} if region else {})
        where = f"inside the box {region}" if region else "over the whole picture"
        color = example.metadata["color"]
        # Evidence: the pixels counted and the winner's share, as color_histogram prints them ("purple 95.7%"): a
        # histogram that shows them measured what the pixels say, and the answer follows from it.
        areas = example.metadata["areas"]
        total = sum(areas.values())
        return vista.OracleSolution(
            steps=[vista.OracleStep(think=f"I will measure the colour shares {where}, leaving out the white "
                                          "background.", tool="color_histogram", arguments=arguments)],
            answer=example.answer,
            rationale=f"{color.capitalize()} has the largest share, so the answer is ({example.answer}) {color}.",
            evidence=[f"{total} pixels counted", f"{color} {100 * round(areas[color] / total, 4):.1f}%"])


def _areas(image: Image.Image, colors: list[str], region: list[int] | None) -> dict[str, int]:
    """Pixels of each shape colour, counted exactly on the rendered image (later shapes cover earlier ones)."""
    pixels = np.asarray(image.crop(region) if region else image)
    return {color: int(np.all(pixels == PALETTE[color], axis=-1).sum()) for color in colors}
