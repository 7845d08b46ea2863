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
random states, step) every ``save_steps``; `GRPORunner.resume` continues from the latest one.

Distributed: the loop runs under `accelerate` (``accelerate launch`` / ``torchrun``), data-parallel. A step's groups
are dealt round-robin to the processes, each plays and scores its own groups (advantages are relative within a
group, so no rewards cross processes), the loss of every process is normalised by the step's token count over all
processes, and DDP averages the gradients, so N processes take the same step one process would take on the whole
mini-batch. Metrics are computed over every process's episodes and written by the main process. With ``peft``
(LoRA), only the adapters train and the KL reference is the same model with its adapters switched off. With
``shard`` (``--fsdp``) the policy (and the reference) are sharded with
PyTorch FSDP instead of replicated: see `vista_trainer.sharding`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
import vista
from accelerate.utils import gather_object
from vista.executor import ToolExecutor
from vista.trajlog import to_chat

from .episodes import Episode, episode_metrics, play
from .policy import ChatCodec, Encoded, ModelPolicy, collate
from .sharding import MODEL_FILE, OPTIMIZER_FILE, full_state, gathered, load_full_state, plain_copy
from .sharding import shard as shard_model

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
    """Runs the GRPO loop on ``model`` against a frozen ``ref_model`` (None with ``peft_config``: the reference is the
    base model under the adapters). ``draw(step, n)`` returns the n training examples of a step (deterministic in
    ``step``, so a resumed run sees the same data); every process draws the same and plays its share. ``model`` is
    trained in place; with ``peft_config`` it gains LoRA adapters (`merged_model` folds them in). ``shard`` splits
    the model's weights, gradients and optimiser state over the processes (FSDP) instead of replicating them."""

    def __init__(self, model, ref_model, codec: ChatCodec, args, *, draw: Callable[[int, int], list[vista.Example]],
                 registry: vista.Registry, env_kwargs: dict, out_dir: str | Path,
                 system_prompt: Callable[[str], str | None] = lambda task: None,
                 on_metrics: Callable[[dict], None] | None = None, tool_names: Sequence[str] = (),
                 peft_config=None, accelerator=None, shard: bool = False):
        from accelerate import Accelerator, DistributedType

        self.accelerator = accelerator or Accelerator(cpu=args.use_cpu)
        self.codec, self.args = codec, args
        self.draw, self.registry, self.env_kwargs = draw, registry, env_kwargs
        self.system_prompt = system_prompt
        self.out_dir = Path(out_dir)
        self.on_metrics = on_metrics
        self.tool_names = list(tool_names)
        self.step = 0
        self.executor = ToolExecutor()
        processes = self.accelerator.num_processes
        if self.accelerator.distributed_type == DistributedType.FSDP:
            raise ValueError("GRPO does not take accelerate's FSDP config (its loading and plugin settings are not "
                             "what GRPO shards with): launch without it and pass --fsdp (shard=True)")
        self.sharded = shard
        if self.sharded and processes == 1:
            log.warning("sharding over one process saves nothing: GRPO trains the model unsharded")
            self.sharded = False
        if self.sharded and args.use_vllm:
            raise ValueError("vLLM generation with a sharded (--fsdp) policy is not supported: pushing the weights "
                             "to vLLM needs them whole; drop --fsdp and use --use_peft (LoRA) to fit memory, or "
                             "generate with transformers (drop --use_vllm)")
        if processes > 1 and args.use_vllm and args.vllm_mode == "server":
            raise ValueError("vllm_mode='server' with several training processes is not supported: TRL's server "
                             "client gathers the same number of prompts from every process on every call, and "
                             "episodes end at different turns on each; use vllm_mode='colocate' or one process")
        groups = args.per_device_train_batch_size * args.gradient_accumulation_steps // args.num_generations
        if groups % processes:
            raise ValueError(f"a GRPO step's {groups} groups (grpo_mini_batch / num_generations) cannot be dealt "
                             f"evenly to {processes} processes; make grpo_mini_batch a multiple of "
                             f"num_generations x {processes} = {args.num_generations * processes}")
        if peft_config is not None:
            from peft import get_peft_model

            model = get_peft_model(model, peft_config)
            ref_model = None  # the adapters switched off are the reference
        self.uses_peft = peft_config is not None
        if ref_model is not None:
            ref_model.eval().requires_grad_(False)
        if self.sharded:  # fully_shard moves each unit to the device itself: no whole copy on it first
            shard_model(model)
            if ref_model is not None:
                shard_model(ref_model, frozen=True)
        # built on the sharded parameters when sharded
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.learning_rate,
                                      weight_decay=0.0)
        if self.sharded:
            self.model, self.optimizer = model, optimizer
        else:
            # accelerate puts the model on its device (a GPU when there is one and use_cpu is off) and, with several
            # processes, wraps it in DDP; generation uses the unwrapped module, which shares its parameters
            self.model, self.optimizer = self.accelerator.prepare(model, optimizer)
            # Checkpoints hold the unwrapped model's weights (DDP would prefix every key with 'module.'), so a run
            # resumes whatever the number of processes it is relaunched with.
            self.accelerator.register_save_state_pre_hook(self._save_unwrapped)
            self.accelerator.register_load_state_pre_hook(self._load_unwrapped)
            if ref_model is not None:
                ref_model.to(self.accelerator.device)
        self.ref_model = ref_model
        unwrapped = self.accelerator.unwrap_model(self.model)
        if args.use_vllm:
            from .vllm_policy import VLLMPolicy

            self.policy = VLLMPolicy(unwrapped, codec, args, accelerator=self.accelerator)
        else:
            # a sharded policy generates gathered, each process on its own (see `sharding.gathered`)
            self.policy = ModelPolicy(unwrapped, codec, max_new_tokens=args.max_completion_length,
                                      temperature=args.temperature, top_p=args.top_p,
                                      generate_kwargs={"synced_gpus": False} if self.sharded else None)

    def merged_model(self):
        """The trained policy as a plain model: the adapters folded into the weights when training with LoRA.
        Sharded, every process must call it (the weights are gathered) and the main process alone gets the model
        (the others None)."""
        if self.sharded:
            weights, _ = full_state(self.model)
            if not self.accelerator.is_main_process:
                return None
            model = plain_copy(self.model, weights)
        else:
            model = self.accelerator.unwrap_model(self.model)
        return model.merge_and_unload() if self.uses_peft else model

    # ---- checkpoints ----------------------------------------------------------------------------------------
    def _save_unwrapped(self, models, weights, output_dir) -> None:
        for i, model in enumerate(models):
            if model is self.model:
                weights[i] = self.accelerator.unwrap_model(model).state_dict()

    def _load_unwrapped(self, models, input_dir) -> None:
        if self.model in models:
            state = torch.load(Path(input_dir) / MODEL_FILE, map_location="cpu", weights_only=True)
            self.accelerator.unwrap_model(self.model).load_state_dict(state)
            models.remove(self.model)  # loaded here; accelerate loads the rest (optimiser, random states)

    def checkpoints(self) -> list[Path]:
        """Whole checkpoints, oldest first (``step.json`` is written last, once every process has saved)."""
        folders = list((self.out_dir / "checkpoints").glob("step-*"))
        stale = [p for p in folders if (p / "state.pt").exists() and not (p / "step.json").exists()]
        if stale:
            log.warning("ignoring %d GRPO checkpoint(s) in the format before 2026-11-28 (%s): resuming needs "
                        "checkpoints written by accelerate's save_state", len(stale), stale[0].parent)
        found = [p for p in folders if (p / "step.json").exists()]
        return sorted(found, key=lambda p: int(p.name.split("-")[1]))

    def save(self) -> Path:
        """Model, optimiser and every process's random states (accelerate's `save_state`), then the step."""
        path = self.out_dir / "checkpoints" / f"step-{self.step}"
        # pickled tensors: safetensors refuses the tied input/output embeddings of small models
        self.accelerator.save_state(str(path), safe_serialization=False)  # sharded: the random states only
        if self.sharded:  # the whole weights and optimiser state, in the files accelerate writes unsharded
            weights, optimizer = full_state(self.model, self.optimizer)
            if self.accelerator.is_main_process:
                torch.save(weights, path / MODEL_FILE)
                torch.save(optimizer, path / OPTIMIZER_FILE)
        self.accelerator.wait_for_everyone()
        if self.accelerator.is_main_process:
            (path / "step.json").write_text(json.dumps({"step": self.step}))
        self.accelerator.wait_for_everyone()
        return path

    def resume(self) -> bool:
        found = self.checkpoints()
        if not found:
            return False
        self.accelerator.load_state(str(found[-1]))  # sharded: the random states only
        if self.sharded:
            load_full_state(self.model, self.optimizer, found[-1], self.accelerator.is_main_process)
        self.step = json.loads((found[-1] / "step.json").read_text())["step"]
        if hasattr(self.policy, "mark_stale"):
            self.policy.mark_stale()
        log.info("resumed GRPO from %s (step %d)", found[-1], self.step)
        return True

    # ---- one step -------------------------------------------------------------------------------------------
    def ref_logprobs(self, batch: dict[str, torch.Tensor]) -> torch.Tensor | None:
        if self.args.beta <= 0:
            return None
        with torch.no_grad():
            if self.uses_peft:
                with self.accelerator.unwrap_model(self.model).disable_adapter():
                    return token_logprobs(self.model, batch)
            return token_logprobs(self.ref_model, batch) if self.ref_model is not None else None

    def train_step(self) -> dict:
        args, accelerator = self.args, self.accelerator
        started = time.perf_counter()
        group = args.num_generations
        groups = args.per_device_train_batch_size * args.gradient_accumulation_steps // group
        examples = self.draw(self.step, groups)[accelerator.process_index::accelerator.num_processes]
        self.model.eval()
        with gathered(self.model) if self.sharded else contextlib.nullcontext():
            episodes = play(self.policy.generate, [e for e in examples for _ in range(group)],
                            registry=self.registry, executor=self.executor, env_kwargs=self.env_kwargs,
                            system_prompt=self.system_prompt)
        rollout_s = time.perf_counter() - started
        rewards = torch.tensor([e.trajectory.reward or 0.0 for e in episodes], dtype=torch.float32)
        advantages = group_advantages(rewards, group)
        encoded = encode_episodes(self.codec, episodes)
        local_tokens = sum(sum(e.policy_mask) for e in encoded)
        total_tokens = int(accelerator.reduce(torch.tensor(local_tokens, device=accelerator.device), "sum"))
        self.model.train()
        self.optimizer.zero_grad()
        losses, stats = [], []
        micro = args.per_device_train_batch_size
        starts = list(range(0, len(encoded), micro))
        for start in starts:
            batch = collate(encoded[start:start + micro], self.codec.tokenizer.pad_token_id)
            # gradients are averaged over processes once, after the last micro-batch (sharded: after each one, into
            # each process's shard, as FSDP does)
            last = start == starts[-1] or self.sharded
            sync = contextlib.nullcontext() if last else accelerator.no_sync(self.model)
            with sync:
                new = token_logprobs(self.model, batch)
                mask = batch["policy_mask"][:, 1:].to(new.device)
                ref = self.ref_logprobs(batch)
                loss, info = grpo_loss(new, new.detach(), ref, mask, advantages[start:start + micro].to(new.device),
                                       args.epsilon, args.beta, total_tokens)
                # DDP (and FSDP) average gradients over processes; the objective is their sum over the step's tokens
                accelerator.backward(loss * accelerator.num_processes)
            losses.append(float(loss.detach()))
            stats.append(info)
        grad_norm = self._clip_gradients(args.max_grad_norm)
        self.optimizer.step()
        if hasattr(self.policy, "mark_stale"):
            self.policy.mark_stale()  # vLLM holds its own copy of the weights
        self.step += 1
        trajectories = gather_object([e.trajectory for e in episodes])
        local = [{"loss": sum(losses), "kl": sum(s["kl"] for s in stats) / len(stats),
                  "clip_ratio": sum(s["clip_ratio"] for s in stats) / len(stats)}]
        per_process = gather_object(local)
        all_rewards = torch.tensor([t.reward or 0.0 for t in trajectories], dtype=torch.float32)
        record = {"stage": "grpo", "step": self.step, "loss": sum(p["loss"] for p in per_process),
                  "grad_norm": grad_norm, "kl": sum(p["kl"] for p in per_process) / len(per_process),
                  "clip_ratio": sum(p["clip_ratio"] for p in per_process) / len(per_process),
                  "reward_std": float(all_rewards.std()), "policy_tokens": total_tokens, "episodes": len(trajectories),
                  "processes": accelerator.num_processes, "rollout_s": rollout_s,
                  "step_s": time.perf_counter() - started,
                  **episode_metrics(trajectories, self.tool_names)}
        if self.on_metrics is not None and accelerator.is_main_process:
            self.on_metrics(record)
        return record

    def _clip_gradients(self, max_norm: float) -> float:
        if not self.sharded:
            return float(self.accelerator.clip_grad_norm_(self.model.parameters(), max_norm))
        # the norm over every process's shards (a replicated DTensor)
        norm = torch.nn.utils.clip_grad_norm_([p for p in self.model.parameters() if p.requires_grad], max_norm)
        return float(norm.full_tensor() if hasattr(norm, "full_tensor") else norm)

    def train(self, progress: bool = True) -> list[dict]:
        from tqdm.auto import tqdm

        records = []
        bar = tqdm(total=self.args.max_steps, initial=self.step, desc="GRPO",
                   disable=not (progress and self.accelerator.is_main_process))
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
