"""One process of the multi-process tests, started by torchrun (gloo, CPU). ``scripted``: one GRPO step of
`trl.GRPOTrainer` with a scripted policy (the same episodes however the batch is split over processes) and no
gradient clipping; saves the averaged gradients and the weights after the step, which must not depend on the number
of processes. ``lockstep``: processes whose episodes last different numbers of turns generate in step.
``pipeline``: the whole recipe with LoRA, every process running the stages that are theirs."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import torch
from transformers import TrainerCallback

sys.path.insert(0, str(Path(__file__).parent))

import toy_plugin  # noqa: E402
from vista.testing import registered_plugin  # noqa: E402
from vista_trainer.config import VistaTrainConfig  # noqa: E402
from vista_trainer.grpo import build_trainer  # noqa: E402
from vista_trainer.pipeline import Pipeline  # noqa: E402
from vista_trainer.policy import IM_END, ChatCodec, load_policy  # noqa: E402
from vista_trainer.rollout import EpisodeRollout, Turns  # noqa: E402


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


def scripted(root: Path) -> None:
    model, processor = load_policy(root / "policy", min_pixels=4 * 28 * 28, max_pixels=16 * 28 * 28)
    processes = int(__import__("os").environ["WORLD_SIZE"])
    config = VistaTrainConfig(run_dir=str(root), num_generations=2, grpo_batch_size=8 // processes,
                              grpo_gradient_accumulation=1, max_new_tokens=16, grpo_steps=1, beta=0.0,
                              grpo_learning_rate=1e-2, save_steps=100, reward="brevity",
                              grpo_args="{max_grad_norm: 1.0e+9}")  # clipping would hide a wrongly scaled gradient
    codec = ChatCodec(processor, 1024)
    with registered_plugin(toy_plugin) as registry:
        task = registry.task("bar_height")
        rollout = EpisodeRollout(list(task.load("train", seed=1000, limit=8)), codec, registry=registry,
                                 env_kwargs={"tools": "recommended", "max_turns": 2, "reward": "brevity"},
                                 generate=scripted_turns)
        trainer = build_trainer(model, codec, config.grpo_config(str(root / f"grpo-{processes}")), rollout,
                                reward_name="brevity")
        trainer.add_callback(SaveGradients(root / f"grads-{processes}.pt"))
        trainer.train()
        if trainer.accelerator.is_main_process:
            weights = trainer.accelerator.unwrap_model(trainer.model).state_dict()
            torch.save({k: v.clone() for k, v in weights.items()}, root / f"weights-{processes}.pt")


def lockstep(root: Path) -> None:
    """Generation as sharded weights need it (every process generating as often as the busiest, synced):
    process 0 plays a short question for every turn, process 1 a long one whose context is full after one turn."""
    import vista
    from vista_trainer.rollout import transformers_generate

    model, processor = load_policy(root / "policy", min_pixels=4 * 28 * 28, max_pixels=16 * 28 * 28)
    config = VistaTrainConfig(run_dir=str(root), num_generations=2, grpo_batch_size=2, grpo_gradient_accumulation=1,
                              max_new_tokens=16, grpo_steps=1, beta=0.0, save_steps=100, reward="brevity",
                              grpo_args="{shuffle_dataset: false}")  # process 0 gets example 0, process 1 example 1
    calls = []

    def counted(trainer, episodes, budgets):
        calls.append(len(episodes))
        return transformers_generate(trainer, episodes, budgets, synced=True)

    with registered_plugin(toy_plugin) as registry:
        short = next(iter(registry.task("bar_height").load("train", seed=1000, limit=1)))
        codec = ChatCodec(processor, 1024)
        rollout = EpisodeRollout([short], codec, registry=registry, generate=counted, lockstep=True,
                                 env_kwargs={"tools": "recommended", "max_turns": 2, "reward": "brevity"})
        codec.max_length = len(rollout.start(short).prompt_ids) + 300  # room for three turns of the short one
        for words in range(1, 400):  # a question leaving room for one turn only
            long = vista.Example(id="long", task="bar_height", images=short.images, answer="3",
                                 answer_type="integer", question=short.question + " Think hard." * words,
                                 metadata=short.metadata)
            if len(rollout.start(long).prompt_ids) > codec.max_length - 24:
                break
        rollout.examples = [short, long]
        trainer = build_trainer(model, codec, config.grpo_config(str(root / "grpo-lockstep")), rollout,
                                reward_name="brevity")
        trainer.train()
        (root / f"calls-{trainer.accelerator.process_index}.txt").write_text(" ".join(map(str, calls)))


def pipeline(root: Path) -> None:
    config = VistaTrainConfig(run_dir=str(root / "run"), tasks="bar_height", expert_episodes=8, sft_epochs=1,
                              grpo_steps=1, save_steps=1, num_generations=2, grpo_batch_size=2,
                              grpo_gradient_accumulation=1, eval_episodes=4, max_new_tokens=16, hidden_size=64,
                              num_layers=1, num_heads=2, vision_hidden_size=32, vocab_size=400, max_length=1024,
                              copy_warmup_steps=2, use_peft=True, lora_r=4, lora_alpha=8)
    with registered_plugin(toy_plugin) as registry:
        Pipeline(config, registry=registry, progress=False).run(("synthesize", "init", "sft", "grpo", "evaluate"))


if __name__ == "__main__":
    torch.set_num_threads(1)
    {"scripted": scripted, "lockstep": lockstep, "pipeline": pipeline}[sys.argv[2]](Path(sys.argv[1]))
    if torch.distributed.is_initialized():  # leave together: a process exiting while another still uses the
        torch.distributed.barrier()         # group can abort in gloo's threads
        torch.distributed.destroy_process_group()
