"""One process of the two-process tests, started by torchrun. ``grpo``: loads the policy the test saved, runs GRPO
data-parallel over the toy plugin's task, and saves the weights it ends with (every process must end with the same
ones). ``scripted``: one GRPO step with a scripted policy (the same episodes however the groups are dealt) and
no gradient clipping, saving the gradients, which must not depend on the number of processes. ``pipeline``: the
whole recipe with LoRA, every process running the stages that are theirs. A third argument ``fsdp`` shards the
policy over the processes instead of replicating it (``grpo`` then also keeps a sharded KL reference, resumes from
the run's last checkpoint and runs to ``VISTA_TEST_STEPS`` steps, and records each process's share of the
weights)."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import sys
from collections import Counter
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))

import toy_plugin  # noqa: E402
from vista.testing import registered_plugin  # noqa: E402
from vista_trainer.config import VistaTrainConfig  # noqa: E402
from vista_trainer.grpo import GRPORunner, append_jsonl  # noqa: E402
from vista_trainer.pipeline import Pipeline  # noqa: E402
from vista_trainer.policy import ChatCodec, load_policy  # noqa: E402


def grpo(root: Path, fsdp: bool) -> None:
    model, processor = load_policy(root / "policy", min_pixels=4 * 28 * 28, max_pixels=16 * 28 * 28)
    codec = ChatCodec(processor, 1024)
    args = VistaTrainConfig(run_dir=str(root), num_generations=2, grpo_micro_batch=2, grpo_mini_batch=8,
                            max_new_tokens=16, grpo_learning_rate=1e-2, save_steps=1,
                            grpo_steps=int(os.environ.get("VISTA_TEST_STEPS", 2)),
                            beta=0.1 if fsdp else 0.0).grpo_config(str(root / "grpo"))
    with registered_plugin(toy_plugin) as registry:
        task = registry.task("bar_height")
        runner = GRPORunner(model, copy.deepcopy(model) if fsdp else None, codec, args, shard=fsdp,
                            draw=lambda step, n: list(task.load("train", seed=1000 + step * n, limit=n)),
                            registry=registry, env_kwargs={"tools": "recommended", "max_turns": 2,
                                                           "reward": "brevity"},
                            out_dir=root / "grpo", tool_names=["measure_bar"],
                            on_metrics=lambda r: append_jsonl(root / "metrics.jsonl", r))
        rank = runner.accelerator.process_index
        torch.manual_seed(rank)  # each process samples its own episodes
        if fsdp:
            restored = None
            if runner.resume():  # the sharded model and optimiser hold what the checkpoint holds, gathered whole
                from vista_trainer.sharding import OPTIMIZER_FILE, full_state

                weights, optimizer = full_state(runner.model, runner.optimizer)
                if rank == 0:
                    folder = runner.checkpoints()[-1]
                    saved = torch.load(folder / "pytorch_model.bin")
                    saved_optimizer = torch.load(folder / OPTIMIZER_FILE)["state"]
                    restored = (set(saved) == set(weights) and all(torch.equal(saved[k], weights[k]) for k in saved)
                                and len(saved_optimizer) == len(optimizer["state"]) > 0
                                and all(torch.equal(saved_optimizer[i]["exp_avg"], optimizer["state"][i]["exp_avg"])
                                        for i in saved_optimizer))
            held = sum(getattr(p, "_local_tensor", p).numel() for p in runner.model.parameters())
            held_ref = sum(getattr(p, "_local_tensor", p).numel() for p in runner.ref_model.parameters())
            (root / f"share-{rank}.json").write_text(json.dumps(
                {"held": held, "held_ref": held_ref, "whole": sum(p.numel() for p in model.parameters()),
                 "step": runner.step, "restored": restored}))
        runner.train(progress=False)
        merged = runner.merged_model()  # sharded: gathered by all, returned to the main process alone
        if merged is not None:
            torch.save(merged.state_dict(), root / f"weights-{rank}.pt")


def scripted_turns(observations: list[dict]) -> list[str]:
    """The k-th copy of an example in a batch answers with k words of reasoning: a GRPO group's members differ (so
    brevity gives them different rewards) and depend on nothing but the group, not on the process playing it."""
    seen: Counter = Counter()
    turns = []
    for observation in observations:
        image = next(iter(observation["images"].values()))
        key = hashlib.sha1(image.tobytes()).hexdigest()
        turns.append(f"<think>{'look ' * seen[key]}</think><answer>{seen[key]}</answer>")
        seen[key] += 1
    return turns


def scripted(root: Path, fsdp: bool) -> None:
    model, processor = load_policy(root / "policy", min_pixels=4 * 28 * 28, max_pixels=16 * 28 * 28)
    args = VistaTrainConfig(run_dir=str(root), num_generations=2, grpo_micro_batch=2, grpo_mini_batch=8,
                            max_new_tokens=16, grpo_steps=1, beta=0.0).grpo_config(str(root / "grpo"))
    args.max_grad_norm = 1e9  # clipping would hide a wrongly scaled gradient
    with registered_plugin(toy_plugin) as registry:
        task = registry.task("bar_height")
        runner = GRPORunner(model, None, ChatCodec(processor, 1024), args, shard=fsdp,
                            draw=lambda step, n: list(task.load("train", seed=1000 + step * n, limit=n)),
                            registry=registry, env_kwargs={"tools": "recommended", "max_turns": 2,
                                                           "reward": "brevity"}, out_dir=root / "grpo")
        runner.policy.generate = scripted_turns
        runner.train_step()
        # sharded, each process holds a shard of every gradient: gathered whole (by every process)
        grads = {name: p.grad.full_tensor() if fsdp else p.grad.clone()
                 for name, p in runner.model.named_parameters() if p.grad is not None}
        grads = {name.removeprefix("module."): g for name, g in grads.items()}
        if runner.accelerator.is_main_process:
            suffix = "-fsdp" if fsdp else ""
            torch.save(grads, root / f"grads-{runner.accelerator.num_processes}{suffix}.pt")


def pipeline(root: Path, fsdp: bool) -> None:
    config = VistaTrainConfig(run_dir=str(root / "run"), tasks="bar_height", expert_episodes=8, sft_epochs=1,
                              grpo_steps=1, save_steps=1, num_generations=2, grpo_micro_batch=2, grpo_mini_batch=4,
                              eval_episodes=4, max_new_tokens=16, hidden_size=64, num_layers=1, num_heads=2,
                              vision_hidden_size=32, vocab_size=400, max_length=1024, use_peft=True, lora_r=4,
                              lora_alpha=8, fsdp=fsdp)
    with registered_plugin(toy_plugin) as registry:
        Pipeline(config, registry=registry, progress=False).run(("synthesize", "init", "sft", "grpo", "evaluate"))


if __name__ == "__main__":
    torch.set_num_threads(1)
    {"grpo": grpo, "scripted": scripted, "pipeline": pipeline}[sys.argv[2]](Path(sys.argv[1]),
                                                                          sys.argv[3:] == ["fsdp"])
    if torch.distributed.is_initialized():  # leave together: a process exiting while another still uses the
        torch.distributed.barrier()         # group can abort in gloo's threads
        torch.distributed.destroy_process_group()
