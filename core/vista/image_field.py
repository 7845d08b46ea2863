"""A pydantic field type for PIL images: PIL in memory, base64 PNG in JSON."""

from __future__ import annotations

from typing import Annotated, Any

from PIL import Image
from pydantic import PlainSerializer, PlainValidator

from .images import image_from_base64, image_to_base64


def _validate(value: Any) -> Image.Image:
    if isinstance(value, Image.Image):
        return value
    if isinstance(value, str):
        return image_from_base64(value)
    raise ValueError(f"expected a PIL image or base64 PNG string, got {type(value).__name__}")


PILImage = Annotated[
    Image.Image,
    PlainValidator(_validate),
    PlainSerializer(image_to_base64, return_type=str, when_used="json"),
]
