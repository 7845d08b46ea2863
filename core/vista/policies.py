"""Policies: callables mapping an observation to the text of the next turn, for evaluation and data synthesis.

- `OraclePolicy`: replays each example's oracle solution (`Task.oracle`), calling the tools for real and writing its
  final reasoning around their actual outputs; the expert that behaviour cloning learns from.
- `EndpointPolicy`: any OpenAI-compatible chat-completions endpoint (vLLM serve, commercial APIs), async, through
  `vista.chat`.
- `TransformersPolicy`: a local transformers model, VLM (image-text-to-text) or text-only.
- `load_policy(spec)`: builds one from a string: ``oracle``, ``openai:<base_url>`` (with ``model=``),
  ``hf:<path or hub id>``, or ``python:<module>:<callable>``.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from typing import Any

from .chat import ChatClient, api_key_env, openai_messages
from .errors import VistaError
from .protocol import ToolCall, render_call
from .task import Example, Task
from .trajectory_log import to_chat

_MAX_QUOTED = 300
KEY_ENV = (api_key_env("policy"), "OPENAI_API_KEY")  # OPENAI_API_KEY: the variable the policy read first


class PolicyError(VistaError):
    pass


def _last_tool_text(observation: dict) -> str:
    message = observation["messages"][-1]
    texts = [part.get("text", "") for part in message["content"] if part["type"] == "text"]
    return " ".join(t for t in texts if t.startswith("<tool_response>")).replace("<tool_response>", "").replace(
        "</tool_response>", "")


class OraclePolicy:
    """Plays the oracle solution of each example it is given: step k's tool call at turn k, then the answer.

    ``examples`` maps (task name, example id) to the examples the episodes will show (the policy must know the
    example, which an honest observation does not reveal)."""

    def __init__(self, examples: Mapping[tuple[str, str], Example], tasks: Mapping[str, Task]):
        self.examples = dict(examples)
        self.tasks = dict(tasks)

    def __call__(self, observation: dict) -> str:
        key = (observation["task"], observation["example_id"])
        if key not in self.examples:
            raise PolicyError(f"the oracle was not given example {key}; pass every episode's example to OraclePolicy")
        example = self.examples[key]
        solution = self.tasks[example.task].oracle(example)
        if solution is None:
            raise PolicyError(f"task '{example.task}' has no oracle solution; use another policy")
        turn = observation["turn"]
        if turn < len(solution.steps) and solution.steps[turn].tool:
            step = solution.steps[turn]
            return f"<think>{step.think}</think>" + render_call(ToolCall(name=step.tool, arguments=step.arguments))
        seen = _last_tool_text(observation) if turn else ""
        quoted = f" The tool returned: {seen[:_MAX_QUOTED]}." if seen else ""
        rationale = solution.rationale or "Putting it together."
        return f"<think>{rationale}{quoted}</think><answer>{solution.answer}</answer>"


def chat_with_images(observation: dict) -> tuple[list[dict], list[Any]]:
    """The observation's conversation as chat messages with {"type": "image"} placeholders, and its images."""
    record = to_chat(observation["messages"], observation["images"])
    return record["messages"], record["images"]


class EndpointPolicy:
    """An OpenAI-compatible chat-completions endpoint (`vista.chat`); images travel as PNG data URLs. The API key:
    ``api_key``, else ``VISTA_POLICY_API_KEY``, else ``OPENAI_API_KEY``."""

    def __init__(self, base_url: str, model: str, *, api_key: str | None = None, temperature: float = 0.0,
                 max_tokens: int = 1024, timeout_s: float = 300.0):
        self.client = ChatClient(base_url, model, api_key=api_key, key_env=KEY_ENV, timeout_s=timeout_s,
                                 what="policy endpoint")
        self.temperature, self.max_tokens = temperature, max_tokens

    async def __call__(self, observation: dict) -> str:
        return await self.client.aturn(openai_messages(*chat_with_images(observation)),
                                       temperature=self.temperature, max_tokens=self.max_tokens)


class TransformersPolicy:
    """A local transformers model. VLMs (a processor with a chat template that takes images) get the images;
    text-only models see a placeholder where each image was."""

    def __init__(self, model: Any, processor: Any, *, max_new_tokens: int = 256, temperature: float = 0.0):
        self.model, self.processor = model, processor
        self.max_new_tokens, self.temperature = max_new_tokens, temperature
        self.is_vlm = hasattr(processor, "image_processor")

    @classmethod
    def from_pretrained(cls, path: str, **kwargs: Any) -> TransformersPolicy:
        """A VLM with its processor (`vista.hf_checkpoints.load_processor`: Qwen-VL and InternVL load for images only,
        without torchvision), else a text-only causal LM with its tokenizer. A directory that `vista-train` saved holds
        the processor the policy was trained with."""
        from transformers import AutoModelForCausalLM, AutoModelForImageTextToText, AutoTokenizer

        from .hf_checkpoints import load_processor

        if os.path.isdir(path) and not os.path.isfile(os.path.join(path, "config.json")):
            raise PolicyError(f"'{path}' holds no model (no config.json); give the directory a policy was saved in, "
                              "e.g. runs/vista-train/policies/grpo")
        try:
            processor = load_processor(path)
            if not hasattr(processor, "image_processor"):
                raise ValueError("a tokenizer only")
            model = AutoModelForImageTextToText.from_pretrained(path)
        except (ValueError, OSError):
            try:
                processor = AutoTokenizer.from_pretrained(path)
                model = AutoModelForCausalLM.from_pretrained(path)
            except OSError as exc:
                raise PolicyError(f"cannot load a transformers model from '{path}': {str(exc).splitlines()[0]}") \
                    from None
        return cls(model.eval(), processor, **kwargs)

    def __call__(self, observation: dict) -> str:
        import torch

        messages, images = chat_with_images(observation)
        if not self.is_vlm:
            messages = [{"role": m["role"], "content": "".join(
                p["text"] if p["type"] == "text" else "[image]" for p in m["content"])} for m in messages]
            images = []
        if images:  # the template writes the text, the processor expands each image's placeholder (any version)
            text = self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
            inputs = self.processor(text=[text], images=images, return_tensors="pt")
        else:
            inputs = self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=True,
                                                        return_dict=True, return_tensors="pt")
        sampling = {"do_sample": True, "temperature": self.temperature} if self.temperature > 0 else {
            "do_sample": False}
        with torch.no_grad():
            output = self.model.generate(**inputs, max_new_tokens=self.max_new_tokens, **sampling)
        tokenizer = getattr(self.processor, "tokenizer", self.processor)
        return tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)


def load_policy(spec: str, *, examples: Mapping[tuple[str, str], Example] | None = None,
                tasks: Mapping[str, Task] | None = None, **options: Any):
    """Build a policy from a spec string (see the module docstring)."""
    kind, _, rest = spec.partition(":")
    if kind == "oracle":
        return OraclePolicy(examples or {}, tasks or {})
    if kind == "openai":
        if "model" not in options:
            raise PolicyError("an openai: policy needs a model name (--model)")
        return EndpointPolicy(rest, **options)
    if kind == "hf":
        return TransformersPolicy.from_pretrained(rest, **options)
    if kind == "python":
        module, _, name = rest.partition(":")
        return getattr(importlib.import_module(module), name)
    raise PolicyError(f"unknown policy spec '{spec}'; use oracle, openai:<base_url>, hf:<path> or "
                      "python:<module>:<callable>")

