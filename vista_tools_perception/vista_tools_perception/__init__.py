"""vista-gym perception tools: OCR (RapidOCR, EasyOCR), GroundingDINO and classical detection, SAM segmentation,
zoom, crop and rotate. Heavy libraries load inside the tools, on first use."""

from __future__ import annotations

import vista

from .detection import DetectObjects
from .image_tools import Crop, Rotate, Zoom
from .ocr_tools import OcrReadRegion, OcrReadTable, OcrReadText
from .segmentation import Segment

TOOLS = (OcrReadText, OcrReadRegion, OcrReadTable, DetectObjects, Segment, Zoom, Crop, Rotate)


@vista.hookimpl
def register_tools(register) -> None:
    for tool in TOOLS:
        register(tool())
