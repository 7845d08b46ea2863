"""Policy families: what differs from one VLM family to the next, one unit per family.

The rest of the trainer is family-blind: the codec writes an image as the processor's placeholder and lets the
processor expand it (`codec.image_placeholder`), collation gives Qwen-VL's image tokens their 3-D rotary positions
where the processor returns ``image_grid_thw``, GRPO hands TRL every image of an episode, vLLM gets one placeholder
per image. What a family adds is declared here:

- ``model_type``: the checkpoint config's, by which `vista.hf_checkpoints.load_processor` builds the family's processor
  for images only (no torchvision) and `checkpoints.load_policy` loads it;
- ``pixel_bounds``: whether the run's ``min_pixels``/``max_pixels`` set its images' size (Qwen-VL resizes to a pixel
  budget; InternVL tiles into squares of its own size);
- ``tiny``: a model of the family's own classes with random weights and a processor, from a tokenizer, small
  enough for two CPU cores (the tests' checkpoints, and a family's first check);
- ``vllm``: whether vLLM's CPU build runs it here (the colocate tests);
- ``extra_tokens``: the special tokens its tokenizer carries beyond Qwen's (the tiny tokenizer is trained with them).

Adding a family: one `Family` with its tiny builder, added to `FAMILIES`, and its model type in
`vista.hf_checkpoints.IMAGE_ONLY_FAMILIES` if its processor needs torchvision; `tests/test_families.py` then runs the
on-policy GRPO tests on it (and `tests/test_vllm.py` where ``vllm`` is true: what its vLLM module imports from
torchvision is served in `vllm_cpu`).

Families: Qwen2.5-VL (the paper's second policy), Qwen3-VL (what most users start from now: the same placeholder
and 3-D rotary positions as Qwen2.5-VL, patches of 16 pixels, interleaved rotary sections, deepstack vision
features), InternVL3 (the paper's headline policy: tiles of 448 pixels, 256 ``<IMG_CONTEXT>`` tokens each),
LLaVA-OneVision (outside both lineages: a SigLIP tower, "anyres" tiles chosen by the image's shape, 5-D pixel
tensors with ``image_sizes``; ChatML like the others, so the codec's turn framing holds for its checkpoints).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from .tiny import (
    CHAT_TEMPLATE,
    INTERNVL_TOKENS,
    build_internvl_processor,
    build_processor,
    build_tiny_model,
    chat_template,
    qwen_vision_token_ids,
    with_turn_tokens,
)


@dataclass(frozen=True)
class Family:
    name: str
    model_type: str
    pixel_bounds: bool
    tiny: Callable[[Any, int], tuple[Any, Any]]  # (tokenizer, seed) -> (model, processor)
    vllm: bool
    extra_tokens: dict[str, str] | None = None  # special tokens the family's tokenizer carries (name -> token)


def tiny_qwen2_5_vl(tokenizer, seed: int = 0):
    return build_tiny_model(tokenizer, 64, 1, 2, 32, 1, seed=seed), build_processor(tokenizer, 4 * 28 * 28,
                                                                                     16 * 28 * 28)


def tiny_qwen3_vl(tokenizer, seed: int = 0):
    """Qwen3-VL's classes at toy sizes: patches of 16 pixels merged 2x2, interleaved rotary sections over (time,
    height, width), one deepstack layer."""
    from transformers import Qwen3VLConfig, Qwen3VLForConditionalGeneration
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil
    from vista.hf_checkpoints import image_only_processor

    config = Qwen3VLConfig(
        text_config=dict(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2, head_dim=32, tie_word_embeddings=True,
                         rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [8, 4, 4],
                                          "mrope_interleaved": True},
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id),
        vision_config=dict(depth=1, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=64,
                           patch_size=16, spatial_merge_size=2, temporal_patch_size=2, num_position_embeddings=64,
                           deepstack_visual_indexes=[0]),
        tie_word_embeddings=True, **qwen_vision_token_ids(tokenizer))
    torch.manual_seed(seed)
    model = with_turn_tokens(Qwen3VLForConditionalGeneration(config), tokenizer)
    image_processor = Qwen2VLImageProcessorPil(min_pixels=4 * 32 * 32, max_pixels=16 * 32 * 32, patch_size=16,
                                               merge_size=2)
    return model, image_only_processor("qwen3_vl", tokenizer, image_processor, chat_template=CHAT_TEMPLATE)


def tiny_internvl(tokenizer, seed: int = 0):
    """InternVL's classes at toy sizes: tiles of 28 pixels (at most 2 and a thumbnail), one token each."""
    from transformers import InternVLConfig, InternVLForConditionalGeneration

    processor = build_internvl_processor(tokenizer, image_size=28, max_patches=2, image_seq_length=1)
    config = InternVLConfig(
        vision_config=dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                           image_size=[28, 28], patch_size=[14, 14]),
        # heads of 32 dimensions: vLLM's CPU attention takes none smaller
        text_config=dict(model_type="qwen2", vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128,
                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id),
        image_token_id=tokenizer.context_image_token_id, downsample_ratio=0.5, image_seq_length=1)
    torch.manual_seed(seed)
    return with_turn_tokens(InternVLForConditionalGeneration(config), tokenizer), processor


LLAVA_ONEVISION_TOKENS = {"image_token": "<image>", "video_token": "<video>"}


def tiny_llava_onevision(tokenizer, seed: int = 0):
    """LLaVA-OneVision's classes at toy sizes: a SigLIP tower on tiles of 28 pixels (a base view and up to 2x2 tiles
    chosen by the image's shape, LLaVA's "anyres"), each tile 2x2 patches, unpadded to the image's aspect ratio with
    a newline token per row; a Qwen2 language model, as in the released checkpoints."""
    from transformers import LlavaOnevisionConfig, LlavaOnevisionForConditionalGeneration
    from transformers.models.llava_onevision.image_processing_pil_llava_onevision import (
        LlavaOnevisionImageProcessorPil,
    )
    from vista.hf_checkpoints import image_only_processor

    grid = [[28, 28], [28, 56], [56, 28], [56, 56]]
    image_processor = LlavaOnevisionImageProcessorPil(size={"height": 28, "width": 28},
                                                      crop_size={"height": 28, "width": 28},
                                                      image_grid_pinpoints=grid)
    processor = image_only_processor("llava_onevision", tokenizer, image_processor,
                                     chat_template=chat_template(LLAVA_ONEVISION_TOKENS["image_token"]),
                                     num_image_tokens=4, vision_feature_select_strategy="full",
                                     vision_aspect_ratio="anyres_max_9")
    config = LlavaOnevisionConfig(
        # heads of 32 dimensions: vLLM's CPU attention takes none smaller
        text_config=dict(model_type="qwen2", vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128,
                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id),
        vision_config=dict(model_type="siglip_vision_model", hidden_size=32, intermediate_size=64,
                           num_hidden_layers=1, num_attention_heads=2, image_size=28, patch_size=14),
        image_token_id=processor.image_token_id, video_token_id=processor.video_token_id,
        vision_feature_select_strategy="full", vision_feature_layer=-1, image_grid_pinpoints=grid,
        vision_aspect_ratio="anyres_max_9", tie_word_embeddings=True)
    torch.manual_seed(seed)
    return with_turn_tokens(LlavaOnevisionForConditionalGeneration(config), tokenizer), processor


FAMILIES = {
    "qwen2.5-vl": Family("qwen2.5-vl", "qwen2_5_vl", pixel_bounds=True, tiny=tiny_qwen2_5_vl, vllm=True),
    "qwen3-vl": Family("qwen3-vl", "qwen3_vl", pixel_bounds=True, tiny=tiny_qwen3_vl, vllm=True),
    "internvl3": Family("internvl3", "internvl", pixel_bounds=False, tiny=tiny_internvl, vllm=True,
                        extra_tokens=INTERNVL_TOKENS),
    "llava-onevision": Family("llava-onevision", "llava_onevision", pixel_bounds=False, tiny=tiny_llava_onevision,
                              vllm=True, extra_tokens=LLAVA_ONEVISION_TOKENS),
}


def family_of(model_type: str) -> Family | None:
    """The family of a checkpoint's ``model_type`` (None: not one of `FAMILIES`; a text-only policy, say)."""
    return next((f for f in FAMILIES.values() if f.model_type == model_type), None)
