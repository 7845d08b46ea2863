"""The tiny policy of the CPU preset and of the tests: a Qwen2.5-VL-architecture model built from a small config with
random weights, and a byte-level BPE tokenizer trained on the run's own text (the tasks' prompts and the expert
trajectories) with Qwen's pre-tokenisation rule and special tokens, so that the real processors and chat format apply
unchanged. The families' own tiny builders (`vista_trainer.families`) use the tokenizer and processors here.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from vista.hf_checkpoints import image_only_processor

from .codec import IM_END, IM_START, IMAGE_PAD, VIDEO_PAD, VISION_END, VISION_START

SPECIAL_TOKENS = ("<|endoftext|>", IM_START, IM_END, VISION_START, VISION_END, IMAGE_PAD, VIDEO_PAD)
# Qwen2's pre-tokenisation rule: one digit per token (numbers are copied digit by digit), words with their space
QWEN_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|"
              r"\s+(?!\S)|\s+")
def chat_template(image: str = "<|vision_start|><|image_pad|><|vision_end|>") -> str:
    """ChatML with each image part written as ``image`` (Qwen-VL's by default; InternVL writes ``<IMG_CONTEXT>``,
    which its processor expands into tiles): what `ChatCodec.render` writes, as a template the evaluator applies."""
    return ("{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
            "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
            "{% for part in message['content'] %}"
            f"{{% if part['type'] == 'image' %}}{image}"
            "{% else %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
            "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


CHAT_TEMPLATE = chat_template()


def train_tokenizer(corpus: Iterable[str], vocab_size: int, extra_special_tokens: dict[str, str] | None = None):
    """A byte-level BPE tokenizer trained on ``corpus`` with Qwen's split rule and special tokens; a model family
    with its own image tokens names them in ``extra_special_tokens`` (attribute name -> token, e.g. InternVL's
    ``{"context_image_token": "<IMG_CONTEXT>", ...}``)."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN_SPLIT), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tokenizer.decoder = decoders.ByteLevel()
    extra = dict(extra_special_tokens or {})
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[*SPECIAL_TOKENS, *extra.values()],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(corpus, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token=IM_END, pad_token="<|endoftext|>",
                                   additional_special_tokens=list(SPECIAL_TOKENS[1:]), extra_special_tokens=extra)
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_processor(tokenizer, min_pixels: int, max_pixels: int):
    """Qwen2.5-VL's processor for images only, on the PIL image processor (`vista.hf_checkpoints`: its video processor
    and the fast image processor need torchvision, which the registry ships as a CUDA build that does not import with
    CPU
    torch)."""
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    image_processor = Qwen2VLImageProcessorPil(min_pixels=min_pixels, max_pixels=max_pixels)
    return image_only_processor("qwen2_5_vl", tokenizer, image_processor, chat_template=CHAT_TEMPLATE)


INTERNVL_TOKENS = {"start_image_token": "<img>", "end_image_token": "</img>", "context_image_token": "<IMG_CONTEXT>",
                   "video_token": "<video>"}


def build_internvl_processor(tokenizer, image_size: int = 448, max_patches: int = 12, image_seq_length: int = 256):
    """InternVL3's processor for images only (`vista.hf_checkpoints`), on the PIL image processor: each image is tiled
    into at most ``max_patches`` squares of ``image_size`` plus a thumbnail, each square ``image_seq_length`` image
    tokens
    between ``<img>`` and ``</img>``. ``tokenizer`` carries `INTERNVL_TOKENS`."""
    from transformers.models.got_ocr2.image_processing_pil_got_ocr2 import GotOcr2ImageProcessorPil

    image_processor = GotOcr2ImageProcessorPil(size={"height": image_size, "width": image_size},
                                               crop_to_patches=True, max_patches=max_patches)
    return image_only_processor("internvl", tokenizer, image_processor,
                                chat_template=chat_template(INTERNVL_TOKENS["context_image_token"]),
                                image_seq_length=image_seq_length)


def build_tiny_model(tokenizer, hidden_size: int, layers: int, heads: int, vision_hidden_size: int,
                     vision_depth: int, seed: int, **shape):
    """A Qwen2.5-VL with random weights, small enough to train on two CPU cores. ``shape`` overrides the sizes the
    small model derives from the others (``kv_heads``, ``intermediate_size``, ``vocab_size``, ``vision_heads``,
    ``vision_intermediate_size``, ``fullatt_blocks``, ``tie_word_embeddings``), so the released models' shapes can be
    built too (`bench/trainer_grpo_step.py`)."""
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    tie = shape.get("tie_word_embeddings", True)
    config = Qwen2_5_VLConfig(
        text_config=dict(vocab_size=shape.get("vocab_size", len(tokenizer)), hidden_size=hidden_size,
                         intermediate_size=shape.get("intermediate_size", hidden_size * 3),
                         num_hidden_layers=layers, num_attention_heads=heads,
                         num_key_value_heads=shape.get("kv_heads", heads),
                         max_position_embeddings=max(8192, shape.get("max_positions", 0)), tie_word_embeddings=tie,
                         rope_parameters={"rope_type": "default", "rope_theta": 10000.0,
                                          "mrope_section": _mrope_section(hidden_size // heads)},
                         bos_token_id=None, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id),
        vision_config=dict(depth=vision_depth, hidden_size=vision_hidden_size,
                           intermediate_size=shape.get("vision_intermediate_size", vision_hidden_size * 2),
                           num_heads=shape.get("vision_heads", max(1, vision_hidden_size // 32)),
                           out_hidden_size=hidden_size,
                           fullatt_block_indexes=shape.get("fullatt_blocks", list(range(vision_depth))),
                           window_size=112),
        tie_word_embeddings=tie, **qwen_vision_token_ids(tokenizer))
    torch.manual_seed(seed)
    return with_turn_tokens(Qwen2_5_VLForConditionalGeneration(config), tokenizer)


def qwen_vision_token_ids(tokenizer) -> dict[str, int]:
    """A Qwen-VL config's image, video and vision start/end token ids, from the tokenizer that carries them."""
    return {name: tokenizer.convert_tokens_to_ids(token) for name, token in
            (("image_token_id", IMAGE_PAD), ("video_token_id", VIDEO_PAD), ("vision_start_token_id", VISION_START),
             ("vision_end_token_id", VISION_END))}


def with_turn_tokens(model, tokenizer):
    """``model`` generating until the tokenizer's end of turn and padding with its pad token."""
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model


def _mrope_section(head_dim: int) -> list[int]:
    """Qwen2.5-VL's split of the rotary half-dimension over (time, height, width), scaled to ``head_dim``."""
    half = head_dim // 2
    h = w = half * 3 // 8
    return [half - h - w, h, w]
