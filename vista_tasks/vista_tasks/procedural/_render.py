"""Rendering helpers shared by the generators: matplotlib figures without pyplot (no global state, Agg only) and
PIL fonts from the DejaVu files matplotlib ships, so rendering needs no system fonts and is identical everywhere."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageFont

# Family name (as matplotlib knows it) -> regular and bold font files in matplotlib's data folder.
FONTS: dict[str, tuple[str, str]] = {
    "DejaVu Sans": ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    "DejaVu Serif": ("DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf"),
    "DejaVu Sans Mono": ("DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf"),
}


def new_figure(width_px: int, height_px: int, dpi: int = 100, facecolor: str = "white"):
    """A matplotlib Figure on an Agg canvas, `width_px` x `height_px` pixels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi, facecolor=facecolor)
    FigureCanvasAgg(figure)
    return figure


def figure_to_image(figure) -> Image.Image:
    """Draw the figure and return its pixels as an RGB image (no PNG metadata, so equal figures give equal bytes)."""
    figure.canvas.draw()
    rgba = np.asarray(figure.canvas.buffer_rgba())
    return Image.fromarray(rgba[..., :3].copy(), "RGB")


@lru_cache(maxsize=64)
def pil_font(family: str, size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """A PIL TrueType font of one of `FONTS`."""
    import matplotlib

    if family not in FONTS:
        raise ValueError(f"unknown font family {family!r}; choose one of {list(FONTS)}")
    file = FONTS[family][1 if bold else 0]
    return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / file), size)
