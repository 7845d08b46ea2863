"""The DiagramFormalizer backend: a vision-language checkpoint that writes the diagram's formal description (CDL).

Any Hugging Face image-text-to-text checkpoint with its processor loads (DiagramFormalizer releases, a fine-tuned
Qwen2-VL or LLaVA); its free text is mined for CDL predicates, and what does not parse is reported, not used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from PIL import Image
from vista import ToolUnavailableError
from vista.weights import load_once, resolve_weights

from . import cdl
from .equations import STRUCTURAL, SUPPORTED_PREDICATES

ENV_VAR = "VISTA_WEIGHTS_DIAGRAM_FORMALIZER"
PROMPT = ("Formalize this geometry diagram in condition description language: list every point on a line "
          "(PointLiesOnLine), on a circle (PointLiesOnCircle), every drawn line (Line), parallel and perpendicular "
          "lines, and every length and angle written on the figure (Equal(LengthOfLine(A,B),5), "
          "Equal(MeasureOfAngle(A,B,C),40)), one predicate per line.")


@dataclass
class ModelFormalization:
    constraints: list[str] = field(default_factory=list)
    construction: list[str] = field(default_factory=list)
    goal: str = ""
    rejected: list[str] = field(default_factory=list)
    raw: str = ""


def predicates_in(text: str) -> tuple[list[str], list[str], str]:
    """CDL predicates found in free text: (usable, rejected, goal)."""
    usable, rejected, goal = [], [], ""
    for start, end in cdl.find_calls(text):
        call = text[start:end]
        name = call.split("(", 1)[0]
        if name in ("Value", "Find") and cdl.is_cdl(call):
            args = cdl.parse(call).args
            goal = str(args[0]) if args else goal
        elif name in SUPPORTED_PREDICATES and cdl.is_cdl(call):
            usable.append(str(cdl.parse(call)))
        else:
            rejected.append(call[:120])
    return list(dict.fromkeys(usable)), rejected, goal


class DiagramFormalizer:
    def __init__(self, tool: str, weights: str | os.PathLike | None = None, max_new_tokens: int = 384):
        self.tool = tool
        self.weights = weights
        self.max_new_tokens = max_new_tokens

    def _load(self, path: str):
        try:
            import torch
            from transformers import AutoModelForImageTextToText, AutoProcessor
        except ImportError as exc:
            raise ToolUnavailableError(f"tool '{self.tool}' runs the DiagramFormalizer with torch and transformers: "
                                       f"pip install torch transformers ({exc})") from exc
        device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype = torch.bfloat16 if device == "cuda" else torch.float32
        try:
            processor = AutoProcessor.from_pretrained(path)
            model = AutoModelForImageTextToText.from_pretrained(path, dtype=dtype).to(device).eval()
        except (OSError, ValueError, KeyError) as exc:
            raise ToolUnavailableError(
                f"tool '{self.tool}': the weights at {path} do not load as a transformers image-text-to-text model "
                f"with its processor ({exc}); save the DiagramFormalizer with save_pretrained() (model and processor) "
                f"and point {ENV_VAR} at that directory") from exc
        return model, processor

    def prompt(self, processor, text: str) -> str:
        request = PROMPT + (f"\nProblem text: {text}" if text else "")
        if getattr(processor, "chat_template", None):
            messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": request}]}]
            return processor.apply_chat_template(messages, add_generation_prompt=True)
        return f"USER: {processor.image_token}\n{request} ASSISTANT:"

    def generate(self, image: Image.Image, text: str) -> str:
        import torch

        path = resolve_weights(self.tool, self.weights, env_var=ENV_VAR, what="DiagramFormalizer")
        model, processor = load_once(("vista_tools_diagram.formalizer", path), lambda: self._load(path))
        inputs = processor(images=image.convert("RGB"), text=self.prompt(processor, text), return_tensors="pt")
        inputs = inputs.to(model.device)
        if "pixel_values" in inputs:
            inputs["pixel_values"] = inputs["pixel_values"].to(model.dtype)
        with torch.inference_mode():
            output = model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False)
        return processor.tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)

    def formalize(self, image: Image.Image, text: str) -> ModelFormalization:
        raw = self.generate(image, text)
        usable, rejected, goal = predicates_in(raw)
        construction = [c for c in usable if cdl.parse(c).name in STRUCTURAL]
        return ModelFormalization(constraints=usable, construction=construction, goal=goal, rejected=rejected,
                                  raw=raw)
