"""Helpers for testing plugins: register an in-memory plugin for one test, and restore the registry after.

    from vista.testing import registered_plugin

    def test_my_tool():
        with registered_plugin(my_plugin_module) as registry:
            assert "my_tool" in registry.tools
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from . import plugins


@contextmanager
def registered_plugin(plugin: object, name: str = "test_plugin", *, select: str | None = "none",
                      strict: bool = True) -> Iterator[plugins.Registry]:
    """Load plugins with ``plugin`` added under ``name`` (by default alone with the built-ins) for the duration of
    the block; the process-wide registry is restored afterwards."""
    previous = plugins._registry
    try:
        yield plugins.load_plugins(select, strict=strict, plugins=[(name, plugin)])
    finally:
        plugins._registry = previous
        if previous is not None:
            for listener in plugins._on_load:
                listener(previous)


def tiny_llava_checkpoint(directory, corpus: list[str], *, max_positions: int = 1024, seed: int = 0):
    """Save a tiny LLaVA-architecture VLM (random weights) with an offline processor to ``directory``.

    The tokenizer is a byte-level BPE trained on ``corpus`` (the prompts and answers a test uses), so nothing is
    downloaded. Model-backed tools that load LLaVA-format weights (math solvers, diagram formaliser) test their full
    tool path with it. Returns ``(directory, model, processor)``.
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import (
        CLIPImageProcessorPil,
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
        PreTrainedTokenizerFast,
    )

    specials = ["<unk>", "<s>", "</s>", "<pad>", "<image>"]
    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator(corpus, trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                        pad_token="<pad>", extra_special_tokens={"image_token": "<image>"})
    processor = LlavaProcessor(
        image_processor=CLIPImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}),
        tokenizer=tokenizer, patch_size=8, vision_feature_select_strategy="default", image_token="<image>",
        num_additional_image_tokens=1)
    config = LlavaConfig(
        text_config=LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=max_positions,
                                pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
                                eos_token_id=tokenizer.eos_token_id),
        vision_config=CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                       num_attention_heads=2, image_size=32, patch_size=8, projection_dim=32),
        image_token_index=tokenizer.convert_tokens_to_ids("<image>"), vision_feature_select_strategy="default",
        vision_feature_layer=-1)
    torch.manual_seed(seed)
    model = LlavaForConditionalGeneration(config).eval()
    model.save_pretrained(directory)
    processor.save_pretrained(directory)
    return directory, model, processor
