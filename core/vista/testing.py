"""Helpers for testing plugins: register an in-memory plugin for one test, and restore the registry after; a real
chat-completions server for what talks to model endpoints; a tiny LLaVA checkpoint for what loads LLaVA weights; two
small tools whose timing a test chooses (`Pause`, a stand-in for a slow remote or model-backed tool, and
`BatchDouble`, a batching tool that records its batches).

    from vista.testing import registered_plugin

    def test_my_tool():
        with registered_plugin(my_plugin_module) as registry:
            assert "my_tool" in registry.tools

    def test_my_served_tool(chat_server):  # the fixture: `pytest_plugins = ["vista.testing"]` in a conftest
        server = chat_server(lambda body: "42")
        ...  # point the tool at server.url; server.requests holds what it sent
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

from pydantic import Field

from . import plugins
from .tool import Tool, ToolArguments, ToolContext, ToolResult

_Function = TypeVar("_Function", bound=Callable[..., Any])


def real_data_dir() -> Path:
    """Where tests find real benchmark samples, one folder per task: ``$VISTA_DATA_DIR`` (the variable the loaders
    read too), else ``../shared/data`` beside the repository this package was installed from in editable mode.
    Tests that need a sample skip when it is not there."""
    if os.environ.get("VISTA_DATA_DIR"):
        return Path(os.environ["VISTA_DATA_DIR"]).resolve()
    return (Path(__file__).resolve().parents[2] / ".." / "shared" / "data").resolve()


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
        image_token_index=tokenizer.get_vocab()["<image>"], vision_feature_select_strategy="default",
        vision_feature_layer=-1)
    torch.manual_seed(seed)
    model = LlavaForConditionalGeneration(config).eval()
    model.save_pretrained(directory)
    processor.save_pretrained(directory)
    return directory, model, processor


@dataclass
class ChatRequest:
    """One request a `ChatServer` received: its path, headers (names in lower case) and JSON body."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class ChatServer:
    """A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions shape, at ``url`` (ending in ``/v1``).

    ``reply(body)`` answers each ``POST /v1/chat/completions``: a string is the message content, a dict is sent as the
    whole JSON reply (to test replies in another shape); an exception it raises is answered with HTTP 500. With
    ``api_key`` set, a request without that bearer key gets 401; with ``served`` set, ``GET /v1/models`` lists those
    models and a request for another model gets 404, as vLLM answers. ``requests`` holds every POST received."""

    def __init__(self, reply: Callable[[dict[str, Any]], str | dict[str, Any]], *,
                 served: Sequence[str] | None = None, api_key: str | None = None):
        self.requests: list[ChatRequest] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
                if self.path == "/v1/models" and served is not None:
                    self.send({"object": "list", "data": [{"id": name, "object": "model"} for name in served]})
                else:
                    self.send({"error": {"message": "not found"}}, 404)

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(ChatRequest(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                if self.path != "/v1/chat/completions":
                    return self.send({"error": {"message": "not found"}}, 404)
                if api_key is not None and self.headers.get("Authorization") != f"Bearer {api_key}":
                    return self.send({"error": {"message": "invalid api key"}}, 401)
                if served is not None and body.get("model") not in served:
                    return self.send({"error": {"message": f"The model `{body.get('model')}` does not exist."}}, 404)
                try:
                    answer = reply(body)
                except Exception as exc:  # the test's reply broke: say so in the reply, where the test looks
                    return self.send({"error": {"message": f"reply raised {type(exc).__name__}: {exc}"}}, 500)
                if isinstance(answer, str):
                    answer = {"id": "chatcmpl-test", "object": "chat.completion", "model": body.get("model"),
                              "choices": [{"index": 0, "finish_reason": "stop",
                                           "message": {"role": "assistant", "content": answer}}]}
                self.send(answer)

            def send(self, payload: dict[str, Any], status: int = 200) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> ChatServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _pytest_fixture(function: _Function) -> _Function:
    try:
        import pytest
    except ImportError:  # the fixture is pytest's; the rest of this module serves without pytest
        return function
    return pytest.fixture(function)  # type: ignore[return-value]


@_pytest_fixture
def chat_server() -> Iterator[Callable[..., ChatServer]]:
    """Starts `ChatServer`s for one test, ``chat_server(reply, served=..., api_key=...)``, and closes them after it.
    A conftest makes it available with ``pytest_plugins = ["vista.testing"]`` (the repository's root conftest does)."""
    servers: list[ChatServer] = []

    def start(reply: Callable[[dict[str, Any]], str | dict[str, Any]], **options: Any) -> ChatServer:
        servers.append(ChatServer(reply, **options))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


class PauseArguments(ToolArguments):
    seconds: float = Field(ge=0, le=3600, description="how long to wait")


class Pause(Tool):
    """Waits the given seconds, then says so: a tool whose latency a test chooses (a remote or model-backed tool's
    stand-in). A waiting call is deaf to cancellation, as a thread nobody can stop is. ``in_flight`` counts the calls
    running now and ``most_at_once`` the most that ran together."""

    name = "pause"
    family = "math"
    description = "Wait the given seconds."
    Arguments = PauseArguments
    examples = [{"seconds": 0.1}]

    def __init__(self) -> None:
        self.in_flight = self.most_at_once = 0
        self._guard = threading.Lock()

    def run(self, args: PauseArguments, ctx: ToolContext) -> ToolResult:  # type: ignore[override]
        with self._guard:
            self.in_flight += 1
            self.most_at_once = max(self.most_at_once, self.in_flight)
        try:
            time.sleep(args.seconds)
        finally:
            with self._guard:
                self.in_flight -= 1
        return ToolResult(text=f"paused {args.seconds} s")


class DoubleArguments(ToolArguments):
    x: float = Field(description="the number to double")


class BatchDouble(Tool):
    """Doubles numbers in batches of calls (`Tool.run_batch`, at one cost per batch, as a model's forward pass) and
    records each batch's size in ``sizes``; its result also counts the pixels of the images the call carried."""

    name = "batch_double"
    family = "math"
    description = "Double a number (batched)."
    Arguments = DoubleArguments
    examples = [{"x": 2}]
    batch_seconds = 0.05  # a forward pass: the same cost for 1 or 16 items

    def __init__(self) -> None:
        self.sizes: list[int] = []

    def run_batch(  # type: ignore[override]
            self, batch: Sequence[tuple[DoubleArguments, ToolContext]]) -> list[ToolResult]:
        self.sizes.append(len(batch))
        time.sleep(self.batch_seconds)
        return [ToolResult(text=str(args.x * 2), data={"y": args.x * 2, "pixels": sum(
                    image.width * image.height for image in ctx.images().values())}) for args, ctx in batch]

    def run(self, args: DoubleArguments, ctx: ToolContext) -> ToolResult:  # type: ignore[override]
        return self.run_batch([(args, ctx)])[0]
