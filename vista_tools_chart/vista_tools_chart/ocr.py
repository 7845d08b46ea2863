"""Text on a chart, read with RapidOCR (its ONNX models ship inside the wheel, so no weights are fetched)."""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from dataclasses import dataclass

import cv2
import numpy as np
from vista import ToolUnavailableError
from vista.weights import load_once

_NUMBER = re.compile(r"^[(\[]?([-−–+]?)[$€£¥]?([0-9][0-9,.]*|\.[0-9]+)(%?)[)\]]?$")


# RapidOCR keeps the switches of its last call (use_det...) as state: one call at a time, each setting all of them
_engine_lock = threading.Lock()

# The detector sees the chart with its shorter side blown up to DETECTION_SIDE pixels (a 72 dpi chart's tick labels
# are 8 px high; PP-OCR's detector misses them at that size). The scaling is ours, not RapidOCR's `limit_type: min`,
# so that a region read again (`read_text(crop, magnify=2)`) is detected at twice its size instead of being blown up
# to 600 px high (a second of detection for one row of labels); lines are recognised from the image as given, as
# RapidOCR does. The recogniser pads every line to at least 96 px wide (`Rec.rec_img_shape`), not RapidOCR's 320:
# tick labels are two to five characters. Chosen on the development style sheets of bench/chart_classical_parser.py
# (-n 20, idle 2-core machine): RapidOCR's defaults 80% read right at 0.78 s per chart; these 81% at 0.41 s.
DETECTION_SIDE = 600
MIN_TEXT_SCORE = 0.5  # RapidOCR's own `Global.text_score`: lines recognised less surely are dropped
ENGINE = {"Global.use_cls": False, "Det.limit_type": "max", "Det.limit_side_len": 2000,
          "Rec.rec_img_shape": [3, 48, 96]}


@dataclass(frozen=True)
class Text:
    """One OCR line: its text and axis-aligned box [x0, y0, x1, y1] in image pixels."""

    text: str
    box: tuple[float, float, float, float]
    score: float

    @property
    def cx(self) -> float:
        return (self.box[0] + self.box[2]) / 2

    @property
    def cy(self) -> float:
        return (self.box[1] + self.box[3]) / 2

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def on_end(self) -> bool:
        """Whether the line stands on its end (a y-axis title, read bottom to top)."""
        return _on_end(self.width, self.height)

    @property
    def number(self) -> float | None:
        return parse_number(self.text)

    @property
    def is_percent(self) -> bool:
        return self.text.strip().rstrip(")]").endswith("%")


def _on_end(width: float, height: float) -> bool:
    return height > 1.5 * width and height > 20


def parse_number(text: str) -> float | None:
    """The number a tick or value label shows ('1,200', '−5', '$30', '45%', '2.5'), or None."""
    match = _NUMBER.match(text.strip().replace(" ", ""))
    if match is None:
        return None
    sign, digits, _ = match.groups()
    if re.fullmatch(r"[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?", digits):
        digits = digits.replace(",", "")
    elif re.fullmatch(r"[0-9]+,[0-9]{1,2}", digits):  # a decimal comma ('2,5')
        digits = digits.replace(",", ".")
    try:
        value = float(digits)
    except ValueError:
        return None
    return -value if sign in ("-", "−", "–") else value


def _engine():
    try:
        from rapidocr import RapidOCR
    except ImportError as exc:
        raise ToolUnavailableError(
            "the classical chart parser needs RapidOCR; install it with "
            "`pip install rapidocr onnxruntime` (vista-tools-chart declares both)") from exc
    logging.getLogger("RapidOCR").setLevel(logging.WARNING)
    try:
        return RapidOCR(params={"Global.log_level": "warning", **ENGINE})
    except ImportError as exc:  # rapidocr raises ImportError when its inference engine is absent
        raise ToolUnavailableError(f"RapidOCR cannot start: {exc}; install onnxruntime") from exc


def read_text(rgb: np.ndarray, magnify: float | None = None) -> list[Text]:
    """All text lines of an RGB image, in reading order, boxes in the image's pixels. The image is read `magnify`
    times its size (by default: with its shorter side at DETECTION_SIDE pixels, never shrunk)."""
    engine = load_once(("vista_tools_chart", "rapidocr"), _engine)
    scale = magnify or max(1.0, DETECTION_SIDE / max(1, min(rgb.shape[:2])))
    from rapidocr.utils.process_img import get_rotate_crop_image  # importable once the engine has loaded

    original = np.ascontiguousarray(rgb[:, :, ::-1])  # RapidOCR takes OpenCV's BGR order
    try:
        with _engine_lock:
            detected = engine(cv2.resize(original, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
                              if scale != 1.0 else original, use_det=True, use_cls=False, use_rec=False)
            if detected.boxes is None:
                return []
            # each line recognised from the image as given, as RapidOCR does after detecting at its own scale
            quads = [np.asarray(quad, dtype=np.float32) / scale for quad in detected.boxes]
            quads = [quad for quad in quads if np.ptp(quad, axis=0).min() >= 2]  # a speck shrunk below 2 px
            if not quads:
                return []
            result = engine.recognize_txt([get_rotate_crop_image(original, quad.copy()) for quad in quads])
    except ImportError as exc:
        raise ToolUnavailableError(f"RapidOCR cannot run: {exc}; install onnxruntime") from exc
    texts = []
    for quad, text, score in zip(quads, result.txts, result.scores):
        if score < MIN_TEXT_SCORE:
            continue
        text = _tick_dash(_letter_o(fold_marks(text)))
        x0, y0 = quad.min(axis=0)
        x1, y1 = quad.max(axis=0)
        text = text.strip()
        if _on_end(x1 - x0, y1 - y0):
            # a y-axis title reads bottom to top: recognise it turned upright, keep the surer reading
            upright, upright_score = _recognise(np.rot90(rgb[int(y0):int(y1) + 1, int(x0):int(x1) + 1], k=-1))
            if upright and upright_score > score:
                text, score = upright, upright_score
        if text:
            texts += _split_numbers(Text(text=text, box=(float(x0), float(y0), float(x1), float(y1)),
                                         score=float(score)))
    return sorted(texts, key=lambda t: (round(t.cy / 8), t.cx))


def _split_numbers(text: Text) -> list[Text]:
    """'50 - 48' -> '50', '48': a tick label, its tick mark and a value label beside it read as one line. Each part
    gets the share of the box its characters take."""
    parts = re.fullmatch(r"(\S+)\s*[-–—]\s+(\S+)", text.text)
    if parts is None or parse_number(parts[1]) is None or parse_number(parts[2]) is None:
        return [text]
    x0, y0, x1, y1 = text.box
    step = (x1 - x0) / max(len(text.text), 1)
    first = Text(parts[1], (x0, y0, x0 + step * len(parts[1]), y1), text.score)
    second = Text(parts[2], (x1 - step * len(parts[2]), y0, x1, y1), text.score)
    return [first, second]


def read_line(rgb: np.ndarray, box: tuple[float, float, float, float]) -> str:
    """Recognise the single line of text inside `box` (no detection): to re-read part of a line that detection
    merged with its neighbours."""
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    h, w = rgb.shape[:2]
    return _recognise(rgb[max(0, y0):min(h, y1), max(0, x0):min(w, x1)])[0]


def read_on_end(rgb: np.ndarray, box: tuple[float, float, float, float]) -> tuple[str, float]:
    """Recognise the single line of text standing on end inside `box`, turned upright both ways (it may read
    bottom to top or top to bottom): the surer reading and its score."""
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    h, w = rgb.shape[:2]
    crop = rgb[max(0, y0):min(h, y1), max(0, x0):min(w, x1)]
    return max((_recognise(np.ascontiguousarray(np.rot90(crop, k=k))) for k in (-1, 1)), key=lambda r: r[1])


def _recognise(crop: np.ndarray) -> tuple[str, float]:
    if crop.size == 0:
        return "", 0.0
    engine = load_once(("vista_tools_chart", "rapidocr"), _engine)
    with _engine_lock:
        result = engine(np.ascontiguousarray(crop[:, :, ::-1]), use_det=False, use_cls=False, use_rec=True)
    text = _letter_o(fold_marks(" ".join(result.txts or ()))).strip()
    return text, float(min(result.scores)) if result.scores else 0.0


def _tick_dash(text: str) -> str:
    """'800 -' -> '800', 'Spain -' -> 'Spain': a tick mark beside its label is read as a trailing dash."""
    return re.sub(r"(?<=\w)\s*[-–—_]+$", "", text.strip())


def _letter_o(text: str) -> str:
    """'0ranges' -> 'Oranges': a zero opening a word of letters is the letter O."""
    return re.sub(r"\b0(?=[A-Za-z]{2,})", "O", text)


def fold_marks(text: str) -> str:
    """Drop diacritics: the recogniser's charset is multilingual and now and then reads 'Oranges' as 'Oränges' on
    an English chart."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
