import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))

import toy_plugin  # noqa: E402
from vista.testing import registered_plugin  # noqa: E402
from vista_trainer.checkpoints import save_policy
from vista_trainer.codec import ChatCodec
from vista_trainer.experts import sft_records, synthesize  # noqa: E402
from vista_trainer.tiny import build_processor, build_tiny_model, train_tokenizer  # noqa: E402


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


def save_family_policy(name: str, experts, directory):
    """Family ``name``'s tiny policy (`vista_trainer.families`) with a tokenizer trained on the experts' text, saved
    to ``directory`` (TRL and vLLM read it from disk)."""
    from vista_trainer.families import FAMILIES

    family = FAMILIES[name]
    corpus = [p["text"] for r in experts for m in r["messages"] for p in m["content"] if p["type"] == "text"]
    model, processor = family.tiny(train_tokenizer(corpus, 400, family.extra_tokens))
    save_policy(model, processor, directory)
    return directory


def policy_runs(ids, mask, logprobs):
    """The runs of ``mask`` 1 in ``ids``, each as (ids, logprobs)."""
    runs, current = [], None
    for token, flag, logprob in zip(ids, mask, logprobs):
        if flag:
            current = current or ([], [])
            current[0].append(token)
            current[1].append(logprob)
        elif current:
            runs.append(current)
            current = None
    return runs + ([current] if current else [])


@pytest.fixture
def policy_dir(tiny, tmp_path):
    """The tiny policy saved and loaded back: TRL builds the KL reference from the policy's path, vLLM loads it."""
    model, codec = tiny
    save_policy(model, codec.processor, tmp_path / "policy")
    return tmp_path / "policy"
