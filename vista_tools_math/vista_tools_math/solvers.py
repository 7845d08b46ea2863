"""Math VLMs as tools: G-LLaVA and MultiMath run locally through transformers' Llava classes, or any served math VLM
through an OpenAI-compatible chat-completions endpoint (the paper's "VLM-as-tool" microservice).

Local weights must be in the Hugging Face Llava format (`LlavaForConditionalGeneration`); the checkpoints released in
the original LLaVA repository's format are converted once with transformers' `convert_llava_weights_to_hf.py`.
Endpoints are any server that speaks `POST {base_url}/chat/completions` with image content parts (vLLM, SGLang,
LMDeploy, TGI): `vllm serve <model>` and `VISTA_MATH_VLM_URL=http://host:8000/v1`.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from PIL import Image
from pydantic import BaseModel, Field
from vista import ImageName, Tool, ToolArgumentError, ToolArguments, ToolContext, ToolResult, ToolUnavailableError
from vista.chat import ChatClient, ChatEndpointError, api_key_env, image_question
from vista.weights import load_once, resolve_weights

URL_ENV = "VISTA_MATH_VLM_URL"
API_KEY_ENV = "VISTA_MATH_VLM_API_KEY"
MODEL_ENV = "VISTA_MATH_VLM_MODEL"
DEFAULT_TIMEOUT_S = 120.0

SOLVE_PROMPT = ("Solve the math problem shown in the image.\nQuestion: {question}\n"
                "Reason step by step, then end with a line 'Answer: <final answer>'.")


def extract_answer(text: str) -> str:
    """The final answer in a model's solution: <answer>…</answer>, the last \\boxed{…}, the last 'Answer: …' /
    'the answer is …', or else the last non-empty line."""
    tagged = re.findall(r"<answer>(.*?)</answer>", text, flags=re.S)
    if tagged:
        return tagged[-1].strip()
    boxed = _last_boxed(text)
    if boxed is not None:
        return boxed
    stated = re.findall(r"(?:final answer|answer)\s*(?:is|:)\s*(.+)", text, flags=re.I)
    if stated:
        return stated[-1].strip().rstrip(".").strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _last_boxed(text: str) -> str | None:
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    depth, i = 1, start + len("\\boxed{")
    begin = i
    while i < len(text) and depth:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    return text[begin:i - 1].strip() if depth == 0 else None


class SolveArgs(ToolArguments):
    image: str = ImageName()
    question: str = Field(min_length=1, max_length=4000, description=(
        "the problem to solve, as asked (the image holds the figure, chart or written problem)"))


class SolveOutput(BaseModel):
    answer: str = Field(description="the final answer the model gave")
    solution: str = Field(description="the model's full worked solution")


def _ask(image: Image.Image, question: str) -> list[dict[str, Any]]:
    return image_question(image, SOLVE_PROMPT.format(question=question))


def _result(solution: str, source: str) -> ToolResult:
    answer = extract_answer(solution)
    return ToolResult(text=f"{solution.strip()}\n[{source}] answer: {answer}",
                      data={"answer": answer, "solution": solution})


@contextmanager
def _tool_errors(tool: str, *, policy_chose_model: bool = False) -> Iterator[None]:
    """An endpoint's failure as the tool's: a model the server does not serve is the policy's mistake (E4) when the
    policy named it, else the tool's configuration; every other failure leaves the tool unavailable."""
    try:
        yield
    except ChatEndpointError as exc:
        if exc.served is not None and policy_chose_model:
            raise ToolArgumentError(str(exc), argument="model") from exc
        if exc.served is not None:
            raise ToolUnavailableError(f"tool '{tool}': {exc}. Set the tool's model setting to one of them") from exc
        raise ToolUnavailableError(f"tool '{tool}': {exc}") from exc


class LlavaSolver:
    """A Llava-architecture checkpoint (G-LLaVA, MultiMath) loaded once per process, generating greedily."""

    def __init__(self, tool: str, weights: str | None, env_var: str, what: str, url_env: str,
                 max_new_tokens: int = 512):
        self.tool = tool
        self.weights = weights
        self.env_var = env_var
        self.what = what
        self.url_env = url_env
        self.max_new_tokens = max_new_tokens

    @property
    def configured(self) -> bool:
        return bool(self.weights or os.environ.get(self.env_var))

    def _load(self, path: str):
        try:
            import torch
            from transformers import AutoConfig, AutoProcessor, LlavaForConditionalGeneration
        except ImportError as exc:
            raise ToolUnavailableError(f"tool '{self.tool}' runs {self.what} locally with torch and transformers: "
                                       f"pip install torch transformers ({exc})") from exc
        config = AutoConfig.from_pretrained(path)
        if config.model_type != "llava":
            raise ToolUnavailableError(
                f"tool '{self.tool}': the {self.what} weights at {path} are a '{config.model_type}' checkpoint, not "
                f"the Hugging Face Llava format. Checkpoints in the original LLaVA repository's format are converted "
                f"with transformers' models/llava/convert_llava_weights_to_hf.py; point {self.env_var} at the "
                f"result, or serve the model with an OpenAI-compatible server and set {self.url_env}")
        device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype = torch.bfloat16 if device == "cuda" else torch.float32
        processor = AutoProcessor.from_pretrained(path)
        processor.tokenizer.padding_side = "left"  # batched generation continues every row from the same column
        model = LlavaForConditionalGeneration.from_pretrained(path, dtype=dtype).to(device).eval()
        return model, processor

    def prompt(self, processor, question: str) -> str:
        text = SOLVE_PROMPT.format(question=question)
        if getattr(processor, "chat_template", None):
            messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": text}]}]
            return processor.apply_chat_template(messages, add_generation_prompt=True)
        # LLaVA-1.5's conversation format, which G-LLaVA and MultiMath were trained with
        return f"USER: {processor.image_token}\n{text} ASSISTANT:"

    def solve(self, images: list[Image.Image], questions: list[str]) -> list[str]:
        """Greedy solutions for a batch of (image, question) pairs in one generate call."""
        import torch

        path = resolve_weights(self.tool, self.weights, env_var=self.env_var, what=self.what)
        model, processor = load_once(("vista_tools_math.llava", path), lambda: self._load(path))
        inputs = processor(images=[image.convert("RGB") for image in images],
                           text=[self.prompt(processor, q) for q in questions], padding=True, return_tensors="pt")
        inputs = inputs.to(model.device)
        if "pixel_values" in inputs:
            inputs["pixel_values"] = inputs["pixel_values"].to(model.dtype)
        with torch.inference_mode():
            output = model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False,
                                    pad_token_id=processor.tokenizer.pad_token_id)
        prompt_length = inputs["input_ids"].shape[1]  # left padding: every row's answer starts here
        return processor.tokenizer.batch_decode(output[:, prompt_length:], skip_special_tokens=True)


class NamedMathSolver(Tool):
    """A named math VLM: local Llava weights when configured, else its OpenAI-compatible endpoint."""

    family = "math"
    Arguments = SolveArgs
    Output = SolveOutput
    examples = [{"question": "What is the area of the shaded region?"}]
    blocking = True
    weights_env: str = ""
    url_env: str = ""
    key_env: str = ""
    model_env: str = ""
    default_model: str = ""
    what: str = ""

    def __init__(self, weights: str | os.PathLike | None = None, endpoint_url: str | None = None,
                 model: str | None = None, api_key: str | None = None, max_new_tokens: int = 512):
        self.local = LlavaSolver(self.name, str(weights) if weights else None, self.weights_env, self.what,
                                 self.url_env, max_new_tokens)
        self.endpoint_url = endpoint_url
        self.model = model
        self.api_key = api_key
        self.max_new_tokens = max_new_tokens

    def endpoint(self) -> ChatClient:
        url = self.endpoint_url or os.environ.get(self.url_env) or os.environ.get(URL_ENV)
        if not url:
            raise ToolUnavailableError(
                f"tool '{self.name}' has neither local weights nor an endpoint: set {self.weights_env} to a "
                f"Hugging Face Llava-format {self.what} checkpoint, or set {self.url_env} (or {URL_ENV}) to an "
                f"OpenAI-compatible server that serves it")
        model = self.model or os.environ.get(self.model_env) or self.default_model
        # the key falls back as the URL does: this model's variable, then the math VLMs' shared one
        return ChatClient(url, model, api_key=self.api_key, key_env=(self.key_env, API_KEY_ENV),
                          timeout_s=DEFAULT_TIMEOUT_S, what=f"{self.what} endpoint")

    def run(self, args: SolveArgs, ctx: ToolContext) -> ToolResult:
        image = ctx.image(args.image)
        if self.local.configured:
            return _result(self.local.solve([image], [args.question])[0], f"{self.what} (local)")
        client = self.endpoint()
        with _tool_errors(self.name):
            solution = client.complete(_ask(image, args.question), max_tokens=self.max_new_tokens)
        return _result(solution, client.model)

    def run_batch(self, batch: Sequence[tuple[SolveArgs, ToolContext]]) -> list[ToolResult]:
        """Local weights: one batched generate for all calls. Endpoints batch on the server side instead."""
        if not self.local.configured:
            return [self.run(args, ctx) for args, ctx in batch]
        images = [ctx.image(args.image) for args, ctx in batch]
        solutions = self.local.solve(images, [args.question for args, _ in batch])
        return [_result(solution, f"{self.what} (local)") for solution in solutions]

    async def arun(self, args: SolveArgs, ctx: ToolContext) -> ToolResult:
        if self.local.configured:
            return await asyncio.to_thread(self.run, args, ctx)
        image = ctx.image(args.image)
        client = self.endpoint()
        with _tool_errors(self.name):
            solution = await client.acomplete(_ask(image, args.question), max_tokens=self.max_new_tokens)
        return _result(solution, client.model)


class GLlavaSolve(NamedMathSolver):
    name = "g_llava_solve"
    description = ("Ask G-LLaVA, a vision-language model trained on geometry problems, to solve the problem in "
                   "the image; returns its worked solution and final answer.")
    weights_env = "VISTA_WEIGHTS_G_LLAVA"
    url_env = "VISTA_G_LLAVA_URL"
    key_env = api_key_env("g_llava")
    model_env = "VISTA_G_LLAVA_MODEL"
    default_model = "G-LLaVA-7B"
    what = "G-LLaVA"


class MultimathSolve(NamedMathSolver):
    name = "multimath_solve"
    description = ("Ask MultiMath, a vision-language model trained on multimodal math problems, to solve the "
                   "problem in the image; returns its worked solution and final answer.")
    weights_env = "VISTA_WEIGHTS_MULTIMATH"
    url_env = "VISTA_MULTIMATH_URL"
    key_env = api_key_env("multimath")
    model_env = "VISTA_MULTIMATH_MODEL"
    default_model = "MultiMath-7B"
    what = "MultiMath"


class MathVLMArgs(SolveArgs):
    model: str | None = Field(None, min_length=1, max_length=200, description=(
        "which served model to ask (as the server names it); leave out for the configured default"))


class MathVLM(Tool):
    name = "math_vlm"
    family = "math"
    description = ("Ask a math vision-language model served behind an OpenAI-compatible endpoint to solve the "
                   "problem in the image; returns its worked solution and final answer.")
    Arguments = MathVLMArgs
    Output = SolveOutput
    examples = [{"question": "What is the value of x in the figure?"}]
    blocking = True

    def __init__(self, endpoint_url: str | None = None, model: str | None = None, api_key: str | None = None,
                 max_tokens: int = 1024):
        self.endpoint_url = endpoint_url
        self.model = model
        self.api_key = api_key
        self.max_tokens = max_tokens

    def endpoint(self, requested: str | None) -> ChatClient:
        url = self.endpoint_url or os.environ.get(URL_ENV)
        if not url:
            raise ToolUnavailableError(f"tool 'math_vlm' needs an OpenAI-compatible server: set {URL_ENV} "
                                       "(e.g. http://localhost:8000/v1 after `vllm serve <model>`)")
        model = requested or self.model or os.environ.get(MODEL_ENV)
        if not model:
            raise ToolUnavailableError(f"tool 'math_vlm' has no default model: set {MODEL_ENV} to a model the "
                                       f"server at {url} serves")
        return ChatClient(url, model, api_key=self.api_key, key_env=API_KEY_ENV, timeout_s=DEFAULT_TIMEOUT_S,
                          what="math VLM endpoint")

    def run(self, args: MathVLMArgs, ctx: ToolContext) -> ToolResult:
        image = ctx.image(args.image)
        client = self.endpoint(args.model)
        with _tool_errors(self.name, policy_chose_model=args.model is not None):
            solution = client.complete(_ask(image, args.question), max_tokens=self.max_tokens)
        return _result(solution, client.model)

    async def arun(self, args: MathVLMArgs, ctx: ToolContext) -> ToolResult:
        image = ctx.image(args.image)
        client = self.endpoint(args.model)
        with _tool_errors(self.name, policy_chose_model=args.model is not None):
            solution = await client.acomplete(_ask(image, args.question), max_tokens=self.max_tokens)
        return _result(solution, client.model)
