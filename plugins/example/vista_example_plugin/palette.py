"""The named colours the tool reports and the task draws with, and the map from any RGB value to its nearest name."""

from __future__ import annotations

import functools

import numpy as np

# Far apart in RGB so that a JPEG-compressed or anti-aliased pixel still lands on the colour it came from.
PALETTE: dict[str, tuple[int, int, int]] = {
    "black": (0, 0, 0),
    "white": (255, 255, 255),
    "gray": (128, 128, 128),
    "silver": (192, 192, 192),
    "red": (230, 25, 25),
    "green": (40, 160, 40),
    "blue": (30, 60, 220),
    "yellow": (250, 220, 30),
    "orange": (250, 140, 0),
    "purple": (130, 40, 170),
    "pink": (250, 130, 190),
    "brown": (140, 80, 30),
    "cyan": (0, 200, 220),
}
NAMES: tuple[str, ...] = tuple(PALETTE)
_BITS = 5  # 32 levels per channel: a 32768-entry lookup table instead of a distance per pixel


@functools.cache
def cell_names() -> np.ndarray:
    """Palette index of the centre of every 5-bit-per-channel RGB cell, indexed by `cells`' codes."""
    levels = (np.arange(1 << _BITS) << (8 - _BITS)) + (1 << (7 - _BITS))
    r, g, b = np.meshgrid(levels, levels, levels, indexing="ij")
    centres = np.stack([r, g, b], axis=-1).reshape(-1, 1, 3).astype(np.int32)
    palette = np.array(list(PALETTE.values()), dtype=np.int32).reshape(1, -1, 3)
    return ((centres - palette) ** 2).sum(-1).argmin(1)


def cells(pixels: np.ndarray) -> np.ndarray:
    """The RGB cell code (0..32767) of each pixel of an ``(N, 3)`` uint8 array."""
    p = pixels.astype(np.int32) >> (8 - _BITS)
    return (p[:, 0] << (2 * _BITS)) | (p[:, 1] << _BITS) | p[:, 2]


N_CELLS = 1 << (3 * _BITS)
