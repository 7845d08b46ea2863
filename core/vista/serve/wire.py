"""The JSON shapes on the wire, shared by the server, the client and the Ray deployments, and the checks that turn
a malformed request into one line saying what was wrong and what to do.

    call request:  {"arguments": {...}, "images": {"image_0": "<base64 image>", ...}}
    call response: a ToolResult as JSON (images as base64 PNG)
    batch request: {"calls": [call request, ...]}   batch response: {"results": [ToolResult, ...]}

Uploaded images may be PNG, JPEG, WebP, GIF (first frame) or BMP (`vista.images.ALLOWED_FORMATS`), recognised by
their first bytes; anything else is refused before a decoder sees it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any

from PIL import Image
from pydantic import BaseModel, Field

from ..errors import ClassifiedError, ErrorClass, VistaError
from ..images import ImageDecodeError, image_to_base64, open_image
from ..tool import IMAGE_NAME_PATTERN, ToolResult

_IMAGE_NAME = re.compile(IMAGE_NAME_PATTERN)
CALL_SHAPE = '{"arguments": {...}, "images": {"image_0": "<base64>"}}'


class CallRequest(BaseModel):
    """A call's body (documentation and the OpenAPI schema; the server checks bodies with `call_fields`)."""

    arguments: dict[str, Any] = Field(default_factory=dict)
    images: dict[str, str] = Field(default_factory=dict)


class BatchRequest(BaseModel):
    calls: list[CallRequest]


class RequestRejected(VistaError):
    """A request the client must change (4xx) or retry (503): the status and a one-line message."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(" ".join(message.split()))
        self.status = status


class ImageRejected(RequestRejected):
    """An uploaded image is not decodable or not an accepted format (status 400) or too large (413)."""


def encode_images(images: Mapping[str, Image.Image]) -> dict[str, str]:
    return {name: image_to_base64(image) for name, image in images.items()}


def parse_json(body: bytes, max_values: int) -> Any:
    """The body as JSON. Its size in values is bounded before parsing (JSON structure takes up to 20 times its
    text in memory, and parsing holds the interpreter): every value but the first follows a ',' or opens a '[' or
    '{', and base64 images contain none of them, so counting those bytes is a cheap upper bound."""
    if len(body) > max_values:  # a shorter body cannot hold more values than it has bytes
        values = body.count(b",") + body.count(b"[") + body.count(b"{")
        if values > max_values:
            raise RequestRejected(f"the request body holds about {values} JSON values, more than the limit of "
                                  f"{max_values}; send smaller arguments or fewer calls per batch", 413)
    try:
        return json.loads(body)
    except RecursionError:
        raise RequestRejected("the request body is nested too deeply to be JSON the tools accept; "
                              f"send {CALL_SHAPE}") from None
    except ValueError as exc:  # JSONDecodeError, a non-UTF-8 body, an integer of more than 4300 digits
        raise RequestRejected(f"the request body is not valid JSON ({exc}); send {CALL_SHAPE}") from None


def call_fields(body: Any, where: str = "the request body") -> tuple[dict[str, Any], dict[str, str]]:
    """The arguments and images of one call request, checked for shape."""
    if not isinstance(body, dict):
        raise RequestRejected(f"{where} must be a JSON object {CALL_SHAPE}, not {_kind(body)}", 422)
    arguments = body.get("arguments", {})
    images = body.get("images", {})
    if not isinstance(arguments, dict):
        raise RequestRejected(f"'arguments' of {where} must be a JSON object of argument names to values, "
                              f"not {_kind(arguments)}", 422)
    if not isinstance(images, dict):
        raise RequestRejected(f"'images' of {where} must be a JSON object of image names to base64 strings, "
                              f"not {_kind(images)}", 422)
    for name, data in images.items():
        if not _IMAGE_NAME.match(name):
            raise RequestRejected(f"image name {name[:40]!r} of {where} is not allowed; name images 'image_0', "
                                  "'image_1', ...", 422)
        if not isinstance(data, str):
            raise RequestRejected(f"image '{name}' of {where} must be a base64 string, not {_kind(data)}", 422)
    return arguments, images


def batch_calls(body: Any, max_calls: int) -> list[Any]:
    """The call requests of a batch, checked for shape and count (each call's own shape is checked as it runs)."""
    calls = body.get("calls") if isinstance(body, dict) else None
    if not isinstance(calls, list):
        raise RequestRejected('a batch body must be {"calls": [' + CALL_SHAPE + ', ...]}, not '
                              f"{_kind(body) if not isinstance(body, dict) else 'an object without a calls list'}",
                              422)
    if len(calls) > max_calls:
        raise RequestRejected(f"a batch of {len(calls)} calls exceeds the limit of {max_calls} calls per batch; "
                              "split it", 413)
    return calls


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number")


def decode_images(images: Mapping[str, str], max_pixels: int, where: str = "") -> dict[str, Image.Image]:
    """Decode a call's base64 images; ``max_pixels`` bounds their decoded size together (width*height summed),
    each checked from its header before a pixel is decoded."""
    decoded, left = {}, max_pixels
    for name, data in images.items():
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ImageRejected(f"image '{name}'{where} is not valid base64 ({exc}); send the file's bytes "
                                "base64-encoded") from None
        if left <= 0:
            raise ImageRejected(f"the images{where} exceed the limit of {max_pixels} pixels for a call's images "
                                "together; send fewer or smaller images", 413)
        try:
            image = open_image(raw, left)
        except ImageDecodeError as exc:
            raise ImageRejected(f"image '{name}'{where}: {exc}", 413 if exc.too_large else 400) from None
        del raw
        left -= image.width * image.height
        decoded[name] = image
    return decoded


def result_json(result: ToolResult) -> bytes:
    """A ToolResult as JSON bytes. Non-finite numbers become null; text a JSON encoder refuses (a lone surrogate
    from a tool) is escaped; output nothing can encode becomes an E5 result instead of an HTTP 500."""
    try:
        return result.__pydantic_serializer__.to_json(result)
    except Exception:
        pass
    try:
        return json.dumps(result.model_dump(mode="json")).encode()
    except Exception as exc:
        error = ClassifiedError(error_class=ErrorClass.E5, code="unserializable_output", tool=result.tool,
                                message=f"tool '{result.tool}' produced output that cannot be sent as JSON: "
                                        f"{type(exc).__name__}: {exc}")
        return ToolResult.failure(result.tool, error, result.latency_s).model_dump_json().encode()


def error_json(message: str) -> bytes:
    return json.dumps({"error": message}).encode()
