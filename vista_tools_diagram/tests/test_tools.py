"""The plugin: registration, check_tool on every tool, and the DiagramFormalizer backend through the full tool path
with a tiny random-weight checkpoint."""

from __future__ import annotations

import pytest
import vista
from PIL import Image
from vista import ErrorClass
from vista.checks import check_tool
from vista.testing import registered_plugin
from vista_tools_diagram.model import ENV_VAR, PROMPT, predicates_in
from vista_tools_diagram.tools import TOOLS, DiagramFormalizerModel

import vista_tools_diagram

CATALOGUE = {  # docs/tool-catalogue.md: names and argument names are the contract with oracles and experts
    "geometry_text_to_cdl": {"text"}, "diagram_primitives": {"image"}, "geometry_formalize": {"image", "text"},
    "geometry_solve": {"constraints", "goal"}, "diagram_formalizer_model": {"image", "text"},
}
IMAGE = Image.new("RGB", (48, 40), "white")


def test_plugin_registers_the_catalogue_tools():
    with registered_plugin(vista_tools_diagram, name="diagram") as registry:
        tools = {name: tool for name, tool in registry.tools.items() if tool.family == "diagram"}
    assert set(tools) == set(CATALOGUE)
    for name, arguments in CATALOGUE.items():
        assert set(tools[name].argument_schema()["properties"]) == arguments


@pytest.mark.parametrize("tool_class", TOOLS, ids=lambda t: t.name)
def test_check_tool(tool_class, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert check_tool(tool_class()) == []


def test_formalizer_without_weights_says_how_to_provide_them(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    result = vista.call_tool("diagram_formalizer_model", {"text": "Find AC."}, [IMAGE],
                             tools={"diagram_formalizer_model": DiagramFormalizerModel()})
    assert result.error.error_class is ErrorClass.TOOL_FAILURE and result.error.code == "unavailable"
    assert ENV_VAR in result.error.message


def test_predicates_are_mined_from_model_text():
    raw = ("ConsCDL: PointLiesOnLine(D, Line(B, C)), Equal(LengthOfLine(AB),5)\nImgCDL: Equal(MeasureOfAngle(A,B,C),40)"
           " Parallel(Line(A,B) Rhombus(A,B,C,D) Value(LengthOfLine(A,C))")
    usable, rejected, goal = predicates_in(raw)
    # the unclosed Parallel( is rejected and the complete Line(A,B) inside it kept
    assert usable == ["PointLiesOnLine(D,Line(B,C))", "Equal(LengthOfLine(AB),5)", "Equal(MeasureOfAngle(A,B,C),40)",
                      "Line(A,B)"]
    assert goal == "LengthOfLine(A,C)"
    assert any(r.startswith("Parallel(") for r in rejected) and "Rhombus(A,B,C,D)" in rejected


@pytest.fixture(scope="module")
def tiny_formalizer(tmp_path_factory):
    """A real image-text-to-text checkpoint (Llava architecture, random weights) with an offline tokenizer."""
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
    bpe.train_from_iterator([PROMPT, "USER: ASSISTANT: PointLiesOnLine(D,Line(B,C)) Equal(LengthOfLine(A,B),5)"],
                            trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                        pad_token="<pad>", extra_special_tokens={"image_token": "<image>"})
    processor = LlavaProcessor(
        image_processor=CLIPImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}),
        tokenizer=tokenizer, patch_size=8, vision_feature_select_strategy="default", image_token="<image>",
        num_additional_image_tokens=1)
    config = LlavaConfig(
        text_config=LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=1024,
                                pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
                                eos_token_id=tokenizer.eos_token_id),
        vision_config=CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                       num_attention_heads=2, image_size=32, patch_size=8, projection_dim=32),
        image_token_index=tokenizer.convert_tokens_to_ids("<image>"), vision_feature_select_strategy="default",
        vision_feature_layer=-1)
    torch.manual_seed(0)
    model = LlavaForConditionalGeneration(config).eval()
    path = tmp_path_factory.mktemp("tiny-formalizer")
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return path, model, processor


def test_formalizer_model_through_the_tool_path(tiny_formalizer, monkeypatch):
    import torch
    from vista.weights import _loaded

    path, model, processor = tiny_formalizer
    monkeypatch.setenv(ENV_VAR, str(path))
    tool = DiagramFormalizerModel(max_new_tokens=24)
    text = "In triangle ABC, AB = 5. Find AC."
    result = vista.call_tool("diagram_formalizer_model", {"text": text}, [IMAGE], tools={tool.name: tool})

    inputs = processor(images=IMAGE, text=tool.backend.prompt(processor, text), return_tensors="pt")
    with torch.inference_mode():
        expected = model.generate(**inputs, max_new_tokens=24, do_sample=False)
    reference = processor.tokenizer.decode(expected[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
    usable, _, _ = predicates_in(reference)
    if usable:  # random weights rarely write valid CDL; when they do, it must come through
        assert result.ok and result.data["raw"] == reference and result.data["constraints"] == usable
        assert result.data["goal"] == "LengthOfLine(A,C)", result.data
    else:  # garbage from the model is the tool's failure (E5), reported with what the model wrote
        assert result.error.error_class is ErrorClass.E5 and result.error.code == "no_cdl_in_model_output"
        assert repr(reference[:200]) in result.error.message
    assert ("vista_tools_diagram.formalizer", str(path)) in _loaded  # loaded once, kept for the next call
