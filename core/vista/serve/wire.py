"""The JSON shapes on the wire, shared by the server, the client and the Ray deployments.

    call request:  {"arguments": {...}, "images": {"image_0": "<base64 PNG>", ...}}
    call response: a ToolResult as JSON (images as base64 PNG)
    batch request: {"calls": [call request, ...]}   batch response: {"results": [ToolResult, ...]}
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from PIL import Image
from pydantic import BaseModel, Field

from ..errors import VistaError
from ..images import ImageDecodeError, image_to_base64, open_image


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
            decoded[name] = open_image(base64.b64decode(data, validate=True), max_pixels)
        except (binascii.Error, ValueError) as exc:
            raise ImageRejected(f"image '{name}' is not valid base64: {exc}") from exc
        except ImageDecodeError as exc:
            raise ImageRejected(f"image '{name}': {exc}", status=413 if exc.too_large else 400) from exc
    return decoded
