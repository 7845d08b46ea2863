"""`lora_folded`: transformers generation samples from LoRA adapters folded into their base weights, and the frozen
weights come back as they were (float32), or are never touched (bfloat16, sharded)."""

import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers import LlamaConfig, LlamaForCausalLM
from vista_trainer.generation import lora_folded


def adapted(dtype):
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64)
    model = get_peft_model(LlamaForCausalLM(config).to(dtype),
                           LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules="all-linear"))
    with torch.no_grad():  # trained adapters (a fresh lora_B is zero: folding it would prove nothing)
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.2)
    return model.eval()


def frozen(model):
    return {n: p.detach().clone() for n, p in model.named_parameters() if "lora_" not in n}


def folded_layers(model):
    return sum(bool(getattr(m, "merged", False)) for m in model.modules())


def test_generation_samples_the_adapted_model_and_the_frozen_weights_come_back():
    model = adapted(torch.float32)
    ids = torch.tensor([[1, 5, 9, 12, 3]])
    before = frozen(model)
    with torch.no_grad():
        logits = model(ids).logits
        greedy = model.generate(input_ids=ids, max_new_tokens=8, do_sample=False)
        with lora_folded(model, sharded=False):
            assert folded_layers(model) > 0  # really folded: one matmul per layer while sampling
            folded_logits = model(ids).logits
            folded_greedy = model.generate(input_ids=ids, max_new_tokens=8, do_sample=False)
    assert folded_layers(model) == 0
    assert torch.allclose(logits, folded_logits, atol=1e-5) and torch.equal(greedy, folded_greedy)
    after = frozen(model)
    assert max((after[n] - before[n]).abs().max().item() for n in before) < 1e-6


@pytest.mark.parametrize(("dtype", "sharded"), [(torch.bfloat16, False), (torch.float32, True)])
def test_bfloat16_or_sharded_weights_are_never_folded(dtype, sharded):
    model = adapted(dtype)
    before = frozen(model)
    with lora_folded(model, sharded=sharded):
        assert folded_layers(model) == 0
    assert all(torch.equal(p, before[n]) for n, p in frozen(model).items())


def test_the_adapters_are_unfolded_when_generation_fails():
    model = adapted(torch.float32)
    with pytest.raises(RuntimeError), lora_folded(model, sharded=False):
        raise RuntimeError("out of memory")
    assert folded_layers(model) == 0
