import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))

import toy_plugin  # noqa: E402
from vista.testing import registered_plugin  # noqa: E402
from vista_trainer.experts import sft_records, synthesize  # noqa: E402
from vista_trainer.policy import ChatCodec, build_processor, build_tiny_model, train_tokenizer  # noqa: E402


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)  # the tiny model is 5-10x faster with one thread on a shared machine


@pytest.fixture
def registry():
    with registered_plugin(toy_plugin) as registry:
        yield registry


@pytest.fixture
def experts(registry, tmp_path):
    examples = list(registry.task("bar_height").load("train", limit=8))
    report = synthesize(tmp_path / "experts", examples, registry=registry, tools="recommended", max_turns=2)
    assert report.kept == 8
    return list(sft_records(tmp_path / "experts" / "kept"))


@pytest.fixture
def tiny(experts):
    corpus = [p["text"] for r in experts for m in r["messages"] for p in m["content"] if p["type"] == "text"]
    tokenizer = train_tokenizer(corpus, 400)
    processor = build_processor(tokenizer, 4 * 28 * 28, 16 * 28 * 28)
    model = build_tiny_model(tokenizer, 64, 1, 2, 32, 1, seed=0)
    return model, ChatCodec(processor, 1024)
