"""Processors of transformers VLMs for images only, so that they load without torchvision.

transformers' `AutoProcessor` builds every part a model family declares, and the video processors of Qwen2-VL,
Qwen2.5-VL, Qwen3-VL and InternVL import torchvision. The package registry's torchvision is a CUDA build that does
not import with the CPU torch wheel, so on a CPU machine `AutoProcessor.from_pretrained` of those families fails.
vista plays images, never video: `image_only_processor` builds the family's own processor class from its tokenizer
and the PIL backend of its image processor, with no video part, and `load_processor` does that for a saved policy or
a released checkpoint of those families (else it is `AutoProcessor`). One implementation for the evaluator
(`TransformersPolicy`) and the trainer, so a policy is evaluated with the processor it was trained with.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .errors import VistaError

IMAGE_ONLY_FAMILIES = ("qwen2_vl", "qwen2_5_vl", "qwen3_vl", "internvl", "llava_onevision")
# the processors' own settings a checkpoint saves (processor_config.json) that `image_only_processor` takes
PROCESSOR_SETTINGS = ("image_seq_length", "num_image_tokens", "vision_feature_select_strategy", "vision_aspect_ratio")
QWEN_IMAGE_PAD, QWEN_VIDEO_PAD = "<|image_pad|>", "<|video_pad|>"
QWEN_VISION_START, QWEN_VISION_END = "<|vision_start|>", "<|vision_end|>"


def image_only_processor(model_type: str, tokenizer: Any, image_processor: Any, *, chat_template: str | None = None,
                         image_seq_length: int = 256, **settings: Any) -> Any:
    """The processor of ``model_type`` (one of `IMAGE_ONLY_FAMILIES`) on ``tokenizer`` and ``image_processor``,
    without a video processor. InternVL's tokenizer carries its image tokens (``start_image_token``,
    ``end_image_token``, ``context_image_token``, ``video_token``), as the released checkpoints' do.
    ``settings``: the processor's own saved settings (LLaVA-OneVision's ``num_image_tokens``,
    ``vision_feature_select_strategy``, ``vision_aspect_ratio``); others' are ignored."""
    from transformers.processing_utils import ProcessorMixin

    if model_type in ("qwen2_vl", "qwen2_5_vl"):
        if model_type == "qwen2_vl":
            from transformers import Qwen2VLProcessor as Base
        else:
            from transformers import Qwen2_5_VLProcessor as Base

        class ImageQwenVLProcessor(Base):
            # the signature names the parts ProcessorMixin saves and checks: no video processor
            def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
                self.image_token, self.video_token = QWEN_IMAGE_PAD, QWEN_VIDEO_PAD
                self.image_token_id = tokenizer.convert_tokens_to_ids(QWEN_IMAGE_PAD)
                self.video_token_id = tokenizer.convert_tokens_to_ids(QWEN_VIDEO_PAD)
                ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template)

        ImageQwenVLProcessor.__name__ = ImageQwenVLProcessor.__qualname__ = f"Image{Base.__name__}"
        return ImageQwenVLProcessor(image_processor=image_processor, tokenizer=tokenizer, chat_template=chat_template)
    if model_type == "qwen3_vl":
        from transformers import Qwen3VLProcessor

        class ImageQwen3VLProcessor(Qwen3VLProcessor):
            # Qwen2.5-VL's tokens; images only (the signature names the parts ProcessorMixin saves and checks)
            def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
                self.image_token, self.video_token = QWEN_IMAGE_PAD, QWEN_VIDEO_PAD
                self.image_token_id = tokenizer.convert_tokens_to_ids(QWEN_IMAGE_PAD)
                self.video_token_id = tokenizer.convert_tokens_to_ids(QWEN_VIDEO_PAD)
                self.vision_start_token, self.vision_end_token = QWEN_VISION_START, QWEN_VISION_END
                self.vision_start_token_id = tokenizer.convert_tokens_to_ids(QWEN_VISION_START)
                self.vision_end_token_id = tokenizer.convert_tokens_to_ids(QWEN_VISION_END)
                ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template)

        return ImageQwen3VLProcessor(image_processor=image_processor, tokenizer=tokenizer, chat_template=chat_template)
    if model_type == "internvl":
        from transformers import InternVLProcessor

        class ImageInternVLProcessor(InternVLProcessor):
            def __init__(self, image_processor=None, tokenizer=None, image_seq_length: int = 256, chat_template=None,
                         **kwargs):
                ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template)
                self.image_seq_length = image_seq_length
                self.start_image_token, self.end_image_token = tokenizer.start_image_token, tokenizer.end_image_token
                self.start_image_token_id = tokenizer.start_image_token_id
                self.end_image_token_id = tokenizer.end_image_token_id
                self.image_token, self.image_token_id = tokenizer.context_image_token, tokenizer.context_image_token_id
                self.video_token = tokenizer.video_token
                self.multimodal_pattern = re.compile(f"(?P<image>{re.escape(self.image_token)})|"
                                                     f"(?P<video>{re.escape(self.video_token)})")

        # the processor tiles images into patches, its image processor alone does not unless told; TRL's GRPO
        # forward pass calls the image processor alone, so both must tile alike
        image_processor.crop_to_patches = True
        return ImageInternVLProcessor(image_processor=image_processor, tokenizer=tokenizer,
                                      image_seq_length=image_seq_length, chat_template=chat_template)
    if model_type == "llava_onevision":
        from transformers import LlavaOnevisionProcessor

        class ImageLlavaOnevisionProcessor(LlavaOnevisionProcessor):
            def __init__(self, image_processor=None, tokenizer=None, num_image_tokens=None,
                         vision_feature_select_strategy=None, chat_template=None, vision_aspect_ratio="anyres_max_9",
                         **kwargs):
                self.num_image_tokens = num_image_tokens
                self.vision_feature_select_strategy = vision_feature_select_strategy
                self.vision_aspect_ratio = vision_aspect_ratio
                self.image_token = getattr(tokenizer, "image_token", None) or "<image>"
                self.video_token = getattr(tokenizer, "video_token", None) or "<video>"
                self.image_token_id = tokenizer.convert_tokens_to_ids(self.image_token)
                self.video_token_id = tokenizer.convert_tokens_to_ids(self.video_token)
                ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template)

        return ImageLlavaOnevisionProcessor(image_processor=image_processor, tokenizer=tokenizer,
                                            chat_template=chat_template,
                                            **{k: v for k, v in settings.items() if k in PROCESSOR_SETTINGS[1:]})
    raise VistaError(f"no image-only processor for model type '{model_type}'; families: {IMAGE_ONLY_FAMILIES}")


def check_model_source(spec: str, what: str, accepted: str = "the folder of a saved policy (vista-train writes "
                       "them in <run_dir>/policies/<name>) or a hub id in the local cache") -> None:
    """Raise `VistaError` saying what to do when ``spec`` names no model this machine can load: a local path that
    does not exist, or a hub id that is not in the local Hugging Face cache (nothing is downloaded at run time).
    ``what`` prefixes the message (the flag, as the user wrote it); ``accepted`` says what would do."""
    path = Path(spec).expanduser()
    if path.exists():
        return
    if spec.count("/") == 1 and not spec.startswith((".", "/", "~")) and not path.suffix:
        from huggingface_hub import try_to_load_from_cache

        if isinstance(try_to_load_from_cache(spec, "config.json"), str):
            return
        raise VistaError(f"{what}{spec} is not a local folder and not in the Hugging Face cache (nothing is "
                         f"downloaded at run time): download it first (`hf download {spec}`) or give its folder")
    raise VistaError(f"{what}{spec} does not exist ({path.resolve()}): give {accepted}")


def model_type(path: str | Path) -> str:
    """The ``model_type`` of a checkpoint's config ("" when it has none)."""
    from transformers import AutoConfig

    try:
        return getattr(AutoConfig.from_pretrained(str(path)), "model_type", "") or ""
    except (OSError, ValueError):
        return ""


def _saved_chat_template(path: Path, tokenizer: Any) -> str | None:
    """A processor's chat template as transformers saves it (chat_template.jinja or chat_template.json), else the
    tokenizer's."""
    if (path / "chat_template.jinja").is_file():
        return (path / "chat_template.jinja").read_text()
    if (path / "chat_template.json").is_file():
        return json.loads((path / "chat_template.json").read_text()).get("chat_template")
    return tokenizer.chat_template


def _processor_config(path: Path) -> dict:
    for name in ("processor_config.json", "vista_policy.json"):
        if (path / name).is_file():
            return json.loads((path / name).read_text())
    return {}


def load_processor(path: str | Path, **image_processor_kwargs: Any) -> Any:
    """The processor of a checkpoint (a local directory or a hub id in the local cache). For the families in
    `IMAGE_ONLY_FAMILIES` it is built for images only (no torchvision needed); ``image_processor_kwargs``
    (``min_pixels``, ``max_pixels``…) override the saved image-processor settings."""
    from transformers import AutoImageProcessor, AutoProcessor, AutoTokenizer

    family = model_type(path)
    if family in IMAGE_ONLY_FAMILIES:
        tokenizer = AutoTokenizer.from_pretrained(str(path))
        image_processor = AutoImageProcessor.from_pretrained(str(path), backend="pil", **image_processor_kwargs)
        local = Path(str(path))
        template = _saved_chat_template(local, tokenizer) if local.is_dir() else tokenizer.chat_template
        saved = _processor_config(local) if local.is_dir() else {}
        settings = {k: saved[k] for k in PROCESSOR_SETTINGS if saved.get(k) is not None}
        settings["image_seq_length"] = int(settings.get("image_seq_length", 256))
        return image_only_processor(family, tokenizer, image_processor, chat_template=template, **settings)
    try:
        return AutoProcessor.from_pretrained(str(path), **image_processor_kwargs)
    except ImportError as exc:
        if "torchvision" not in str(exc).lower():
            raise
        raise VistaError(f"the processor of '{path}' (model type '{family or 'unknown'}') needs torchvision, which "
                         f"does not import with this torch; vista loads {', '.join(IMAGE_ONLY_FAMILIES)} without it, "
                         "or install a torchvision built for your torch") from None
