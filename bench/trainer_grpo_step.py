"""GRPO step time and sampled tokens/s: vista's multi-turn rollout on `trl.GRPOTrainer`, beside plain TRL
`GRPOTrainer` single-turn on the same model and the same prompts, in the same run (random weights).

    .venv/bin/python bench/trainer_grpo_step.py --shape tiny          # CPU: the demo's model shape
    python bench/trainer_grpo_step.py --shape 3b --bf16               # a GPU machine, transformers generation
    python bench/trainer_grpo_step.py --shape 3b --bf16 --lora        # LoRA adapters instead of every weight

The policy is built from the shape's configuration (``3b`` / ``7b``: the released Qwen2.5-VL-3B/7B dimensions,
vision tower and vocabulary included) with random weights, and saved once (TRL builds the KL reference from the
path). Both trainers train a fresh copy for ``--steps`` steps of ``--prompts`` x ``--generations`` episodes over
``shape_scene`` (a real procedural task): vista plays each as a `VistaEnv` episode (parser, validation, the real
tools, the hierarchical reward; up to ``max_turns`` + 1 turns), plain TRL samples one completion per prompt from the
same opening conversation (system prompt, image, question) and scores it with the same reward on its text. Printed
per trainer: seconds per step and sampled policy tokens per second of step (the mean over the steps after the first),
peak GPU memory on a GPU; then the ratios vista / plain TRL. A random policy rarely writes ``<|im_end|>``, so turns
run to ``--max-new-tokens``: the worst case per turn, and vista samples up to ``max_turns`` + 1 times as many.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
import vista
from transformers import PrinterCallback, TrainerCallback
from vista.prompts import render_system
from vista_trainer.checkpoints import load_policy, save_policy
from vista_trainer.codec import ChatCodec
from vista_trainer.config import VistaTrainConfig
from vista_trainer.grpo import build_trainer
from vista_trainer.rollout import EpisodeRollout
from vista_trainer.tiny import build_processor, build_tiny_model, train_tokenizer
from vista_trainer.trl_setup import cuda_available, grpo_args, lora_config

VISION = dict(vision_hidden_size=1280, vision_depth=32, vision_heads=16, vision_intermediate_size=3420,
              fullatt_blocks=[7, 15, 23, 31])
SHAPES = {
    "tiny": dict(hidden_size=128, layers=2, heads=4, vision_hidden_size=64, vision_depth=1),
    "3b": dict(hidden_size=2048, layers=36, heads=16, kv_heads=2, intermediate_size=11008, vocab_size=151936,
               tie_word_embeddings=True, **VISION),
    "7b": dict(hidden_size=3584, layers=28, heads=28, kv_heads=4, intermediate_size=18944, vocab_size=152064,
               tie_word_embeddings=False, **VISION),
}


def build(shape: str, directory: Path, task: vista.Task, max_pixels: int, dtype: torch.dtype) -> None:
    corpus = [e.question for e in task.load("train", seed=0, limit=200)]
    corpus += ['<think>look</think><tool_call>{"name": "zoom", "arguments": {}}</tool_call>', "<answer>3</answer>"]
    sizes = dict(SHAPES[shape])
    tokenizer = train_tokenizer(corpus, 1200)
    if "vocab_size" in sizes:
        tokenizer.add_tokens([f"<|r{i}|>" for i in range(sizes["vocab_size"] - len(tokenizer))])
    model = build_tiny_model(tokenizer, sizes.pop("hidden_size"), sizes.pop("layers"), sizes.pop("heads"),
                             sizes.pop("vision_hidden_size"), sizes.pop("vision_depth"), seed=0, **sizes)
    save_policy(model.to(dtype), build_processor(tokenizer, 4 * 28 * 28, max_pixels), directory)


class StepClock(TrainerCallback):
    """Wall time of every optimiser step, generation included."""

    def __init__(self):
        self.seconds: list[float] = []
        self.peak_gib: list[float] = []

    def on_step_begin(self, args, state, control, **kwargs):
        if cuda_available():
            torch.cuda.reset_peak_memory_stats()
        self.started = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.seconds.append(time.perf_counter() - self.started)
        if cuda_available():
            self.peak_gib.append(torch.cuda.max_memory_allocated() / 2 ** 30)


def plain_trl_trainer(model, codec, args, examples, system_prompt, reward_fn):
    """TRL's own GRPO: single-turn completions of the episodes' opening conversations, TRL's generation."""
    from datasets import Dataset
    from trl import GRPOTrainer

    rows = {"prompt": [[{"role": "system", "content": [{"type": "text", "text": system_prompt}]},
                        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": e.question}]}]
                       for e in examples],
            "images": [[e.open_images()[0]] for e in examples], "example": list(range(len(examples)))}
    return GRPOTrainer(model=model, args=args, processing_class=codec.processor, train_dataset=Dataset.from_dict(rows),
                       reward_funcs=[reward_fn])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=sorted(SHAPES), default="tiny")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--prompts", type=int, default=2, help="prompts per step")
    parser.add_argument("--generations", type=int, default=4, help="G: episodes per prompt")
    parser.add_argument("--max-new-tokens", type=int, default=64, help="tokens per turn")
    parser.add_argument("--max-pixels", type=int, default=64 * 28 * 28)
    parser.add_argument("--bf16", action="store_true", help="bfloat16 weights and autocast (GPU)")
    parser.add_argument("--lora", action="store_true", help="train LoRA adapters (r=16) instead of every weight")
    parser.add_argument("--workdir", type=Path, default=None, help="where the random checkpoint is kept")
    args = parser.parse_args()

    registry = vista.load_plugins("all")
    task = registry.task("shape_scene")
    workdir = args.workdir or Path(tempfile.gettempdir()) / "vista-grpo-bench"
    dtype = "bfloat16" if args.bf16 else "float32"
    checkpoint = workdir / f"qwen2.5-vl-{args.shape}-random-{dtype}-{args.max_pixels}px"
    if not (checkpoint / "vista_policy.json").exists():
        build(args.shape, checkpoint, task, args.max_pixels, getattr(torch, dtype))
    if not cuda_available():
        torch.set_num_threads(1)  # as the trainer does on a shared CPU machine
    episodes = args.prompts * args.generations
    config = VistaTrainConfig(run_dir=str(workdir / "run"), num_generations=args.generations, grpo_batch_size=episodes,
                              grpo_gradient_accumulation=1, grpo_steps=args.steps, save_steps=10 ** 6,
                              max_new_tokens=args.max_new_tokens, max_length=4096, bf16=args.bf16,
                              use_peft=args.lora, max_turns=2, system_prompt="compact",
                              gradient_checkpointing=args.shape != "tiny")
    examples = list(task.load("train", seed=10_000, limit=args.steps * args.prompts))
    system_prompt = render_system(vista.VistaEnv(task, tools="recommended", registry=registry).tools, 2, "compact")
    env_kwargs = {"tools": "recommended", "max_turns": 2, "reward": "hierarchical"}
    device = torch.cuda.get_device_name() if cuda_available() else "CPU"
    results = {}
    for name in ("vista multi-turn", "plain TRL single-turn"):
        model, processor = load_policy(checkpoint, min_pixels=4 * 28 * 28, max_pixels=args.max_pixels, dtype=dtype)
        codec = ChatCodec(processor, config.max_length)
        trl_args = grpo_args(config, str(workdir / "run" / name.split()[0]))
        trl_args.disable_tqdm = True
        clock = StepClock()
        if name.startswith("vista"):
            rollout = EpisodeRollout(examples, codec, registry=registry, env_kwargs=env_kwargs,
                                     system_prompt=lambda _: "compact")
            trainer = build_trainer(model, codec, trl_args, rollout, reward_name="hierarchical",
                                    peft_config=lora_config(config))
        else:
            trainer = plain_trl_trainer(model, codec, trl_args, examples, system_prompt,
                                        text_reward(registry, task, examples))
        trainer.add_callback(clock)
        trainer.remove_callback(PrinterCallback)  # the figures below, not every log entry
        total = sum(p.numel() for p in trainer.model.parameters())
        trainer.train()
        lengths = [e["completions/mean_length"] for e in trainer.state.log_history if "completions/mean_length" in e]
        warm = slice(1, None) if len(clock.seconds) > 1 else slice(None)
        seconds = sum(clock.seconds[warm]) / len(clock.seconds[warm])
        tokens = sum(lengths[warm]) * episodes / len(lengths[warm])  # policy tokens only (env_mask 1)
        results[name] = (seconds, tokens / seconds)
        memory = f", peak GPU memory {max(clock.peak_gib):.1f} GiB" if clock.peak_gib else ""
        print(f"{name}: {seconds:.2f} s per step, {tokens:.0f} policy tokens sampled per step, "
              f"{tokens / seconds:.1f} tokens/s{memory}  ({args.shape}: {total / 1e6:.1f}M parameters, {dtype}, "
              f"{device}, {episodes} episodes per step, <= {args.max_new_tokens} tokens per turn)", flush=True)
        del trainer, model
    (ours_s, ours_tps), (trl_s, trl_tps) = results.values()
    print(f"vista / plain TRL: step time {ours_s / trl_s:.2f}x, sampled tokens/s {ours_tps / trl_tps:.2f}x "
          f"(mean over {max(args.steps - 1, 1)} warm step(s))")


def text_reward(registry, task, examples):
    """The hierarchical reward of a single-turn completion, read as a one-turn `VistaEnv` episode."""
    def hierarchical(prompts, completions, example, **kwargs):
        rewards = []
        for text, index in zip(completions, example):
            env = vista.VistaEnv(task, registry=registry, tools="recommended", max_turns=0)
            env.reset(options={"example": examples[index]})
            rewards.append(env.step(text if isinstance(text, str) else text[0]["content"])[1])
        return rewards

    return hierarchical


if __name__ == "__main__":
    main()
