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
from collections.abc import Sequence
from typing import Any

from PIL import Image
from pydantic import BaseModel, Field
from vista import ImageName, Tool, ToolArgumentError, ToolArguments, ToolContext, ToolResult, ToolUnavailableError
from vista.images import image_to_base64
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


def _result(solution: str, source: str) -> ToolResult:
    answer = extract_answer(solution)
    return ToolResult(text=f"{solution.strip()}\n[{source}] answer: {answer}",
                      data={"answer": answer, "solution": solution})


class Endpoint:
    """An OpenAI-compatible chat-completions server, called with one image and one text part."""

    def __init__(self, base_url: str, api_key: str | None = None, timeout_s: float = DEFAULT_TIMEOUT_S,
                 max_tokens: int = 1024):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.max_tokens = max_tokens

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def payload(self, image: Image.Image, prompt: str, model: str) -> dict[str, Any]:
        return {"model": model, "temperature": 0.0, "max_tokens": self.max_tokens,
                "messages": [{"role": "user", "content": [
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{image_to_base64(image)}"}},
                    {"type": "text", "text": prompt}]}]}

    def complete(self, image: Image.Image, prompt: str, model: str, *, policy_chose_model: bool = False) -> str:
        import httpx

        try:
            with httpx.Client(timeout=self.timeout_s, headers=self._headers()) as client:
                response = client.post(f"{self.base_url}/chat/completions", json=self.payload(image, prompt, model))
                listing = client.get(f"{self.base_url}/models") if response.status_code == 404 else None
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from exc
        return self._content(response, model, listing, policy_chose_model)

    async def acomplete(self, image: Image.Image, prompt: str, model: str, *,
                        policy_chose_model: bool = False) -> str:
        import httpx

        try:
            async with httpx.AsyncClient(timeout=self.timeout_s, headers=self._headers()) as client:
                response = await client.post(f"{self.base_url}/chat/completions",
                                             json=self.payload(image, prompt, model))
                listing = await client.get(f"{self.base_url}/models") if response.status_code == 404 else None
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from exc
        return self._content(response, model, listing, policy_chose_model)

    def _unreachable(self, exc: Exception) -> ToolUnavailableError:
        return ToolUnavailableError(
            f"math VLM endpoint {self.base_url} is unreachable ({type(exc).__name__}: {exc}); start an "
            f"OpenAI-compatible server (e.g. `vllm serve <model>`) or fix {URL_ENV}")

    def _content(self, response, model: str, listing, policy_chose_model: bool) -> str:
        served = _served_models(listing) if listing is not None else []
        if served and model not in served:
            message = f"model '{model}' is not served at {self.base_url}; served models: {', '.join(served)}"
            if policy_chose_model:
                raise ToolArgumentError(message, argument="model")
            raise ToolUnavailableError(f"{message}. Set the tool's model setting to one of them")
        if response.status_code in (401, 403):
            raise ToolUnavailableError(f"math VLM endpoint {self.base_url} refused the credentials (HTTP "
                                       f"{response.status_code}); set {API_KEY_ENV}")
        if response.status_code != 200:
            raise ToolUnavailableError(f"math VLM endpoint {self.base_url} answered HTTP {response.status_code}: "
                                       f"{response.text[:300]}")
        try:
            content = response.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise ToolUnavailableError(f"math VLM endpoint {self.base_url} did not answer in the chat-completions "
                                       f"shape (choices[0].message.content): {response.text[:300]}") from exc
        if isinstance(content, list):  # some servers answer with content parts
            content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
        if not isinstance(content, str):
            raise ToolUnavailableError(f"math VLM endpoint {self.base_url} returned non-text content")
        return content


def _served_models(response) -> list[str]:
    try:
        return [entry["id"] for entry in response.json()["data"]]
    except (ValueError, KeyError, TypeError):
        return []


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

    def endpoint(self) -> tuple[Endpoint, str]:
        url = self.endpoint_url or os.environ.get(self.url_env) or os.environ.get(URL_ENV)
        if not url:
            raise ToolUnavailableError(
                f"tool '{self.name}' has neither local weights nor an endpoint: set {self.weights_env} to a "
                f"Hugging Face Llava-format {self.what} checkpoint, or set {self.url_env} (or {URL_ENV}) to an "
                f"OpenAI-compatible server that serves it")
        model = self.model or os.environ.get(self.model_env) or self.default_model
        return Endpoint(url, self.api_key or os.environ.get(API_KEY_ENV), max_tokens=self.max_new_tokens), model

    def run(self, args: SolveArgs, ctx: ToolContext) -> ToolResult:
        image = ctx.image(args.image)
        if self.local.configured:
            return _result(self.local.solve([image], [args.question])[0], f"{self.what} (local)")
        endpoint, model = self.endpoint()
        return _result(endpoint.complete(image, SOLVE_PROMPT.format(question=args.question), model), model)

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
        endpoint, model = self.endpoint()
        return _result(await endpoint.acomplete(image, SOLVE_PROMPT.format(question=args.question), model), model)


class GLlavaSolve(NamedMathSolver):
    name = "g_llava_solve"
    description = ("Ask G-LLaVA, a vision-language model trained on geometry problems, to solve the problem in "
                   "the image; returns its worked solution and final answer.")
    weights_env = "VISTA_WEIGHTS_G_LLAVA"
    url_env = "VISTA_G_LLAVA_URL"
    model_env = "VISTA_G_LLAVA_MODEL"
    default_model = "G-LLaVA-7B"
    what = "G-LLaVA"


class MultimathSolve(NamedMathSolver):
    name = "multimath_solve"
    description = ("Ask MultiMath, a vision-language model trained on multimodal math problems, to solve the "
                   "problem in the image; returns its worked solution and final answer.")
    weights_env = "VISTA_WEIGHTS_MULTIMATH"
    url_env = "VISTA_MULTIMATH_URL"
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

    def endpoint(self, requested: str | None) -> tuple[Endpoint, str]:
        url = self.endpoint_url or os.environ.get(URL_ENV)
        if not url:
            raise ToolUnavailableError(f"tool 'math_vlm' needs an OpenAI-compatible server: set {URL_ENV} "
                                       "(e.g. http://localhost:8000/v1 after `vllm serve <model>`)")
        model = requested or self.model or os.environ.get(MODEL_ENV)
        if not model:
            raise ToolUnavailableError(f"tool 'math_vlm' has no default model: set {MODEL_ENV} to a model the "
                                       f"server at {url} serves")
        return Endpoint(url, self.api_key or os.environ.get(API_KEY_ENV), max_tokens=self.max_tokens), model

    def run(self, args: MathVLMArgs, ctx: ToolContext) -> ToolResult:
        image = ctx.image(args.image)
        endpoint, model = self.endpoint(args.model)
        prompt = SOLVE_PROMPT.format(question=args.question)
        return _result(endpoint.complete(image, prompt, model, policy_chose_model=args.model is not None), model)

    async def arun(self, args: MathVLMArgs, ctx: ToolContext) -> ToolResult:
        image = ctx.image(args.image)
        endpoint, model = self.endpoint(args.model)
        prompt = SOLVE_PROMPT.format(question=args.question)
        return _result(await endpoint.acomplete(image, prompt, model, policy_chose_model=args.model is not None),
                       model)
