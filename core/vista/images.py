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


# The formats an image may arrive in, recognised by their first bytes before any decoder sees them: a file in any
# other format (EPS, PSD, TIFF, ICO, ... whatever Pillow plugins are installed) is refused without being parsed.
ALLOWED_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP")
_ALLOWED_NAMES = "PNG, JPEG, WebP, GIF (first frame) or BMP"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PNG metadata chunks the framework never uses; dropped before decoding, so that a large (compressed) text chunk
# or colour profile does not trip Pillow's MAX_TEXT_CHUNK / MAX_TEXT_MEMORY guards and refuse a good picture
_PNG_DROPPED_CHUNKS = frozenset({b"tEXt", b"zTXt", b"iTXt", b"iCCP", b"eXIf"})


def sniff_format(head: bytes) -> str | None:
    """The allowed format whose signature ``head`` (the first 12 bytes or more) starts with, or None."""
    if head.startswith(_PNG_SIGNATURE):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:2] == b"BM":
        return "BMP"
    return None


def strip_png_metadata(data: bytes) -> bytes:
    """``data`` without its text, ICC-profile and EXIF chunks (pixels untouched); unchanged when it has none or is
    not a well-formed chunk sequence (the decoder then reports what is wrong)."""
    if not data.startswith(_PNG_SIGNATURE):
        return data
    keep, pos, dropped = [], len(_PNG_SIGNATURE), False
    while pos + 8 <= len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        end = pos + 12 + length  # length, type, data, CRC
        if end > len(data):
            return data
        if data[pos + 4:pos + 8] in _PNG_DROPPED_CHUNKS:
            dropped = True
        else:
            keep.append((pos, end))
        pos = end
    if not dropped:
        return data
    view = memoryview(data)
    return b"".join([_PNG_SIGNATURE, *(view[start:end] for start, end in keep), bytes(view[pos:])])


def open_image(source: ImageLike, max_pixels: int | None = None) -> Image.Image:
    """Open a PIL image from a path, bytes or an image; converts to RGB unless it is already L/RGB/RGBA.

    Only `ALLOWED_FORMATS` are accepted, recognised by their signature before any decoder runs (GIF and animated
    PNG/WebP: the first frame). The size is checked against ``max_pixels`` (default MAX_IMAGE_PIXELS) before a
    single pixel is decoded. Every failure is an `ImageDecodeError` saying what was wrong."""
    limit = max_pixels or MAX_IMAGE_PIXELS
    if isinstance(source, Image.Image):
        image = source
    else:
        try:
            data = source if isinstance(source, bytes) else Path(source).read_bytes()
        except OSError as exc:
            raise ImageDecodeError(f"cannot read image {_describe(source)}: {exc}") from exc
        image = _decode(data, limit, _describe(source))
    if image.mode not in ("L", "RGB", "RGBA"):
        image = image.convert("RGB")
    return image


def _decode(data: bytes, limit: int, what: str) -> Image.Image:
    kind = sniff_format(data[:16])
    if kind is None:
        raise ImageDecodeError(f"image {what} is not {_ALLOWED_NAMES} (it starts with {data[:8]!r}); "
                               "convert it to PNG")
    if kind == "PNG":
        data = strip_png_metadata(data)
    try:
        image = Image.open(io.BytesIO(data), formats=[kind])
        if image.width * image.height > limit:
            raise ImageDecodeError(
                f"image of {image.width}x{image.height} pixels exceeds the limit of {limit} pixels; downscale it",
                too_large=True)
        image.load()
    except Image.DecompressionBombError as exc:
        raise ImageDecodeError(f"image {what} is too large: {exc}; downscale it", too_large=True) from exc
    except ImageDecodeError:
        raise
    except Image.UnidentifiedImageError:
        raise ImageDecodeError(f"image {what} starts like {kind} but is not a readable {kind} file; "
                               "send it re-encoded as PNG") from None
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, EOFError, struct.error... on bad data
        raise ImageDecodeError(f"cannot decode {kind} image {what}: {type(exc).__name__}: {exc}") from exc
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


def image_from_base64(data: str, max_pixels: int | None = None) -> Image.Image:
    try:
        raw = base64.b64decode(data, validate=True)
    except ValueError as exc:
        raise ImageDecodeError(f"image is not valid base64: {exc}") from exc
    return open_image(raw, max_pixels)


class StorageError(VistaError):
    """Writing a run's files failed (a full disk, a read-only folder): the run stops, saying where and why."""


class ImageStore:
    """A folder of PNG files named by content hash: each distinct image is written once. Written through a
    temporary file renamed into place, so a file under its final name is always whole; a temporary file is removed
    when its write fails, and one left by a killed writer (its PID in the name, no longer running) when the store is
    next opened."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        for leftover in self.root.glob(".*.tmp"):
            parts = leftover.name.split(".")
            pid = int(parts[2]) if len(parts) > 3 and parts[2].isdigit() else None
            if pid is not None and not _alive(pid):
                leftover.unlink(missing_ok=True)

    def path(self, ref: str) -> Path:
        return self.root / f"{ref}.png"

    def put(self, image: Image.Image) -> str:
        ref = content_hash(image)
        path = self.path(ref)
        if not path.exists():
            # a unique temporary name per writer: threads and processes storing the same image never share a file
            fd, tmp = tempfile.mkstemp(dir=self.root, prefix=f".{ref[:16]}.{os.getpid()}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(image_to_png(image))
                os.replace(tmp, path)  # atomic: a crash never leaves a half-written image under its final name
            except OSError as exc:
                Path(tmp).unlink(missing_ok=True)
                raise StorageError(f"cannot write images to {self.root}: {exc.strerror or exc}; free space there "
                                   "(or choose another run directory) and run the same command again to go on") \
                    from None
        return ref

    def get(self, ref: str) -> Image.Image:
        path = self.path(ref)
        if not path.exists():
            raise ImageDecodeError(f"image {ref} is not in the store at {self.root}")
        return open_image(path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
