"""Stage 2, multi-turn online GRPO over `VistaEnv` episodes.

Why not `trl.GRPOTrainer` itself: its `rollout_func` path computes the loss with the dataset's prompt images only
(``images = None`` for custom rollouts, then the prompt's images restored), while an episode here is prompt -> turn
-> tool response (text and new images: a zoomed crop, a detection overlay) -> turn ..., and the policy's later turns
are conditioned on those images; its `environment_factory` path runs tools as Python methods through the chat
template's function calling, not through our parser, validation and E1-E6 attribution. So the objective is
implemented here in torch, configured by TRL's `GRPOConfig` (`VistaTrainConfig.grpo_config`), with TRL's
conventions: the group-relative advantage ``(r - mean_group) / (std_group + 1e-4)``, the clipped importance ratio
with ``epsilon``, the k3 estimator of KL to a frozen reference weighted by ``beta``, token-level averaging over a
mini-batch (TRL's ``dapo`` loss), one optimiser step per generation batch (so the old policy is the current one
detached, as in TRL with ``num_iterations=1``).

Each step: draw ``mini_batch / G`` training examples, play each ``G`` times with sampling, score them with the
environment's reward (hierarchical by default), encode every episode (the policy's turns are the trained tokens;
prompts and tool responses are masked out), and step the optimiser. Metrics of every step (reward, accuracy,
format, repetition, E1-E6, tool calls per tool, loss, KL) go to ``metrics.jsonl``; checkpoints (model, optimiser,
step) every ``save_steps``; `GRPORunner.resume` continues from the latest one.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
import vista
from vista.executor import ToolExecutor
from vista.trajlog import to_chat

from .episodes import Episode, episode_metrics, play
from .policy import ChatCodec, Encoded, ModelPolicy, collate

log = logging.getLogger(__name__)


def group_advantages(rewards: torch.Tensor, group_size: int) -> torch.Tensor:
    """(r - group mean) / (group std + 1e-4), groups being consecutive runs of ``group_size``."""
    grouped = rewards.view(-1, group_size)
    mean = grouped.mean(dim=1, keepdim=True)
    std = grouped.std(dim=1, keepdim=True) if group_size > 1 else torch.zeros_like(mean)
    return ((grouped - mean) / (std + 1e-4)).view(-1)


def token_logprobs(model, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Log-probability of each next token under ``model`` (position t scores token t+1), shape (B, L-1)."""
    device = next(model.parameters()).device
    inputs = {k: v.to(device) for k, v in batch.items() if k in ("input_ids", "attention_mask", "pixel_values",
                                                                 "image_grid_thw")}
    logits = model(**inputs).logits[:, :-1].float()
    return torch.log_softmax(logits, dim=-1).gather(-1, inputs["input_ids"][:, 1:, None]).squeeze(-1)


def grpo_loss(new: torch.Tensor, old: torch.Tensor, ref: torch.Tensor | None, mask: torch.Tensor,
              advantages: torch.Tensor, epsilon: float, beta: float, total_tokens: int) -> tuple[torch.Tensor, dict]:
    """The clipped surrogate with a k3 KL penalty, summed over masked tokens and divided by ``total_tokens``."""
    ratio = torch.exp(new - old)
    adv = advantages[:, None]
    per_token = -torch.min(ratio * adv, torch.clamp(ratio, 1 - epsilon, 1 + epsilon) * adv)
    kl = torch.zeros_like(new)
    if ref is not None and beta > 0:
        kl = torch.exp(ref - new) - (ref - new) - 1
        per_token = per_token + beta * kl
    mask = mask.float()
    loss = (per_token * mask).sum() / max(total_tokens, 1)
    with torch.no_grad():
        clipped = ((ratio - 1).abs() > epsilon).float()
        stats = {"kl": float((kl * mask).sum() / mask.sum().clamp(min=1)),
                 "clip_ratio": float((clipped * mask).sum() / mask.sum().clamp(min=1))}
    return loss, stats


def encode_episodes(codec: ChatCodec, episodes: Sequence[Episode]) -> list[Encoded]:
    """Episodes as training sequences. Generation never lets a conversation outgrow ``codec.max_length``, so
    nothing is cut here (a cut would separate image tokens from their pixels)."""
    out = []
    for episode in episodes:
        chat = to_chat(episode.trajectory.messages, episode.images)
        out.append(codec.encode(chat["messages"], chat["images"]))
    return out


class GRPORunner:
    """Runs the GRPO loop on ``model`` (in place) against a frozen ``ref_model``. ``draw(step, n)`` returns the n
    training examples of a step (deterministic in ``step``, so a resumed run sees the same data)."""

    def __init__(self, model, ref_model, codec: ChatCodec, args, *, draw: Callable[[int, int], list[vista.Example]],
                 registry: vista.Registry, env_kwargs: dict, out_dir: str | Path,
                 system_prompt: Callable[[str], str | None] = lambda task: None,
                 on_metrics: Callable[[dict], None] | None = None, tool_names: Sequence[str] = ()):
        self.model, self.ref_model, self.codec, self.args = model, ref_model, codec, args
        self.draw, self.registry, self.env_kwargs = draw, registry, env_kwargs
        self.system_prompt = system_prompt
        self.out_dir = Path(out_dir)
        self.on_metrics = on_metrics
        self.executor = ToolExecutor()
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate, weight_decay=0.0)
        if args.use_vllm:
            from .vllm_policy import VLLMPolicy

            self.policy = VLLMPolicy(model, codec, args)
        else:
            self.policy = ModelPolicy(model, codec, max_new_tokens=args.max_completion_length,
                                      temperature=args.temperature, top_p=args.top_p)
        self.tool_names = list(tool_names)
        self.step = 0
        model.to(args.device)  # TRL's TrainingArguments decide the device (a GPU when there is one and use_cpu is off)
        if ref_model is not None:
            ref_model.to(args.device).eval().requires_grad_(False)

    # ---- checkpoints ----------------------------------------------------------------------------------------
    def checkpoints(self) -> list[Path]:
        found = [p for p in (self.out_dir / "checkpoints").glob("step-*") if (p / "state.pt").exists()]
        return sorted(found, key=lambda p: int(p.name.split("-")[1]))

    def save(self) -> Path:
        path = self.out_dir / "checkpoints" / f"step-{self.step}"
        path.mkdir(parents=True, exist_ok=True)
        tmp = path / "state.pt.tmp"
        torch.save({"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(), "step": self.step,
                    "torch_rng": torch.get_rng_state(), "python_rng": random.getstate()}, tmp)
        tmp.replace(path / "state.pt")  # a checkpoint exists only once it is whole
        return path

    def resume(self) -> bool:
        found = self.checkpoints()
        if not found:
            return False
        state = torch.load(found[-1] / "state.pt", weights_only=False)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["torch_rng"])
        random.setstate(state["python_rng"])
        self.step = state["step"]
        if hasattr(self.policy, "mark_stale"):
            self.policy.mark_stale()
        log.info("resumed GRPO from %s (step %d)", found[-1], self.step)
        return True

    # ---- one step -------------------------------------------------------------------------------------------
    def train_step(self) -> dict:
        args = self.args
        started = time.perf_counter()
        group = args.num_generations
        mini_batch = args.per_device_train_batch_size * args.gradient_accumulation_steps
        examples = self.draw(self.step, mini_batch // group)
        self.model.eval()
        episodes = play(self.policy.generate, [e for e in examples for _ in range(group)], registry=self.registry,
                        executor=self.executor, env_kwargs=self.env_kwargs, system_prompt=self.system_prompt)
        rollout_s = time.perf_counter() - started
        rewards = torch.tensor([e.trajectory.reward or 0.0 for e in episodes], dtype=torch.float32)
        advantages = group_advantages(rewards, group)
        encoded = encode_episodes(self.codec, episodes)
        total_tokens = sum(sum(e.policy_mask) for e in encoded)
        self.model.train()
        self.optimizer.zero_grad()
        losses, stats = [], []
        micro = args.per_device_train_batch_size
        for start in range(0, len(encoded), micro):
            batch = collate(encoded[start:start + micro], self.codec.tokenizer.pad_token_id)
            new = token_logprobs(self.model, batch)
            mask = batch["policy_mask"][:, 1:].to(new.device)
            ref = None
            if self.ref_model is not None and args.beta > 0:
                with torch.no_grad():
                    ref = token_logprobs(self.ref_model, batch)
            loss, info = grpo_loss(new, new.detach(), ref, mask, advantages[start:start + micro].to(new.device),
                                   args.epsilon, args.beta, total_tokens)
            loss.backward()
            losses.append(float(loss))
            stats.append(info)
        grad_norm = float(torch.nn.utils.clip_grad_norm_(self.model.parameters(), args.max_grad_norm))
        self.optimizer.step()
        if hasattr(self.policy, "mark_stale"):
            self.policy.mark_stale()  # vLLM holds its own copy of the weights
        self.step += 1
        record = {"stage": "grpo", "step": self.step, "loss": sum(losses), "grad_norm": grad_norm,
                  "kl": sum(s["kl"] for s in stats) / len(stats),
                  "clip_ratio": sum(s["clip_ratio"] for s in stats) / len(stats),
                  "reward_std": float(rewards.std()), "policy_tokens": total_tokens,
                  "rollout_s": rollout_s, "step_s": time.perf_counter() - started,
                  **episode_metrics([e.trajectory for e in episodes], self.tool_names)}
        if self.on_metrics is not None:
            self.on_metrics(record)
        return record

    def train(self, progress: bool = True) -> list[dict]:
        from tqdm.auto import tqdm

        records = []
        bar = tqdm(total=self.args.max_steps, initial=self.step, desc="GRPO", disable=not progress)
        while self.step < self.args.max_steps:
            record = self.train_step()
            records.append(record)
            bar.update(1)
            bar.set_postfix(reward=f"{record['reward']:.2f}", acc=f"{record['accuracy']:.2f}",
                            fmt=f"{record['format_rate']:.2f}")
            if self.step % self.args.save_steps == 0 or self.step == self.args.max_steps:
                self.save()
        bar.close()
        return records


def append_jsonl(path: str | Path, record: dict) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, sort_keys=True) + "\n")
