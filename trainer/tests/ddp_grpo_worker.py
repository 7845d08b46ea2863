"""One process of the multi-process tests, started by torchrun (gloo, CPU). ``scripted``: one GRPO step of
`trl.GRPOTrainer` with a scripted policy (the same episodes however the batch is split over processes), SGD and no
gradient clipping; saves the averaged gradients (where they are whole) and the policy after the step as the recipe
saves it (`checkpoints.save_trained`), which must not depend on the number of processes; ``scripted-lora`` the same
with LoRA adapters. ``lockstep``: processes whose episodes last different numbers of turns generate in step.
``pipeline``: the whole recipe with LoRA, every process running the stages that are theirs.

With accelerate's FSDP settings in the environment (``ACCELERATE_USE_FSDP=true``, ``FSDP_*``, as ``accelerate
launch`` sets them from an FSDP config file) the weights are sharded over the processes (`fsdp_on_cpu`), and
``lockstep`` leaves generating in step to the rollout's own judgement (`needs_lockstep`). ``scripted`` and
``lockstep`` record how the model was wrapped (``sharding-<run>-<rank>.json``)."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections import Counter
from pathlib import Path

import torch
from transformers import TrainerCallback

sys.path.insert(0, str(Path(__file__).parent))

import toy_plugin  # noqa: E402
from vista.testing import registered_plugin  # noqa: E402
from vista_trainer.checkpoints import load_policy, save_trained  # noqa: E402
from vista_trainer.codec import IM_END, ChatCodec  # noqa: E402
from vista_trainer.config import VistaTrainConfig  # noqa: E402
from vista_trainer.generation import Turns  # noqa: E402
from vista_trainer.grpo import build_trainer  # noqa: E402
from vista_trainer.pipeline import Pipeline  # noqa: E402
from vista_trainer.rollout import EpisodeRollout  # noqa: E402
from vista_trainer.run_dir import RunDir  # noqa: E402
from vista_trainer.trl_setup import grpo_args, lora_config  # noqa: E402


def scripted_turns(trainer, episodes, budgets) -> Turns:
    """The k-th copy of an example in a batch answers with k words of reasoning: a GRPO group's members differ (so
    brevity gives them different rewards) and depend on nothing but the group, not on the process playing it."""
    tokenizer = trainer.processing_class.tokenizer
    seen: Counter = Counter()
    ids = []
    for episode in episodes:
        key = episode.env.example.id
        ids.append(tokenizer(f"<think>{'look ' * seen[key]}</think><answer>{seen[key]}</answer>{IM_END}")["input_ids"])
        seen[key] += 1
    return Turns(ids, [[0.0] * len(i) for i in ids])


class SaveGradients(TrainerCallback):
    def __init__(self, path: Path):
        self.path = path

    def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
        if state.is_world_process_zero:
            torch.save({n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}, self.path)


def sharded() -> bool:
    return os.environ.get("ACCELERATE_USE_FSDP", "false").lower() == "true"


def fsdp_on_cpu() -> None:
    """Let accelerate shard on CPU processes. accelerate 1.16 reads its FSDP settings into a plugin on CPU too, then
    keeps FSDP for accelerators only (`AcceleratorState.__init__`: DistributedType.FSDP is set in the branch for
    MULTI_GPU, MULTI_NPU, ...; a MULTI_CPU run silently trains as DDP). torch's FSDP (1 and 2) runs on CPU with gloo,
    so after accelerate's own initialisation the state is set as that branch sets it; everything after (wrapping,
    gathering for generation, the full state dict) is accelerate's, transformers' and TRL's FSDP code, unchanged."""
    from accelerate.state import AcceleratorState, PartialState
    from accelerate.utils import DistributedType

    initialise = AcceleratorState.__init__

    def initialise_sharded(self, *args, fsdp_plugin=None, **kwargs):
        initialise(self, *args, fsdp_plugin=fsdp_plugin, **kwargs)
        if fsdp_plugin is not None and self.distributed_type == DistributedType.MULTI_CPU:
            self.distributed_type = PartialState._shared_state["distributed_type"] = DistributedType.FSDP
            self.fsdp_plugin = fsdp_plugin
            # the processes' device is "cpu:0" (`PartialState.set_device`), FSDP 1's device_id must be the
            # parameters' ("cpu")
            self.device = PartialState._shared_state["device"] = torch.device("cpu")

    AcceleratorState.__init__ = initialise_sharded


def record_sharding(trainer, path: Path) -> None:
    """How the trained model was wrapped, and how many of its parameters this process held."""
    local = sum(p.to_local().numel() if hasattr(p, "to_local") else p.numel()  # FSDP 2: DTensors
                for p in trainer.model_wrapped.parameters())
    path.write_text(json.dumps({"fsdp": trainer.is_fsdp_enabled, "wrapper": type(trainer.model_wrapped).__name__,
                                "local_parameters": local}))


def scripted(root: Path, lora: bool = False) -> None:
    model, processor = load_policy(root / "policy", min_pixels=4 * 28 * 28, max_pixels=16 * 28 * 28)
    processes = int(os.environ["WORLD_SIZE"])
    # no clipping: it would hide a wrongly scaled gradient. SGD: the step is the gradient times the learning rate
    # (Adam's first is its sign), so the weights after it show the gradient, also where it is sharded; a rate of 1
    # makes the step large beside the weights' rounding
    config = VistaTrainConfig(run_dir=str(root / "run"), tasks="bar_height", num_generations=2,
                              grpo_batch_size=8 // processes, grpo_gradient_accumulation=1, max_new_tokens=16,
                              grpo_steps=1, beta=0.0, grpo_learning_rate=1.0, save_steps=100, reward="brevity",
                              grpo_args="{max_grad_norm: 1.0e+9, optim: sgd}", use_peft=lora, lora_r=4, lora_alpha=8)
    name = "-".join(["lora"] * lora + ["fsdp"] * sharded() + [str(processes)])
    codec = ChatCodec(processor, 1024)
    with registered_plugin(toy_plugin) as registry:
        task = registry.task("bar_height")
        rollout = EpisodeRollout(list(task.load("train", seed=1000, limit=8)), codec, registry=registry,
                                 env_kwargs={"tools": "recommended", "max_turns": 2, "reward": "brevity"},
                                 generate=scripted_turns)
        trainer = build_trainer(model, codec, grpo_args(config, str(root / f"grpo-{name}")), rollout,
                                reward_name="brevity", peft_config=lora_config(config))
        if not sharded():  # sharded gradients are compared through the weights after the step
            trainer.add_callback(SaveGradients(root / f"grads-{name}.pt"))
        trainer.train()
        save_trained(trainer, processor, RunDir(config.run_dir, main_process=False, resume=False).policy_dir(name),
                     main_process=trainer.accelerator.is_main_process)
        record_sharding(trainer, root / f"sharding-{name}-{trainer.accelerator.process_index}.json")


def lockstep(root: Path) -> None:
    """Generation as sharded weights need it (every process generating as often as the busiest, synced):
    process 0 plays a short question for every turn, process 1 a long one whose context is full after one turn."""
    import vista
    from vista_trainer.generation import transformers_generate

    model, processor = load_policy(root / "policy", min_pixels=4 * 28 * 28, max_pixels=16 * 28 * 28)
    config = VistaTrainConfig(run_dir=str(root), num_generations=2, grpo_batch_size=2, grpo_gradient_accumulation=1,
                              max_new_tokens=16, grpo_steps=1, beta=0.0, save_steps=100, reward="brevity",
                              grpo_args="{shuffle_dataset: false}")  # process 0 gets example 0, process 1 example 1
    calls = []

    synced = None if sharded() else True  # None: the rollout tells from the trainer (`needs_lockstep`)

    def counted(trainer, episodes, budgets):
        calls.append(len(episodes))
        return transformers_generate(trainer, episodes, budgets, synced=synced)

    with registered_plugin(toy_plugin) as registry:
        short = next(iter(registry.task("bar_height").load("train", seed=1000, limit=1)))
        codec = ChatCodec(processor, 1024)
        rollout = EpisodeRollout([short], codec, registry=registry, generate=counted, lockstep=synced,
                                 env_kwargs={"tools": "recommended", "max_turns": 2, "reward": "brevity"})
        codec.max_length = len(rollout.start(short).prompt_ids) + 300  # room for three turns of the short one
        for words in range(1, 400):  # a question leaving room for one turn only
            long = vista.Example(id="long", task="bar_height", images=short.images, answer="3",
                                 answer_type="integer", question=short.question + " Think hard." * words,
                                 metadata=short.metadata)
            if len(rollout.start(long).prompt_ids) > codec.max_length - 24:
                break
        rollout.examples = [short, long]
        trainer = build_trainer(model, codec, grpo_args(config, str(root / "grpo-lockstep")), rollout,
                                reward_name="brevity")
        trainer.train()
        (root / f"calls-{trainer.accelerator.process_index}.txt").write_text(" ".join(map(str, calls)))
        record_sharding(trainer, root / f"sharding-lockstep-{trainer.accelerator.process_index}.json")


def pipeline(root: Path) -> None:
    # two SFT epochs: the first step's learning rate is 0 (the warm-up), so that SFT moves the weights
    config = VistaTrainConfig(run_dir=str(root / "run"), tasks="bar_height", expert_episodes=8, sft_epochs=2,
                              grpo_steps=1, save_steps=1, num_generations=2, grpo_batch_size=2,
                              grpo_gradient_accumulation=1, eval_episodes=4, max_new_tokens=16, hidden_size=64,
                              num_layers=1, num_heads=2, vision_hidden_size=32, vocab_size=400, max_length=1024,
                              copy_warmup_steps=2, use_peft=True, lora_r=4, lora_alpha=8)
    with registered_plugin(toy_plugin) as registry:
        Pipeline(config, registry=registry, progress=False).run(("synthesize", "init", "sft", "grpo", "evaluate"))


if __name__ == "__main__":
    torch.set_num_threads(1)
    if sharded():
        fsdp_on_cpu()
    modes = {"scripted": scripted, "scripted-lora": functools.partial(scripted, lora=True), "lockstep": lockstep,
             "pipeline": pipeline}
    modes[sys.argv[2]](Path(sys.argv[1]))
    if torch.distributed.is_initialized():  # leave together: a process exiting while another still uses the
        torch.distributed.barrier()         # group can abort in gloo's threads
        torch.distributed.destroy_process_group()
