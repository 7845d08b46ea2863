"""Classical detection of coloured shapes on a plain background (procedural, CLEVR-like 2-D scenes) with OpenCV.

The background is the colour of the image border; the rest is split by colour name, so touching shapes of different
colours stay apart; each connected region becomes one object, named by its colour and by its contour's geometry.
Needs no weights, so it is what the offline procedural tasks use.

Size is CLEVR's two classes, "small" and "large", judged against the picture rather than against the other objects
(a scene of small objects only has no large one): an object is large when the radius of its smallest enclosing
circle is at least `LARGE_RADIUS_SHARE` of the image's shorter side. The procedural scenes draw radii of 5% and 9%
of the shorter side (squares and triangles enclosed by 1.15-1.25 times that), so the line falls between the two.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

COLOR_NAMES = ("red", "orange", "brown", "yellow", "green", "cyan", "blue", "purple", "pink", "gray", "black", "white")
SHAPE_NAMES = ("circle", "square", "rectangle", "triangle", "pentagon", "hexagon", "polygon")
SIZE_NAMES = ("small", "large")
LARGE_RADIUS_SHARE = 0.075

# Pixels farther than this (RGB distance) from the background colour are foreground; anti-aliased edges are less.
_FOREGROUND_DISTANCE = 40.0
# Hue bands in degrees, first match wins; red wraps around 0.
_HUES = ((15, "red"), (40, "orange"), (70, "yellow"), (165, "green"), (195, "cyan"), (255, "blue"),
         (290, "purple"), (345, "pink"), (360, "red"))


@dataclass
class Shape:
    color: str
    shape: str
    bbox: list[int]
    area: int
    score: float  # how well the region fits the ideal shape (area over the area of the fitted shape)
    size: str = "small"  # SIZE_NAMES, by the enclosing circle against the image (module docstring)

    @property
    def label(self) -> str:
        return f"{self.color} {self.shape}"


def color_names(rgb: np.ndarray) -> np.ndarray:
    """Colour name index (into COLOR_NAMES) of every pixel of an HxWx3 uint8 array."""
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV_FULL).astype(np.float32)
    hue, saturation, value = hsv[..., 0] * 360 / 256, hsv[..., 1], hsv[..., 2]
    names = np.full(rgb.shape[:2], COLOR_NAMES.index("gray"), dtype=np.int8)
    chromatic = saturation >= 60
    assigned = np.zeros_like(chromatic)
    lower = 0.0
    for upper, name in _HUES:
        band = chromatic & ~assigned & (hue >= lower) & (hue < upper)
        names[band] = COLOR_NAMES.index(name)
        assigned |= band
        lower = upper
    # Dark orange is brown (CLEVR's brown); a dark red stays red.
    names[chromatic & (names == COLOR_NAMES.index("orange")) & (value < 170)] = COLOR_NAMES.index("brown")
    names[~chromatic & (value >= 215)] = COLOR_NAMES.index("white")
    names[value < 50] = COLOR_NAMES.index("black")
    return names


def _background(rgb: np.ndarray) -> np.ndarray:
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    return np.median(border, axis=0)


def _classify(contour: np.ndarray, area: float, radius: float) -> tuple[str, float]:
    """The shape's name and how well the region fits it; `radius`: of the contour's smallest enclosing circle."""
    perimeter = cv2.arcLength(contour, True)
    corners = len(cv2.approxPolyDP(contour, 0.04 * perimeter, True))
    circularity = 4 * math.pi * area / (perimeter * perimeter)
    circle_fit = area / (math.pi * radius * radius)
    if corners == 3:
        triangle_area, _ = cv2.minEnclosingTriangle(contour)
        return "triangle", area / triangle_area
    if corners == 4 and circle_fit < 0.75:  # a circle's polygon can have 4 corners; it fills its circle
        (_, _), (w, h), _ = cv2.minAreaRect(contour)
        return ("square" if 0.8 <= w / h <= 1.25 else "rectangle"), area / (w * h)
    if circularity > 0.75 and circle_fit > 0.75:
        return "circle", circle_fit
    hull = cv2.contourArea(cv2.convexHull(contour))
    return {5: "pentagon", 6: "hexagon"}.get(corners, "polygon"), area / hull


def detect_shapes(image: Image.Image, min_area: int | None = None) -> list[Shape]:
    """Every coloured shape, largest first."""
    rgb = np.ascontiguousarray(np.asarray(image.convert("RGB")))
    min_area = min_area if min_area is not None else max(20, rgb.shape[0] * rgb.shape[1] // 4000)
    foreground = np.linalg.norm(rgb.astype(np.float32) - _background(rgb), axis=2) > _FOREGROUND_DISTANCE
    names = color_names(rgb)
    kernel = np.ones((3, 3), np.uint8)
    found: list[Shape] = []
    for index, color in enumerate(COLOR_NAMES):
        mask = (foreground & (names == index)).astype(np.uint8)
        if not mask.any():
            continue
        # Closing first: a shape's darker outline may fall in a neighbouring name band at a few pixels.
        mask = cv2.morphologyEx(cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel), cv2.MORPH_OPEN, kernel)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        for contour in contours:
            area = cv2.contourArea(contour)
            if area < min_area:
                continue
            (_, _), radius = cv2.minEnclosingCircle(contour)
            shape, fit = _classify(contour, area, radius)
            x, y, w, h = cv2.boundingRect(contour)
            size = "large" if radius >= LARGE_RADIUS_SHARE * min(rgb.shape[:2]) else "small"
            found.append(Shape(color=color, shape=shape, bbox=[x, y, x + w, y + h], area=int(round(area)),
                               score=round(min(1.0, fit), 4), size=size))
    return sorted(found, key=lambda s: -s.area)
