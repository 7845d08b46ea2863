"""Stage 1, behaviour cloning: TRL's `SFTTrainer` on the kept expert trajectories.

Each trajectory is encoded with `ChatCodec` (the images go through the VLM processor, which expands each image
placeholder into its image tokens and returns ``pixel_values`` / ``image_grid_thw``); ``labels`` carry the token ids
on the policy's own tokens and -100 on everything else (system prompt, question, image tokens, tool responses), so
the loss is on what the policy writes and nothing it is shown. The dataset is tokenised here, so TRL is told to skip
its own preparation and use our collator.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import torch

from .codec import ChatCodec, Encoded, collate

log = logging.getLogger(__name__)


class PolicyTokenCollator:
    """Pads encoded conversations into a batch the VLM takes, labels on the policy's tokens only. The dataset's rows
    are indices into ``items``: pixel tensors stay tensors instead of round-tripping through Arrow."""

    def __init__(self, items: Sequence[Encoded], pad_id: int, image_token_id: int | None = None):
        self.items = list(items)
        self.pad_id = pad_id
        self.image_token_id = image_token_id

    def __call__(self, rows: Sequence[dict]) -> dict[str, torch.Tensor]:
        out = collate([self.items[row["index"]] for row in rows], self.pad_id, image_token_id=self.image_token_id)
        out.pop("policy_mask")
        return out


def encode_records(codec: ChatCodec, records: Sequence[dict]) -> list[Encoded]:
    """Encode ``{"messages", "images"}`` records; ones longer than the context are dropped (with a warning), never
    cut, since a cut conversation teaches a turn without its ending."""
    items, dropped = [], 0
    for record in records:
        encoded = codec.encode_trajectory_record(record)
        if len(encoded.input_ids) > codec.max_length:
            dropped += 1
            continue
        items.append(encoded)
    if dropped:
        log.warning("dropped %d of %d trajectories longer than max_length=%d tokens", dropped, len(records),
                    codec.max_length)
    return items


def run_sft(model, codec: ChatCodec, records: Sequence[dict], sft_args,
            on_log: Callable[[dict], None] | None = None, peft_config=None,
            resume_from_checkpoint: str | None = None) -> tuple[dict, object]:
    """Train ``model`` on ``records`` with TRL's SFTTrainer (in place; with ``peft_config``, LoRA adapters);
    ``on_log`` receives every log entry; checkpoints (``save_strategy``) are marked complete once whole
    (`checkpoints.complete_checkpoints`), and ``resume_from_checkpoint`` goes on from one. Returns the summary and the
    trainer: its policy is saved by every process (`checkpoints.save_trained`: sharded weights are gathered
    collectively), or read with `checkpoints.trained_model`."""
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import SFTTrainer

    from .checkpoints import complete_checkpoints
    from .trl_setup import without_printer

    class Forward(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if on_log is not None and logs:
                on_log({"stage": "sft", "step": state.global_step, **logs})

    items = encode_records(codec, records)
    if not items:
        raise ValueError("no expert trajectory fits the context: synthesise more or raise max_length")
    trainer = SFTTrainer(model=model, args=sft_args, train_dataset=Dataset.from_dict({"index": range(len(items))}),
                         data_collator=PolicyTokenCollator(items, codec.tokenizer.pad_token_id,
                                                           getattr(codec.processor, "image_token_id", None)),
                         processing_class=codec.processor, callbacks=[Forward(), complete_checkpoints()],
                         peft_config=peft_config)
    without_printer(trainer)
    result = trainer.train(resume_from_checkpoint=resume_from_checkpoint)
    history = [entry for entry in trainer.state.log_history if "loss" in entry]
    return {"train_loss": result.training_loss, "steps": result.global_step, "examples": len(items),
            "loss_first": history[0]["loss"] if history else None,
            "loss_last": history[-1]["loss"] if history else None}, trainer
