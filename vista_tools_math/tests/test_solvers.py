"""g_llava_solve, multimath_solve, math_vlm: a tiny random Llava checkpoint through the full tool path, and the
endpoint backend against a real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions shape."""

import asyncio
import base64
import io

import pytest
import vista
from PIL import Image
from vista import ErrorClass
from vista.checks import check_tool
from vista.execution import arun_validated
from vista.testing import tiny_llava_checkpoint
from vista_tools_math.solvers import SOLVE_PROMPT, GLlavaSolve, MathVLM, MultimathSolve, extract_answer

IMAGE = Image.new("RGB", (40, 30), "white")
SERVED = ("mathvlm-test", "G-LLaVA-7B")
API_KEY = "test-key"


@pytest.mark.parametrize("text, answer", [
    ("so the area is 6.\nAnswer: 6", "6"),
    ("The final answer is 3/4.", "3/4"),
    ("thus \\boxed{\\frac{1}{2}} is it", "\\frac{1}{2}"),
    ("<think>hmm</think><answer>B</answer>", "B"),
    ("first line\n\n  42  \n", "42"),
    ("", ""),
])
def test_extract_answer(text, answer):
    assert extract_answer(text) == answer


def area(body: dict) -> str:
    """Answers like a served math VLM would, deterministically: the area of the image it was sent."""
    parts = body["messages"][0]["content"]
    url = next(p["image_url"]["url"] for p in parts if p["type"] == "image_url")
    text = next(p["text"] for p in parts if p["type"] == "text")
    header, encoded = url.split(",", 1)
    assert header == "data:image/png;base64"
    image = Image.open(io.BytesIO(base64.b64decode(encoded)))
    return (f"[{body['model']}] The figure is {image.width} by {image.height}. You asked: {text}\n"
            f"So the area is \\boxed{{{image.width * image.height}}}.")


@pytest.fixture
def server(chat_server):
    """A served math VLM that wants a key and lists the models it serves."""
    return chat_server(area, served=SERVED, api_key=API_KEY)


def test_math_vlm_through_a_real_endpoint(server):
    tools = {"math_vlm": MathVLM(endpoint_url=server.url, api_key=API_KEY)}
    result = vista.call_tool("math_vlm", {"question": "What is the area?", "model": "mathvlm-test"}, [IMAGE],
                             tools=tools)
    assert result.ok, result.error
    assert result.data["answer"] == "1200"
    assert "You asked: " + SOLVE_PROMPT.format(question="What is the area?") in result.data["solution"]
    sent = server.requests[-1].body
    assert sent["model"] == "mathvlm-test" and sent["temperature"] == 0.0


def test_math_vlm_async_path(server):
    tool = MathVLM(endpoint_url=server.url, api_key=API_KEY, model="mathvlm-test")
    args = tool.parse_arguments({"question": "area?"})
    result = asyncio.run(arun_validated(tool, args, vista.ToolContext([Image.new("RGB", (5, 7))])))
    assert result.ok, result.error
    assert result.data["answer"] == "35"


def test_math_vlm_unknown_model_is_e4_listing_the_served_ones(server):
    tools = {"math_vlm": MathVLM(endpoint_url=server.url, api_key=API_KEY)}
    result = vista.call_tool("math_vlm", {"question": "q", "model": "gpt-5"}, [IMAGE], tools=tools)
    assert result.error.error_class is ErrorClass.E4
    assert result.error.argument == "model"
    assert "served models: mathvlm-test, G-LLaVA-7B" in result.error.message


def test_endpoint_failures_say_what_to_fix(server):
    wrong_key = {"math_vlm": MathVLM(endpoint_url=server.url, api_key="wrong", model="mathvlm-test")}
    result = vista.call_tool("math_vlm", {"question": "q"}, [IMAGE], tools=wrong_key)
    assert result.error.error_class is ErrorClass.TOOL_FAILURE and result.error.code == "unavailable"
    assert "refused the credentials (HTTP 401); set VISTA_MATH_VLM_API_KEY" in result.error.message

    closed = {"math_vlm": MathVLM(endpoint_url="http://127.0.0.1:9/v1", model="m")}
    result = vista.call_tool("math_vlm", {"question": "q"}, [IMAGE], tools=closed)
    assert result.error.code == "unavailable" and "is unreachable" in result.error.message

    unset = {"math_vlm": MathVLM()}
    result = vista.call_tool("math_vlm", {"question": "q"}, [IMAGE], tools=unset)
    assert result.error.code == "unavailable" and "VISTA_MATH_VLM_URL" in result.error.message


def test_g_llava_falls_back_to_its_endpoint(server, monkeypatch):
    monkeypatch.delenv("VISTA_WEIGHTS_G_LLAVA", raising=False)
    monkeypatch.delenv("VISTA_G_LLAVA_API_KEY", raising=False)
    monkeypatch.setenv("VISTA_G_LLAVA_URL", server.url)
    monkeypatch.setenv("VISTA_MATH_VLM_API_KEY", API_KEY)
    result = vista.call_tool("g_llava_solve", {"question": "area?"}, [IMAGE], tools={"g_llava_solve": GLlavaSolve()})
    assert result.ok, result.error
    assert result.data["solution"].startswith("[G-LLaVA-7B]")
    assert result.data["answer"] == "1200"
    # its own key variable comes before the math VLMs' shared one, as its URL does
    monkeypatch.setenv("VISTA_G_LLAVA_API_KEY", "wrong")
    result = vista.call_tool("g_llava_solve", {"question": "area?"}, [IMAGE], tools={"g_llava_solve": GLlavaSolve()})
    assert "refused the credentials (HTTP 401); set VISTA_G_LLAVA_API_KEY" in result.error.message


@pytest.mark.parametrize("tool, names", [
    (GLlavaSolve, ("VISTA_WEIGHTS_G_LLAVA", "VISTA_G_LLAVA_URL")),
    (MultimathSolve, ("VISTA_WEIGHTS_MULTIMATH", "VISTA_MULTIMATH_URL")),
])
def test_named_solvers_without_weights_or_endpoint(monkeypatch, tool, names):
    for name in (*names, "VISTA_MATH_VLM_URL"):
        monkeypatch.delenv(name, raising=False)
    result = vista.call_tool(tool.name, {"question": "q"}, [IMAGE], tools={tool.name: tool()})
    assert result.error.error_class is ErrorClass.TOOL_FAILURE and result.error.code == "unavailable"
    for name in names:
        assert name in result.error.message


@pytest.fixture(scope="module")
def tiny_llava(tmp_path_factory):
    corpus = [SOLVE_PROMPT.format(question="What is the area of the triangle?"),
              "USER: ASSISTANT: the area is 6. Answer: 6"]
    return tiny_llava_checkpoint(tmp_path_factory.mktemp("tiny-llava"), corpus, max_positions=512)


def test_g_llava_local_weights_through_the_tool(tiny_llava):
    import torch

    path, model, processor = tiny_llava
    tools = {"g_llava_solve": GLlavaSolve(weights=path, max_new_tokens=12)}
    question = "What is the area of the triangle?"
    result = vista.call_tool("g_llava_solve", {"question": question}, [IMAGE], tools=tools)
    assert result.ok, result.error

    prompt = f"USER: <image>\n{SOLVE_PROMPT.format(question=question)} ASSISTANT:"
    inputs = processor(images=IMAGE, text=prompt, return_tensors="pt")
    assert (inputs["input_ids"] == model.config.image_token_index).sum() == 16  # (32/8)^2 patches, CLS dropped
    with torch.inference_mode():
        expected = model.generate(**inputs, max_new_tokens=12, do_sample=False)
    reference = processor.tokenizer.decode(expected[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
    assert result.data["solution"] == reference
    assert result.data["answer"] == extract_answer(reference)


def test_multimath_loads_its_weights_once_from_the_environment(tiny_llava, monkeypatch):
    from vista.weights import _loaded

    path, _, _ = tiny_llava
    monkeypatch.setenv("VISTA_WEIGHTS_MULTIMATH", str(path))
    tools = {"multimath_solve": MultimathSolve(max_new_tokens=4)}
    first = vista.call_tool("multimath_solve", {"question": "x?"}, [IMAGE], tools=tools)
    assert first.ok, first.error
    key = ("vista_tools_math.llava", str(path))
    loaded = _loaded[key]
    second = vista.call_tool("multimath_solve", {"question": "x?"}, [Image.new("RGB", (9, 9))], tools=tools)
    assert second.ok and _loaded[key] is loaded


def test_local_batch_is_one_generate_with_the_same_answers(tiny_llava):
    from vista.execution import run_validated_batch

    path, _, _ = tiny_llava
    tool = GLlavaSolve(weights=path, max_new_tokens=6)
    images = [Image.new("RGB", (40, 30), "white"), Image.new("RGB", (30, 40), (200, 30, 30))]
    questions = ["What is the area?", "Find x."]  # different lengths: the batch is left-padded
    batch = [(tool.parse_arguments({"question": q}), vista.ToolContext([im])) for q, im in zip(questions, images)]
    batched = run_validated_batch(tool, batch)
    alone = [vista.call_tool("g_llava_solve", {"question": q}, [im], tools={"g_llava_solve": tool})
             for q, im in zip(questions, images)]
    assert tool.supports_batching
    assert all(r.ok for r in batched), [r.error for r in batched]
    assert [r.data["solution"] for r in batched] == [r.data["solution"] for r in alone]


def test_non_llava_weights_say_how_to_convert(tmp_path):
    from transformers import LlamaConfig

    LlamaConfig(vocab_size=10, hidden_size=8, num_hidden_layers=1, num_attention_heads=1).save_pretrained(tmp_path)
    tools = {"g_llava_solve": GLlavaSolve(weights=tmp_path)}
    result = vista.call_tool("g_llava_solve", {"question": "q"}, [IMAGE], tools=tools)
    assert result.error.code == "unavailable"
    assert "'llama' checkpoint, not the Hugging Face Llava format" in result.error.message
    assert "convert_llava_weights_to_hf.py" in result.error.message


@pytest.mark.parametrize("tool", [GLlavaSolve(), MultimathSolve(), MathVLM()])
def test_check_tool(tool):
    check_tool(tool)
