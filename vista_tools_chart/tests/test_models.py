"""DePlot and UniChart through the full tool path, with tiny random models of the real classes saved to tmp_path
(processors and tokenizers built offline); ChartMoE against a real HTTP server speaking chat completions."""

from __future__ import annotations

import pytest
from PIL import Image
from vista import ErrorClass, call_tool
from vista.checks import check_tool
from vista.weights import loaded_keys
from vista_tools_chart.models import ChatEndpoint
from vista_tools_chart.tables import parse_linearised
from vista_tools_chart.tools import ChartCaption, ChartModelQa, ChartToTable

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

PIECES = ["▁", "▁TITLE", "▁|", "<0x0A>", "▁Year", "▁Sales", "▁2020", "▁2021", "▁12", "▁15"] + \
    [f"▁{c}" for c in "abcdefghij"] + list("0123456789.")


def _chart() -> Image.Image:
    image = Image.new("RGB", (96, 64), "white")
    image.paste((31, 119, 180), (20, 20, 40, 60))
    return image


@pytest.fixture(scope="module")
def deplot_dir(tmp_path_factory):
    """A tiny Pix2Struct (DePlot's classes and processor) with random weights, saved like a hub checkpoint."""
    path = tmp_path_factory.mktemp("deplot")
    tokenizer = transformers.T5Tokenizer(vocab=[("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
                                         + [(p, -float(i)) for i, p in enumerate(PIECES)], extra_ids=0)
    image_processor = transformers.Pix2StructImageProcessor(max_patches=16, is_vqa=True,
                                                            patch_size={"height": 16, "width": 16})
    transformers.Pix2StructProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(path)
    config = transformers.Pix2StructConfig(
        text_config={"vocab_size": len(tokenizer), "hidden_size": 32, "d_kv": 8, "d_ff": 64, "num_layers": 1,
                     "num_heads": 4, "pad_token_id": 0, "eos_token_id": 1, "decoder_start_token_id": 0},
        vision_config={"hidden_size": 32, "patch_embed_hidden_size": 768, "d_ff": 64, "d_kv": 8,
                       "num_attention_heads": 4, "num_hidden_layers": 1},
        is_vqa=True, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
    torch.manual_seed(0)
    model = transformers.Pix2StructForConditionalGeneration(config)
    model.generation_config.max_new_tokens = 24  # random weights never stop by themselves
    model.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def unichart_dir(tmp_path_factory):
    """A tiny UniChart: Donut-Swin encoder + MBart decoder in a VisionEncoderDecoderModel, with its task tokens."""
    path = tmp_path_factory.mktemp("unichart")
    tokenizer = transformers.XLMRobertaTokenizer(vocab=[("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
                                                 + [(p, -float(i)) for i, p in enumerate(PIECES)] + [("<mask>", 0.0)])
    tokenizer.add_tokens(["<extract_data_table>", "<summarize_chart>", "<s_answer>"], special_tokens=False)
    image_processor = transformers.DonutImageProcessor(size={"height": 64, "width": 64}, do_align_long_axis=False)
    transformers.DonutProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(path)
    encoder = transformers.DonutSwinConfig(image_size=64, patch_size=4, embed_dim=16, depths=[1, 1],
                                           num_heads=[2, 2], window_size=4)
    decoder = transformers.MBartConfig(vocab_size=len(tokenizer), d_model=32, decoder_layers=1, encoder_layers=1,
                                       decoder_attention_heads=2, encoder_attention_heads=2, decoder_ffn_dim=64,
                                       encoder_ffn_dim=64, max_position_embeddings=128, is_decoder=True,
                                       add_cross_attention=True, pad_token_id=tokenizer.pad_token_id,
                                       bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
    config = transformers.VisionEncoderDecoderConfig.from_encoder_decoder_configs(encoder, decoder)
    config.decoder_start_token_id = tokenizer.bos_token_id
    config.pad_token_id = tokenizer.pad_token_id
    config.eos_token_id = tokenizer.eos_token_id
    torch.manual_seed(0)
    model = transformers.VisionEncoderDecoderModel(config=config)
    model.generation_config.max_new_tokens = 24
    model.save_pretrained(path)
    return path


def test_deplot_backend_runs_the_real_model_classes(deplot_dir, monkeypatch):
    monkeypatch.setenv("VISTA_WEIGHTS_DEPLOT", str(deplot_dir))
    tool = ChartToTable()
    result = call_tool("chart_to_table", {"backend": "deplot"}, [_chart()], tools={tool.name: tool})
    assert result.ok, result.error
    assert result.data["backend"] == "deplot" and result.data["header"][0] == "label"
    assert ("deplot", str(deplot_dir)) in loaded_keys()
    check_tool(tool, _chart())


def test_unichart_backend_runs_the_real_model_classes(unichart_dir, monkeypatch):
    monkeypatch.setenv("VISTA_WEIGHTS_UNICHART", str(unichart_dir))
    tool = ChartToTable()
    result = call_tool("chart_to_table", {"backend": "unichart"}, [_chart()], tools={tool.name: tool})
    assert result.ok, result.error
    assert ("unichart", str(unichart_dir)) in loaded_keys()
    caption = ChartCaption()
    result = call_tool("chart_caption", {"backend": "unichart"}, [_chart()], tools={caption.name: caption})
    assert result.ok, result.error
    assert isinstance(result.data["caption"], str)


def test_missing_weights_say_which_and_how(monkeypatch):
    monkeypatch.setenv("VISTA_WEIGHTS_DEPLOT", "nobody/deplot-not-in-the-cache")
    tool = ChartToTable()
    result = call_tool("chart_to_table", {"backend": "deplot"}, [_chart()], tools={tool.name: tool})
    assert result.error.error_class is ErrorClass.TOOL_FAILURE and result.error.code == "unavailable"
    assert "VISTA_WEIGHTS_DEPLOT" in result.error.message


def test_parse_deplot_linearised_output():
    text = "TITLE | Sales by year <0x0A> Year | Sales | Cost <0x0A> 2020 | 12.5 | 3 <0x0A> 2021 | 1,500 | 4%"
    table = parse_linearised(text)
    assert table == {"title": "Sales by year", "header": ["label", "Sales", "Cost"],
                     "rows": [["2020", 12.5, 3.0], ["2021", 1500.0, 4.0]]}
    assert parse_linearised("A | 3 <0x0A> B | 4") == {"title": "", "header": ["label", "series 1"],
                                                       "rows": [["A", 3.0], ["B", 4.0]]}


def chart_model(body: dict) -> str:
    """Answers like a served chart model: a table, a description, or an answer, by what it was asked."""
    question = body["messages"][0]["content"][1]["text"]
    if "data table" in question:
        return ("TITLE | Visitors\n| Month | Online | Retail |\n|---|---|---|\n| Jan | 120 | 300 |\n"
                "| Feb | 180 | 280 |")
    if "Describe" in question:
        return "A line chart of visitors."
    return "Feb"


@pytest.fixture
def server(chat_server):
    return chat_server(chart_model)


def test_chartmoe_table_through_an_openai_compatible_server(server, monkeypatch):
    monkeypatch.setenv("VISTA_CHARTMOE_URL", server.url)
    monkeypatch.setenv("VISTA_CHARTMOE_MODEL", "chartmoe-test")
    tool = ChartToTable()
    result = call_tool("chart_to_table", {"backend": "chartmoe"}, [_chart()], tools={tool.name: tool})
    assert result.ok, result.error
    assert result.data["header"] == ["label", "Online", "Retail"]
    assert result.data["rows"] == [["Jan", 120.0, 300.0], ["Feb", 180.0, 280.0]]
    assert result.data["title"] == "Visitors"
    sent = server.requests[-1]
    assert sent.path == "/v1/chat/completions" and sent.body["model"] == "chartmoe-test"
    assert sent.body["messages"][0]["content"][0]["image_url"]["url"].startswith("data:image/png;base64,")


def test_chart_model_qa_answers_and_describes(server):
    tool = ChartModelQa(endpoint=ChatEndpoint(url=server.url))
    tools = {tool.name: tool}
    answer = call_tool("chart_model_qa", {"question": "Which month had more online visitors?"}, [_chart()], tools)
    assert answer.ok and answer.data == {"answer": "Feb"}
    described = call_tool("chart_model_qa", {"mode": "describe"}, [_chart()], tools)
    assert described.data == {"answer": "A line chart of visitors."}
    empty = call_tool("chart_model_qa", {"mode": "answer"}, [_chart()], tools)
    assert empty.error.error_class is ErrorClass.E4
    check_tool(tool, _chart())


def test_unreachable_endpoint_is_a_tool_failure():
    tool = ChartModelQa(endpoint=ChatEndpoint(url="http://127.0.0.1:9/v1", timeout_s=2))
    result = call_tool("chart_model_qa", {"question": "?"}, [_chart()], {tool.name: tool})
    assert result.error.error_class is ErrorClass.TOOL_FAILURE and "is unreachable" in result.error.message
    assert "127.0.0.1:9/v1" in result.error.message


@pytest.mark.parametrize("served", ["chartassistant", "chartvlm"])
def test_served_caption_models_write_the_caption(server, monkeypatch, served):
    monkeypatch.setenv(f"VISTA_{served.upper()}_URL", server.url)
    tool = ChartCaption()
    result = call_tool("chart_caption", {"backend": served}, [_chart()], tools={tool.name: tool})
    assert result.ok, result.error
    assert result.data["caption"] == "A line chart of visitors." and result.data["chart_type"]
    assert server.requests[-1].body["model"] == served
    monkeypatch.delenv(f"VISTA_{served.upper()}_URL")
    missing = call_tool("chart_caption", {"backend": served}, [_chart()], tools={tool.name: tool})
    assert missing.error.error_class is ErrorClass.TOOL_FAILURE
    assert f"VISTA_{served.upper()}_URL" in missing.error.message
