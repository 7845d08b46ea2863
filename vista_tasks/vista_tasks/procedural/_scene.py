"""CLEVR-like 2-D scenes shared by the shape tasks: coloured circles, squares and triangles in two sizes, placed
without overlap and drawn with PIL (supersampled for smooth edges), plus the object filters questions are made of."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw
from vista import OracleStep

COLORS: dict[str, tuple[int, int, int]] = {
    "red": (214, 48, 49), "green": (46, 160, 67), "blue": (41, 98, 214), "yellow": (240, 196, 25),
    "purple": (142, 68, 173), "gray": (127, 127, 127),
}
SHAPES: tuple[str, ...] = ("circle", "square", "triangle")
SIZES: dict[str, int] = {"small": 15, "large": 27}   # radius in pixels at the 1x scale
PLURALS = {"circle": "circles", "square": "squares", "triangle": "triangles"}
_BACKGROUNDS = ((255, 255, 255), (246, 243, 236), (236, 242, 247), (240, 240, 240))
_SUPERSAMPLE = 3


@dataclass(frozen=True)
class Filter:
    """A set of objects named by attributes: Filter(color="red", shape="circle") is "red circles"."""

    color: str | None = None
    shape: str | None = None
    size: str | None = None

    def matches(self, obj: dict[str, Any]) -> bool:
        return all(v is None or obj[k] == v for k, v in (("color", self.color), ("shape", self.shape),
                                                            ("size", self.size)))

    def count(self, objects: list[dict[str, Any]]) -> int:
        return sum(self.matches(o) for o in objects)

    def phrase(self, plural: bool = True) -> str:
        """"large red circles", "small objects", "blue object" (singular)."""
        noun = self.shape or "object"
        if plural:
            noun = PLURALS.get(noun, "objects")
        return " ".join(w for w in (self.size, self.color, noun) if w)

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in (("color", self.color), ("shape", self.shape), ("size", self.size)) if v}


def random_filter(rng: random.Random, n_attributes: int) -> Filter:
    attributes = rng.sample(("color", "shape", "size"), n_attributes)
    return Filter(color=rng.choice(list(COLORS)) if "color" in attributes else None,
                  shape=rng.choice(SHAPES) if "shape" in attributes else None,
                  size=rng.choice(list(SIZES)) if "size" in attributes else None)


def object_count_range(difficulty: int) -> tuple[int, int]:
    return ((3, 5), (5, 8), (7, 11))[difficulty]


def random_scene(rng: random.Random, n_objects: int, width: int = 400, height: int = 300,
                 rotate: bool = False) -> list[dict[str, Any]]:
    """`n_objects` objects with random attributes, placed so that no two touch (gap of at least 6 px)."""
    objects: list[dict[str, Any]] = []
    while len(objects) < n_objects:
        size = rng.choice(list(SIZES))
        radius = SIZES[size]
        for _ in range(200):
            x, y = rng.randint(radius + 6, width - radius - 6), rng.randint(radius + 6, height - radius - 6)
            if all(math.hypot(x - o["center"][0], y - o["center"][1]) > radius + o["radius"] + 6 for o in objects):
                break
        else:
            # The canvas is too crowded for this object; start again with a fresh layout.
            objects.clear()
            continue
        objects.append({"shape": rng.choice(SHAPES), "color": rng.choice(list(COLORS)), "size": size,
                        "center": [x, y], "radius": radius, "rotation": rng.randint(0, 89) if rotate else 0,
                        "bbox": [x - radius, y - radius, x + radius, y + radius]})
    return objects


def render_scene(rng: random.Random, objects: list[dict[str, Any]], width: int = 400,
                 height: int = 300) -> Image.Image:
    s = _SUPERSAMPLE
    image = Image.new("RGB", (width * s, height * s), rng.choice(_BACKGROUNDS))
    draw = ImageDraw.Draw(image)
    for obj in objects:
        x, y, r = obj["center"][0] * s, obj["center"][1] * s, obj["radius"] * s
        fill = COLORS[obj["color"]]
        outline = tuple(int(c * 0.6) for c in fill)
        if obj["shape"] == "circle":
            draw.ellipse([x - r, y - r, x + r, y + r], fill=fill, outline=outline, width=2 * s)
        else:
            sides = 4 if obj["shape"] == "square" else 3
            # A square's circumradius r*sqrt(2) would make it look bigger than a circle of radius r.
            radius = r * (1.25 if sides == 4 else 1.15)
            start = (45 if sides == 4 else -90) + obj["rotation"]
            vertices = [(x + radius * math.cos(math.radians(start + k * 360 / sides)),
                         y + radius * math.sin(math.radians(start + k * 360 / sides))) for k in range(sides)]
            draw.polygon(vertices, fill=fill, outline=outline, width=2 * s)
    return image.resize((width, height), Image.Resampling.LANCZOS)


def detect_step(think: str, prompt: str = "circle . square . triangle") -> OracleStep:
    """An oracle step on a scene: the classical detector finds what ``prompt`` names (by default every object, with
    its colour, shape and size)."""
    return OracleStep(think=think, tool="detect_objects",
                      arguments={"image": "image_0", "prompt": prompt, "backend": "classical"})


def inventory(objects: list[dict[str, Any]]) -> list[str]:
    """Oracle evidence of a scene: what `detect_objects` must show for the rationale's inventory ("The scene has 8
    objects: ...") to hold, as it prints it: the number of objects, and each colour and shape present ("red
    circle"). Sizes are not in its output (it gives areas), nor is how many objects share a colour and shape."""
    return [f"{len(objects)} objects"] + sorted({f"{o['color']} {o['shape']}" for o in objects})


def describe(objects: list[dict[str, Any]]) -> str:
    """'2 large red circles, 1 small blue square, ...' in a fixed order."""
    groups: dict[str, int] = {}
    for obj in objects:
        key = f"{obj['size']} {obj['color']} {obj['shape']}"
        groups[key] = groups.get(key, 0) + 1
    parts = []
    for key, count in sorted(groups.items()):
        size, color, shape = key.split()
        parts.append(f"{count} {size} {color} {PLURALS[shape] if count > 1 else shape}")
    return ", ".join(parts)
