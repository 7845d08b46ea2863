"""The copy warm-up of the tiny policy: what it trains on, and that it teaches a model built from scratch to copy."""

import pytest
from vista_trainer.tiny import build_tiny_model, train_tokenizer
from vista_trainer.warmup import CopySequences, copy_accuracy, copy_warmup

TEXTS = [f"The tool returned: {n} objects found, the largest share is {c} {n}.{n}%" for n in range(10)
         for c in ("purple", "yellow", "green", "red", "blue", "orange", "gray", "cyan")]


@pytest.fixture(scope="module")
def tokenizer():
    return train_tokenizer(TEXTS, 300)


def test_a_sequence_is_scored_on_its_repeat_alone(tokenizer):
    sequences = CopySequences(tokenizer, TEXTS, seed=0)
    special = set(tokenizer.all_special_ids)
    for _ in range(50):
        ids, labels = sequences.draw()
        scored = [i for i, label in enumerate(labels) if label != -100]
        assert scored == list(range(scored[0], len(ids)))  # the repeat ends the sequence
        span, before = ids[scored[0]:], ids[:scored[0]]
        assert labels[scored[0]:] == span
        assert any(before[i:i + len(span)] == span for i in range(len(before) - len(span) + 1))  # seen before
        assert not special & set(ids)


@pytest.mark.slow  # 92 s on 2 shared cores
def test_the_warmup_teaches_a_model_from_scratch_to_copy(tokenizer):
    model = build_tiny_model(tokenizer, 128, 2, 4, 32, 1, seed=0)
    held_out = CopySequences(tokenizer, TEXTS, seed=1)
    assert copy_accuracy(model, held_out, tokenizer.pad_token_id) < 0.1
    summary = copy_warmup(model, tokenizer, TEXTS, steps=700, seed=0)
    assert summary["copy_accuracy_before"] < 0.1
    assert summary["copy_accuracy"] > 0.8, summary  # fresh sequences, never trained on
