"""The plugin: registration, check_tool on every tool, and the DiagramFormalizer backend through the full tool path
with a tiny random-weight checkpoint."""

from __future__ import annotations

import pytest
import vista
from PIL import Image
from vista import ErrorClass
from vista.checks import check_tool
from vista.testing import registered_plugin, tiny_llava_checkpoint
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
    corpus = [PROMPT, "USER: ASSISTANT: PointLiesOnLine(D,Line(B,C)) Equal(LengthOfLine(A,B),5)"]
    return tiny_llava_checkpoint(tmp_path_factory.mktemp("tiny-formalizer"), corpus, max_positions=1024)


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
