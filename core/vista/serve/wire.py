"""The JSON shapes on the wire, shared by the server, the client and the Ray deployments.

    call request:  {"arguments": {...}, "images": {"image_0": "<base64 PNG>", ...}}
    call response: a ToolResult as JSON (images as base64 PNG)
    batch request: {"calls": [call request, ...]}   batch response: {"results": [ToolResult, ...]}
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Mapping
from typing import Any

from PIL import Image
from pydantic import BaseModel, Field

from ..errors import VistaError
from ..images import image_to_base64


class CallRequest(BaseModel):
    arguments: dict[str, Any] = Field(default_factory=dict)
    images: dict[str, str] = Field(default_factory=dict)


class BatchRequest(BaseModel):
    calls: list[CallRequest]


class ImageRejected(VistaError):
    """An uploaded image is not decodable (status 400) or too large (413); the message says which and the limit."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def encode_images(images: Mapping[str, Image.Image]) -> dict[str, str]:
    return {name: image_to_base64(image) for name, image in images.items()}


def decode_images(images: Mapping[str, str], max_pixels: int) -> dict[str, Image.Image]:
    decoded = {}
    for name, data in images.items():
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ImageRejected(f"image '{name}' is not valid base64: {exc}") from exc
        try:
            image = Image.open(io.BytesIO(raw))
            # check the declared size before decoding a single pixel: this is what stops decompression bombs
            if image.width * image.height > max_pixels:
                raise ImageRejected(f"image '{name}' is {image.width}x{image.height} = {image.width * image.height} "
                                    f"pixels, over the server's limit of {max_pixels}; downscale it", status=413)
            image.load()
        except ImageRejected:
            raise
        except (OSError, Image.DecompressionBombError) as exc:
            raise ImageRejected(f"image '{name}' cannot be decoded: {exc}") from exc
        decoded[name] = image if image.mode in ("L", "RGB", "RGBA") else image.convert("RGB")
    return decoded
