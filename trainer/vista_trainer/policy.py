"""The policy as the trainer's evaluation plays it: batched generation of the next turn for many episodes at once,
with transformers. How conversations become ids is `codec`'s, the tiny model is `tiny`'s, checkpoints are
`checkpoints`'s.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .codec import ChatCodec, collate


class ModelPolicy:
    """Generates the next turn for many observations at once (left-padded batch, stop at ``<|im_end|>``);
    ``generated_tokens`` counts every token it has sampled; ``generate_kwargs`` go to every ``model.generate``."""

    def __init__(self, model, codec: ChatCodec, *, max_new_tokens: int, temperature: float = 0.0,
                 top_p: float = 1.0, generate_kwargs: dict | None = None):
        self.generated_tokens = 0
        self.generate_kwargs = dict(generate_kwargs or {})
        self.model = model
        self.codec = codec
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.top_p = top_p

    @torch.no_grad()
    def generate(self, observations: Sequence[dict]) -> list[str]:
        """The next turn of each observation. Each row has its own budget (``max_new_tokens`` or the room left in
        the context): one long conversation does not shorten the others' turns; one with no room gets ""."""
        tokenizer = self.codec.tokenizer
        encoded = [self.codec.encode_observation(o)[0] for o in observations]
        rooms = [min(self.max_new_tokens, self.codec.max_length - len(e.input_ids)) for e in encoded]
        turns = ["" for _ in observations]
        rows = [i for i, room in enumerate(rooms) if room >= 1]
        if not rows:
            return turns
        batch = collate([encoded[i] for i in rows], tokenizer.pad_token_id, left=True,
                        image_token_id=getattr(self.codec.processor, "image_token_id", None))
        device = next(self.model.parameters()).device
        inputs = {k: v.to(device) for k, v in batch.items() if k not in ("labels", "policy_mask")}
        sample = self.temperature > 0
        was_training = self.model.training
        self.model.eval()
        out = self.model.generate(
            **inputs, max_new_tokens=max(rooms[i] for i in rows), do_sample=sample,
            temperature=self.temperature if sample else None, top_p=self.top_p if sample else None,
            eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, **self.generate_kwargs)
        self.model.train(was_training)
        new = out[:, batch["input_ids"].shape[1]:]
        for row, i in enumerate(rows):
            ids = new[row, :rooms[i]]
            self.generated_tokens += int((ids != tokenizer.pad_token_id).sum())  # rows that stopped are padded
            turns[i] = tokenizer.decode(ids, skip_special_tokens=True)
        return turns
