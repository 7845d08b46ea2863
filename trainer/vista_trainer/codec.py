"""How a conversation becomes token ids with the policy's own tokens marked, and how a batch is padded.

Tokenisation is done message by message: every message starts with the special token ``<|im_start|>``, so the
concatenation equals tokenising the whole conversation, and the policy's tokens (assistant content and its
``<|im_end|>``) are known exactly, without offsets or chat-template generation markers. Each image is written as
the processor's placeholder (`image_placeholder`) and the processor expands it, returning the image tensors the
family needs (`Encoded.image_inputs`); a text-only policy (its "processor" is its tokenizer) reads an image as the
text `TEXT_IMAGE_PLACEHOLDER`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from PIL import Image
from vista.trajectory_log import to_chat

IM_START, IM_END = "<|im_start|>", "<|im_end|>"
VISION_START, VISION_END, IMAGE_PAD, VIDEO_PAD = "<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"


def image_placeholder(processor) -> str:
    """What one image is written as in a message before the processor expands it into image tokens: Qwen2/2.5-VL
    wrap their pad token in vision start/end tokens; InternVL (and the LLaVA family) write the processor's image token
    alone and the processor adds the start/end tokens around its expansion."""
    if is_text_only(processor):
        return TEXT_IMAGE_PLACEHOLDER
    token = getattr(processor, "image_token", IMAGE_PAD)
    return f"{VISION_START}{IMAGE_PAD}{VISION_END}" if token == IMAGE_PAD else token


# what a text-only policy reads where an image is (as `vista eval --policy hf:` writes it for a text-only model): the
# environment names each image just before it ("image_0:"), so the policy can pass that name to a tool
TEXT_IMAGE_PLACEHOLDER = "[image]"


def is_text_only(processor) -> bool:
    """Whether ``processor`` is a tokenizer alone (a text-only causal LM), not a VLM processor."""
    return not hasattr(processor, "image_processor")


def tokenizer_of(processor):
    """The tokenizer of a VLM processor, or the tokenizer itself for a text-only policy."""
    return processor if is_text_only(processor) else processor.tokenizer


# what a processor returns beside the image tensors: the text's, and bookkeeping of one call (LLaVA-OneVision's
# images per prompt, InternVL's tiles per image) that the model's forward does not take or vista computes itself
NOT_IMAGE_INPUTS = frozenset({"input_ids", "attention_mask", "token_type_ids", "mm_token_type_ids",
                              "batch_num_images", "num_patches"})


def join_image_inputs(parts: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The image tensors of several processor calls as one call would return them: each key concatenated along its
    first dimension (images, tiles or patch rows), trailing dimensions zero-padded to the largest (LLaVA-OneVision's
    tiles per image vary from call to call; its model reads each image's own count from ``image_sizes``)."""
    joined: dict[str, torch.Tensor] = {}
    for key in dict.fromkeys(k for part in parts for k in part):
        tensors = [part[key] for part in parts if key in part]
        shape = [max(t.shape[d] for t in tensors) for d in range(1, tensors[0].dim())]
        padded = []
        for t in tensors:
            pad = [x for d in reversed(range(1, t.dim())) for x in (0, shape[d - 1] - t.shape[d])]
            padded.append(torch.nn.functional.pad(t, pad) if any(pad) else t)
        joined[key] = torch.cat(padded)
    return joined


@dataclass
class Encoded:
    """One conversation as model inputs: ``policy_mask`` is 1 on the policy's own tokens (what is trained);
    ``image_inputs`` the image tensors the processor returned for its images (``pixel_values``, and the family's
    per-image companions: Qwen-VL's ``image_grid_thw``, LLaVA-OneVision's ``image_sizes``), empty without images."""

    input_ids: list[int]
    policy_mask: list[int]
    image_inputs: dict[str, torch.Tensor] = field(default_factory=dict)

    @property
    def pixel_values(self) -> torch.Tensor | None:
        return self.image_inputs.get("pixel_values")

    @property
    def image_grid_thw(self) -> torch.Tensor | None:
        return self.image_inputs.get("image_grid_thw")


class ChatCodec:
    """Turns chat messages (with ``{"type": "image"}`` parts and their images in order) into `Encoded`. For a
    text-only policy (``processor`` is a tokenizer) each image part is `TEXT_IMAGE_PLACEHOLDER` and no pixels come
    back."""

    def __init__(self, processor, max_length: int):
        self.processor = processor
        self.tokenizer = tokenizer_of(processor)
        self.text_only = is_text_only(processor)  # images become text placeholders, never pixels
        self.max_length = max_length

    def render(self, message: dict) -> str:
        parts = message["content"]
        placeholder = image_placeholder(self.processor)
        body = parts if isinstance(parts, str) else "".join(
            placeholder if p["type"] == "image" else p.get("text") or "" for p in parts)
        return f"{IM_START}{message['role']}\n{body}{IM_END}\n"

    def encode(self, messages: Sequence[dict], images: Sequence[Image.Image], *,
               generation_prompt: bool = False) -> Encoded:
        ids: list[int] = []
        mask: list[int] = []
        image_parts = []
        cursor = 0
        for message in messages:
            count = sum(1 for p in message["content"] if not isinstance(p, str) and p["type"] == "image") \
                if not isinstance(message["content"], str) else 0
            piece = self._tokenize(self.render(message), images[cursor:cursor + count])
            cursor += count
            if piece["image_inputs"]:
                image_parts.append(piece["image_inputs"])
            if message["role"] == "assistant":
                head = len(self.tokenizer(f"{IM_START}assistant\n")["input_ids"])
                # the policy's tokens: its text and the <|im_end|> that ends its turn, not the trailing newline
                mask += [0] * head + [1] * (len(piece["input_ids"]) - head - 1) + [0]
            else:
                mask += [0] * len(piece["input_ids"])
            ids += piece["input_ids"]
        if generation_prompt:
            head = self.tokenizer(f"{IM_START}assistant\n")["input_ids"]
            ids += head
            mask += [0] * len(head)
        return Encoded(ids, mask, join_image_inputs(image_parts))

    def _tokenize(self, text: str, images: Sequence[Image.Image]) -> dict:
        if not images or self.text_only:
            return {"input_ids": self.tokenizer(text)["input_ids"], "image_inputs": {}}
        out = self.processor(text=[text], images=[rgb_image(i) for i in images], return_tensors="pt")
        return {"input_ids": out["input_ids"][0].tolist(),
                "image_inputs": {k: v for k, v in out.items() if k not in NOT_IMAGE_INPUTS}}

    def encode_trajectory_record(self, record: dict) -> Encoded:
        """A TRL-style ``{"messages", "images"}`` record (`TrajectoryLog.to_sft_record`)."""
        return self.encode(record["messages"], record["images"])

    def encode_observation(self, observation: dict) -> tuple[Encoded, list[Image.Image]]:
        chat = to_chat(observation["messages"], observation["images"])
        return self.encode(chat["messages"], chat["images"], generation_prompt=True), chat["images"]


def rgb_image(image: Image.Image) -> Image.Image:
    return image if image.mode == "RGB" else image.convert("RGB")


def collate(batch: Sequence[Encoded], pad_id: int, *, left: bool = False,
            image_token_id: int | None = None) -> dict[str, torch.Tensor]:
    """Pad a batch; ``labels`` are the input ids on the policy's tokens and -100 elsewhere. With Qwen-VL's image
    grids and ``image_token_id``, ``mm_token_type_ids`` marks the image tokens, so the model gives them 3-D rotary
    positions (as TRL's GRPO forward pass and generation do)."""
    width = max(len(e.input_ids) for e in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(batch), width), dtype=torch.long)
    policy = torch.zeros((len(batch), width), dtype=torch.long)
    for row, e in enumerate(batch):
        n = len(e.input_ids)
        span = slice(width - n, width) if left else slice(0, n)
        ids[row, span] = torch.tensor(e.input_ids)
        attention[row, span] = 1
        policy[row, span] = torch.tensor(e.policy_mask)
    out = {"input_ids": ids, "attention_mask": attention, "policy_mask": policy,
           "labels": torch.where(policy.bool(), ids, torch.full_like(ids, -100))}
    out.update(join_image_inputs([e.image_inputs for e in batch if e.image_inputs]))
    if "image_grid_thw" in out and image_token_id is not None:  # Qwen-VL's per-image patch grid
        out["mm_token_type_ids"] = (ids == image_token_id).long() * attention
    return out
