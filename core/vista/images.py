"""Images as the framework passes them around: PIL in memory, PNG bytes on the wire, content-addressed on disk."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tempfile
from pathlib import Path
from typing import Union

from PIL import Image

from .errors import VistaError

# Refuse decompression bombs everywhere images enter the framework (PIL warns at ~89 Mpx and raises at twice that).
MAX_IMAGE_PIXELS = int(os.environ.get("VISTA_MAX_IMAGE_PIXELS", 64_000_000))
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS

ImageLike = Union[Image.Image, str, os.PathLike, bytes]


class ImageDecodeError(VistaError):
    def __init__(self, message: str, *, too_large: bool = False):
        super().__init__(message)
        self.too_large = too_large


def open_image(source: ImageLike, max_pixels: int | None = None) -> Image.Image:
    """Open a PIL image from a path, bytes or an image; converts to RGB unless it is already L/RGB/RGBA.
    The size is checked against ``max_pixels`` (default MAX_IMAGE_PIXELS) before a single pixel is decoded."""
    limit = max_pixels or MAX_IMAGE_PIXELS
    try:
        if isinstance(source, Image.Image):
            image = source
        elif isinstance(source, bytes):
            image = Image.open(io.BytesIO(source))
        else:
            image = Image.open(Path(source))
        if image.width * image.height > limit:
            raise ImageDecodeError(
                f"image of {image.width}x{image.height} pixels exceeds the limit of {limit} pixels; downscale it",
                too_large=True)
        image.load()
    except (OSError, Image.DecompressionBombError) as exc:
        raise ImageDecodeError(f"cannot open image {_describe(source)}: {exc}") from exc
    if image.mode not in ("L", "RGB", "RGBA"):
        image = image.convert("RGB")
    return image


def _describe(source: ImageLike) -> str:
    if isinstance(source, bytes):
        return f"({len(source)} bytes)"
    return repr(str(source)) if not isinstance(source, Image.Image) else "(PIL image)"


def image_to_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)  # 3-5x faster than the default; size matters less
    return buffer.getvalue()


def content_hash(image: Image.Image) -> str:
    """sha256 of the decoded pixels, mode and size: equal pictures share a hash whatever their file encoding."""
    digest = hashlib.sha256()
    digest.update(f"{image.mode}:{image.width}x{image.height}:".encode())
    digest.update(image.tobytes())
    return digest.hexdigest()


def image_to_base64(image: Image.Image) -> str:
    return base64.b64encode(image_to_png(image)).decode("ascii")


def image_from_base64(data: str) -> Image.Image:
    try:
        raw = base64.b64decode(data, validate=True)
    except ValueError as exc:
        raise ImageDecodeError(f"image is not valid base64: {exc}") from exc
    return open_image(raw)


class ImageStore:
    """A folder of PNG files named by content hash: each distinct image is written once."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, ref: str) -> Path:
        return self.root / f"{ref}.png"

    def put(self, image: Image.Image) -> str:
        ref = content_hash(image)
        path = self.path(ref)
        if not path.exists():
            # a unique temporary name per writer: threads and processes storing the same image never share a file
            fd, tmp = tempfile.mkstemp(dir=self.root, prefix=f".{ref[:16]}.", suffix=".tmp")
            with os.fdopen(fd, "wb") as handle:
                handle.write(image_to_png(image))
            os.replace(tmp, path)  # atomic: a crash never leaves a half-written image under its final name
        return ref

    def get(self, ref: str) -> Image.Image:
        path = self.path(ref)
        if not path.exists():
            raise ImageDecodeError(f"image {ref} is not in the store at {self.root}")
        return open_image(path)
