"""Text on a chart, read with RapidOCR (its ONNX models ship inside the wheel, so no weights are fetched)."""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import unicodedata
from dataclasses import dataclass

import cv2
import numpy as np
from vista import ToolUnavailableError
from vista.weights import load_once

_NUMBER = re.compile(r"^[(\[]?([-−–+]?)[$€£¥]?([0-9][0-9,.]*|\.[0-9]+)(?:[eE]([+-]?[0-9]{1,2}))?([kKMGBT]?)(%?)[)\]]?$")
# the SI and money suffixes of a short number format (Vega-Lite's and d3's '~s': '0.2k', '1.5M'; 'B' for billions)
_SUFFIX = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "B": 1e9, "T": 1e12}


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
    """The number a tick or value label shows ('1,200', '−5', '$30', '45%', '2.5', '0.2k', '1.5M', '3e+1'), or
    None."""
    match = _NUMBER.match(text.strip().replace(" ", ""))
    if match is None:
        return None
    sign, digits, exponent, suffix, _ = match.groups()
    if re.fullmatch(r"[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?", digits):
        digits = digits.replace(",", "")
    elif re.fullmatch(r"[0-9]+,[0-9]{1,2}", digits):  # a decimal comma ('2,5')
        digits = digits.replace(",", ".")
    try:
        value = float(digits) * 10.0 ** int(exponent or 0) * _SUFFIX[suffix]
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
        engine = RapidOCR(params={"Global.log_level": "warning", **ENGINE})
        # RapidOCR's own loaders (private: a RapidOCR without them keeps the sessions it made)
        for load in (getattr(engine, "_load_det_model", None), getattr(engine, "_load_rec_model", None)):
            if load is not None:
                _without_spinning(getattr(load(), "session", None))
        return engine
    except ImportError as exc:  # rapidocr raises ImportError when its inference engine is absent
        raise ToolUnavailableError(f"RapidOCR cannot start: {exc}; install onnxruntime") from exc


def _without_spinning(model) -> None:
    """Give a RapidOCR model an ONNX Runtime session that keeps its buffers between calls (a memory arena: the
    detector's maps are no longer faulted in afresh for every chart) and whose idle threads sleep instead of
    spinning (spinning burns a core between operators, which on a machine shared with other work slows both).
    Same model, same threads, same results; RapidOCR's own configuration can set neither the spinning nor, per
    model, the arena. A session this cannot rebuild (no model file) is left as RapidOCR made it."""
    import onnxruntime as ort

    session = getattr(model, "session", None)
    path = getattr(session, "_model_path", None)
    if not isinstance(session, ort.InferenceSession) or not isinstance(path, str):
        return
    options = session.get_session_options()  # RapidOCR's (threads, optimisation level), with two changes
    options.log_severity_level = 4
    options.enable_cpu_mem_arena = True
    with contextlib.suppress(RuntimeError):  # already set by RapidOCR: theirs stands
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    providers = session.get_providers()
    given = session.get_provider_options()
    model.session = ort.InferenceSession(path, sess_options=options, providers=providers,
                                         provider_options=[given.get(name, {}) for name in providers])


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
        if _on_end(x1 - x0, y1 - y0) or len(text) >= 3 and y1 - y0 > 1.1 * (x1 - x0):
            # a y-axis title reads bottom to top: recognise it turned upright, keep the surer reading (a short
            # word on end, 'Jun', is a box hardly taller than wide; three letters side by side are wider than tall)
            upright, upright_score = _recognise(np.rot90(rgb[int(y0):int(y1) + 1, int(x0):int(x1) + 1], k=-1))
            if upright and upright_score > score:
                text, score = _tick_dash(upright), upright_score
        if text:
            line = Text(text=text, box=(float(x0), float(y0), float(x1), float(y1)), score=float(score))
            texts += _split_number_row(rgb, line) or _split_numbers(line)
    return sorted(texts, key=lambda t: (round(t.cy / 8), t.cx))


def _split_number_row(rgb: np.ndarray, text: Text) -> list[Text]:
    """'0.0 0.2 0.4 0.6' -> '0.0', '0.2', ...: a row of tick labels set close together that detection took for one
    line, each word given the box of its own ink (the runs of inked columns the spaces part), where the words
    read and the runs drawn are as many and three or more of them are numbers. Empty otherwise (or on end)."""
    words = text.text.split()
    if len(words) < 3 or sum(parse_number(w) is not None for w in words) < 3 or text.on_end:
        return []
    x0, y0, x1, y1 = (int(round(v)) for v in text.box)
    patch = rgb[max(0, y0):y1 + 1, max(0, x0):x1 + 1].astype(int)
    if patch.shape[0] < 3 or patch.shape[1] < 3:
        return []
    paper = np.median(np.concatenate([patch[0], patch[-1], patch[:, 0], patch[:, -1]]), axis=0)
    columns = np.nonzero((np.abs(patch - paper).max(axis=2) > 60).any(axis=0))[0]
    if not len(columns):
        return []
    # the spaces between the words are the widest gaps, clearly wider than any inside a word
    gaps = np.diff(columns)
    order = np.argsort(-gaps, kind="stable")
    cuts = len(words) - 1
    if cuts > len(gaps):
        return []
    narrower = gaps[order[cuts]] if cuts < len(gaps) else 1
    if gaps[order[cuts - 1]] < max(4, 1.5 * narrower, narrower + 3):
        return []
    ends = sorted(order[:cuts])
    starts = [columns[0], *(columns[e + 1] for e in ends)]
    stops = [*(columns[e] for e in ends), columns[-1]]
    left = max(0, x0)
    return [Text(word, (float(left + a), text.box[1], float(left + b + 1), text.box[3]), text.score)
            for word, a, b in zip(words, starts, stops)]


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


def recognise_box(rgb: np.ndarray, box: tuple[float, float, float, float], on_end: bool = False) -> tuple[str, float]:
    """Recognise the one line of text inside `box` (no detection), standing on end or not: text and score, any
    tick mark read as a dash at its end left off."""
    if on_end:
        text, score = read_on_end(rgb, box)
    else:
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        h, w = rgb.shape[:2]
        text, score = _recognise(rgb[max(0, y0):min(h, y1), max(0, x0):min(w, x1)])
    return _tick_dash(text), score


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
    """'800 -' -> '800', 'Spain -' -> 'Spain', '0−' -> '0', '100|' -> '100': a tick mark beside its label is read as
    a trailing dash (the recogniser reads a short one as a minus sign too), the axis line right after it as a bar."""
    return re.sub(r"(?<=\w)\s*[-−–—_|]+$", "", text.strip())


def _letter_o(text: str) -> str:
    """'0ranges' -> 'Oranges': a zero opening a word of letters is the letter O."""
    return re.sub(r"\b0(?=[A-Za-z]{2,})", "O", text)


def fold_marks(text: str) -> str:
    """Drop diacritics: the recogniser's charset is multilingual and now and then reads 'Oranges' as 'Oränges' on
    an English chart."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
