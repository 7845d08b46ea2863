"""Model backends for chart reading: DePlot (Pix2Struct), UniChart (Donut-style encoder-decoder), and ChartMoE or
any chart model served behind an OpenAI-compatible chat-completions endpoint.

Weights are named by environment variables (or passed to the tool), resolved by `vista.weights` and loaded once per
process; nothing is downloaded at run time.
"""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image
from vista import ToolUnavailableError
from vista.chat import ChatClient, ChatEndpointError, api_key_env, image_question
from vista.weights import load_once, resolve_weights

from .tables import parse_linearised

DEPLOT_ENV, DEPLOT_DEFAULT = "VISTA_WEIGHTS_DEPLOT", "google/deplot"
UNICHART_ENV, UNICHART_DEFAULT = "VISTA_WEIGHTS_UNICHART", "ahmed-masry/unichart-base-960"
DEPLOT_PROMPT = "Generate underlying data table of the figure below:"
UNICHART_TABLE_PROMPT = "<extract_data_table> <s_answer>"
UNICHART_SUMMARY_PROMPT = "<summarize_chart> <s_answer>"
TABLE_REQUEST = ("Extract the underlying data table of this chart. Write the title first as 'TITLE | <title>', then "
                 "one row per line with cells separated by ' | ': the header row first (the label column, then one "
                 "column per series), then one row per category. Numbers only in the value cells, no units.")


def _torch():
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise ToolUnavailableError(f"chart model backends need torch and transformers: {exc}; "
                                   "install vista-tools-chart[models]") from exc
    return torch, transformers


def _load_deplot(source: str):
    torch, transformers = _torch()
    processor = transformers.Pix2StructProcessor.from_pretrained(source)
    model = transformers.Pix2StructForConditionalGeneration.from_pretrained(source)
    return processor, model.eval()


def _token_budget(model) -> int:
    """The checkpoint's own generation length when its generation config sets one, else a full table's 512."""
    configured = getattr(getattr(model, "generation_config", None), "max_new_tokens", None)
    return int(configured) if configured else 512


def deplot_table(image: Image.Image, weights: str | None = None) -> dict:
    """Chart to table with DePlot: its linearised table parsed into {"title", "header", "rows"}."""
    source = resolve_weights("chart_to_table", weights, env_var=DEPLOT_ENV, default=DEPLOT_DEFAULT,
                             what="DePlot (Pix2Struct)")
    processor, model = load_once(("deplot", source), lambda: _load_deplot(source))
    torch, _ = _torch()
    image = image.convert("RGB")
    if processor.image_processor.is_vqa:
        # DePlot reads its prompt drawn above the chart; the processor would download a font to draw it, so draw
        # it here with a local one, as Pix2Struct's render_header does
        image = _with_header(image, DEPLOT_PROMPT, _header_font(source))
    inputs = processor.image_processor(image, is_vqa=False, return_tensors="pt")
    with torch.inference_mode():
        output = model.generate(**inputs, max_new_tokens=_token_budget(model))
    return parse_linearised(processor.decode(output[0], skip_special_tokens=True))


def _with_header(image: Image.Image, text: str, font_path: str) -> Image.Image:
    try:  # the PIL flavour of the module: the other one imports torchvision
        from transformers.models.pix2struct.image_processing_pil_pix2struct import render_text
    except ImportError:
        from transformers.models.pix2struct.image_processing_pix2struct import render_text

    header = render_text(text, font_path=font_path)
    width = max(header.width, image.width)
    height = int(image.height * width / image.width)
    header_height = int(header.height * width / header.width)
    out = Image.new("RGB", (width, height + header_height), "white")
    out.paste(header.resize((width, header_height)), (0, 0))
    out.paste(image.resize((width, height)), (0, header_height))
    return out


def _header_font(source: str) -> str:
    """A TrueType font for DePlot's header: one saved beside the weights, the one the processor would download if
    it is in the hub cache, else matplotlib's DejaVu Sans."""
    beside = [p for p in Path(source).glob("*.tt[fc]")] + [p for p in Path(source).glob("*.TTF")] \
        if Path(source).is_dir() else []
    if beside:
        return str(beside[0])
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache("ybelkada/fonts", "Arial.TTF")
        if isinstance(cached, str):
            return cached
    except ImportError:
        pass
    try:
        import matplotlib
    except ImportError as exc:
        raise ToolUnavailableError("DePlot draws its prompt onto the image and needs a TrueType font for it: put "
                                   "a .ttf file beside the weights, or install matplotlib") from exc
    return str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf")


def _load_unichart(source: str):
    torch, transformers = _torch()
    processor = transformers.DonutProcessor.from_pretrained(source)
    model = transformers.VisionEncoderDecoderModel.from_pretrained(source)
    return processor, model.eval()


def unichart_generate(image: Image.Image, prompt: str, weights: str | None = None) -> str:
    """Run UniChart with one of its task prompts; returns the text after '<s_answer>'."""
    source = resolve_weights("chart_to_table", weights, env_var=UNICHART_ENV, default=UNICHART_DEFAULT,
                             what="UniChart (Donut-style VisionEncoderDecoder)")
    processor, model = load_once(("unichart", source), lambda: _load_unichart(source))
    torch, _ = _torch()
    pixel_values = processor(images=image.convert("RGB"), return_tensors="pt").pixel_values
    prompt_ids = processor.tokenizer(prompt, add_special_tokens=False, return_tensors="pt").input_ids
    # MBart's learned positions end at max_position_embeddings (offset by 2): never generate past them
    max_new_tokens = _token_budget(model)
    limit = getattr(model.config.decoder, "max_position_embeddings", None)
    if limit:
        max_new_tokens = max(1, min(max_new_tokens, limit - 2 - prompt_ids.shape[1]))
    with torch.inference_mode():
        output = model.generate(pixel_values, decoder_input_ids=prompt_ids, max_new_tokens=max_new_tokens,
                                pad_token_id=processor.tokenizer.pad_token_id,
                                eos_token_id=processor.tokenizer.eos_token_id)
    text = processor.batch_decode(output, skip_special_tokens=False)[0]
    for token in (processor.tokenizer.eos_token, processor.tokenizer.pad_token, processor.tokenizer.bos_token):
        if token:
            text = text.replace(token, "")
    return text.split("<s_answer>", 1)[-1].strip()


def unichart_table(image: Image.Image, weights: str | None = None) -> dict:
    """Chart to table with UniChart: rows separated by ' & ', cells by ' | ', the first row the header."""
    text = unichart_generate(image, UNICHART_TABLE_PROMPT, weights)
    return parse_linearised(text.replace(" & ", "\n"))


class ChatEndpoint:
    """An OpenAI-compatible chat-completions endpoint (`vista.chat`) serving a chart model: ChartMoE by default, or
    another one named by ``served`` (``chartassistant``, ``chartvlm``), configured by ``VISTA_<SERVED>_URL``,
    ``_MODEL`` and, when the server wants a key, ``_API_KEY``."""

    def __init__(self, url: str | None = None, model: str | None = None, timeout_s: float = 120.0, *,
                 served: str = "chartmoe", api_key: str | None = None):
        self.url_env, self.model_env = f"VISTA_{served.upper()}_URL", f"VISTA_{served.upper()}_MODEL"
        self.served = served
        self.url = url or os.environ.get(self.url_env)
        self.model = model or os.environ.get(self.model_env) or served
        self.timeout_s = timeout_s
        self.api_key = api_key

    def ask(self, tool: str, image: Image.Image, question: str, max_tokens: int = 1024) -> str:
        if not self.url:
            raise ToolUnavailableError(
                f"tool '{tool}' needs a served {self.served} (a chart model behind an OpenAI-compatible API); "
                f"set {self.url_env} to its base URL, e.g. http://localhost:8000/v1 (vLLM or lmdeploy serve), "
                f"and {self.model_env} to the served model name")
        client = ChatClient(self.url, self.model, api_key=self.api_key, key_env=api_key_env(self.served),
                            timeout_s=self.timeout_s, what=f"{self.served} endpoint")
        try:
            return client.complete(image_question(image.convert("RGB"), question), max_tokens=max_tokens).strip()
        except ChatEndpointError as exc:
            raise ToolUnavailableError(f"tool '{tool}': {exc}") from exc


def chartmoe_table(image: Image.Image, endpoint: ChatEndpoint) -> dict:
    """Chart to table through the served model; markdown tables and ' | ' rows are both read."""
    text = endpoint.ask("chart_to_table", image, TABLE_REQUEST)
    lines = []
    for line in text.replace("```", "\n").splitlines():
        line = line.strip()
        if set(line) <= set("|-: "):  # markdown's header separator, or blank
            continue
        lines.append(line.strip("|").strip() if line.startswith("|") else line)
    return parse_linearised("\n".join(lines))
