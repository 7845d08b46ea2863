"""GRPO step time and generation throughput for Qwen2.5-VL-shaped policies (random weights, real tools and tasks).

    .venv/bin/python bench/trainer_grpo_step.py --shape tiny                    # CPU: the demo's model
    python bench/trainer_grpo_step.py --shape 3b --bf16 --lora                  # a GPU machine, transformers generation
    python bench/trainer_grpo_step.py --shape 7b --bf16 --lora --use-vllm       # vLLM colocate (pip install vllm)
    torchrun --nproc_per_node 2 bench/trainer_grpo_step.py --shape tiny [--fsdp]  # two processes, replicated or sharded

The model is built from the shape's configuration (``3b`` / ``7b``: the released Qwen2.5-VL-3B/7B dimensions, vision
tower and vocabulary included) with random weights and saved once (vLLM loads from a directory). The tokenizer is
a BPE trained on the tasks' prompts and padded with single-token placeholders up to the model's vocabulary, so a
random policy's sampled tokens decode and re-encode one for one: the trained sequences are as long as what was
generated. Each GRPO step plays ``--groups`` x ``--generations`` episodes of ``shape_scene`` (real tools through
`VistaEnv`), scores them, and takes one optimiser step. Printed per step: step seconds, rollout seconds, tokens
sampled by the policy and tokens/s of the rollout (peak GPU memory on a GPU); then the mean over the steps after the
first (warm-up). Under torchrun, each process plays its share of the groups, and the main process prints the bytes
one process holds for the policy's weights, gradients and optimiser state (the figure ``--fsdp`` divides).
A random policy rarely writes ``<|im_end|>``, so every turn runs to ``--max-new-tokens``: the worst case per turn.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
import vista
from vista_trainer.config import VistaTrainConfig, cuda_available
from vista_trainer.grpo import GRPORunner
from vista_trainer.policy import ChatCodec, build_processor, build_tiny_model, load_policy, save_policy, train_tokenizer

VISION = dict(vision_hidden_size=1280, vision_depth=32, vision_heads=16, vision_intermediate_size=3420,
              fullatt_blocks=[7, 15, 23, 31])
SHAPES = {
    "tiny": dict(hidden_size=128, layers=2, heads=4, vision_hidden_size=64, vision_depth=1),
    "3b": dict(hidden_size=2048, layers=36, heads=16, kv_heads=2, intermediate_size=11008, vocab_size=151936,
               tie_word_embeddings=True, **VISION),
    "7b": dict(hidden_size=3584, layers=28, heads=28, kv_heads=4, intermediate_size=18944, vocab_size=152064,
               tie_word_embeddings=False, **VISION),
}


def build(shape: str, directory: Path, task: vista.Task, max_pixels: int, dtype: torch.dtype):
    corpus = [e.question for e in task.load("train", seed=0, limit=200)]
    corpus += ['<think>look</think><tool_call>{"name": "zoom", "arguments": {}}</tool_call>', "<answer>3</answer>"]
    sizes = dict(SHAPES[shape])
    tokenizer = train_tokenizer(corpus, 1200)
    if "vocab_size" in sizes:
        tokenizer.add_tokens([f"<|r{i}|>" for i in range(sizes["vocab_size"] - len(tokenizer))])
    model = build_tiny_model(tokenizer, sizes.pop("hidden_size"), sizes.pop("layers"), sizes.pop("heads"),
                             sizes.pop("vision_hidden_size"), sizes.pop("vision_depth"), seed=0, **sizes)
    # the processor saved is the one training uses: vLLM expands image tokens with the checkpoint's own settings
    save_policy(model.to(dtype), build_processor(tokenizer, 4 * 28 * 28, max_pixels), directory)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=sorted(SHAPES), default="tiny")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--groups", type=int, default=2, help="prompts per step")
    parser.add_argument("--generations", type=int, default=4, help="G: episodes per prompt")
    parser.add_argument("--micro-batch", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--max-pixels", type=int, default=64 * 28 * 28)
    parser.add_argument("--bf16", action="store_true", help="load the policy in bfloat16 (GPU)")
    parser.add_argument("--lora", action="store_true", help="train LoRA adapters (r=16) instead of every weight")
    parser.add_argument("--use-vllm", action="store_true", help="generate with vLLM in colocate mode (GPU)")
    parser.add_argument("--fsdp", action="store_true", help="shard the policy over the processes (under torchrun)")
    parser.add_argument("--workdir", type=Path, default=None, help="where the random checkpoint is kept")
    args = parser.parse_args()
    from accelerate import PartialState

    state = PartialState(cpu=not cuda_available())

    registry = vista.load_plugins("all")
    task = registry.task("shape_scene")
    workdir = args.workdir or Path(tempfile.gettempdir()) / "vista-grpo-bench"
    dtype = "bfloat16" if args.bf16 else "float32"
    checkpoint = workdir / f"qwen2.5-vl-{args.shape}-random-{dtype}-{args.max_pixels}px"
    with state.main_process_first():  # one process builds the random checkpoint, the others load it
        if not (checkpoint / "vista_policy.json").exists():
            build(args.shape, checkpoint, task, args.max_pixels, getattr(torch, dtype))
    model, processor = load_policy(checkpoint, min_pixels=4 * 28 * 28, max_pixels=args.max_pixels, dtype=dtype)
    if not cuda_available():
        torch.set_num_threads(1)  # as the trainer does on a shared CPU machine
    config = VistaTrainConfig(
        run_dir=str(workdir / "run"), model_name_or_path=None if args.shape == "tiny" and not args.use_vllm
        else str(checkpoint), num_generations=args.generations, grpo_micro_batch=args.micro_batch,
        grpo_mini_batch=args.groups * args.generations, grpo_steps=args.steps, save_steps=10 ** 6,
        max_new_tokens=args.max_new_tokens, max_length=4096, bf16=args.bf16, use_peft=args.lora,
        use_vllm=args.use_vllm, max_turns=2, system_prompt="compact", fsdp=args.fsdp)
    grpo_args = config.grpo_config(str(workdir / "run" / "grpo"))
    codec = ChatCodec(processor, config.max_length)
    ref = None if args.lora else load_policy(checkpoint, min_pixels=4 * 28 * 28, max_pixels=args.max_pixels,
                                             dtype=dtype)[0]
    from vista_trainer.episodes import compact_system_prompt

    prompt = compact_system_prompt(vista.VistaEnv(task, tools="recommended", registry=registry).tools)
    runner = GRPORunner(model, ref, codec, grpo_args, registry=registry, out_dir=workdir / "run" / "grpo",
                        draw=lambda step, n: list(task.load("train", seed=10_000 + step * n, limit=n)),
                        env_kwargs={"tools": "recommended", "max_turns": 2, "reward": "hierarchical"},
                        system_prompt=lambda name: prompt, peft_config=config.peft_config(), shard=args.fsdp)
    main_process = runner.accelerator.is_main_process
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)  # whole sizes, sharded or not
    total = sum(p.numel() for p in model.parameters())
    device = torch.cuda.get_device_name() if cuda_available() else "CPU"
    processes = runner.accelerator.num_processes
    layout = f"{processes} processes, {'sharded' if runner.sharded else 'replicated'}" if processes > 1 else "1 process"
    say = print if main_process else (lambda *a, **k: None)
    say(f"shape {args.shape}: {total / 1e6:.1f}M parameters ({trainable / 1e6:.1f}M trained), {dtype}, {device}, "
        f"{'vLLM colocate' if args.use_vllm else 'transformers'} generation, {layout}; {args.groups} x "
        f"{args.generations} episodes per step, at most {args.max_new_tokens} new tokens per turn", flush=True)
    rows = []
    for _ in range(args.steps):
        if cuda_available():
            torch.cuda.reset_peak_memory_stats()
        started, generated = time.perf_counter(), runner.policy.generated_tokens
        record = runner.train_step()
        seconds = time.perf_counter() - started
        generated = runner.policy.generated_tokens - generated
        memory = f", peak GPU memory {torch.cuda.max_memory_allocated() / 2 ** 30:.1f} GiB" if cuda_available() else ""
        rows.append((seconds, record["rollout_s"], generated))
        say(f"step {record['step']}: {seconds:.2f} s (rollout {record['rollout_s']:.2f} s), {generated} generated "
              f"tokens, {generated / record['rollout_s']:.1f} tokens/s{memory}", flush=True)
    warm = rows[1:] or rows
    step_s = sum(r[0] for r in warm) / len(warm)
    tokens_per_s = sum(r[2] for r in warm) / sum(r[1] for r in warm)
    say(f"mean over {len(warm)} warm step(s): {step_s:.2f} s per GRPO step, {tokens_per_s:.1f} generated tokens/s "
        f"(the main process's rollouts)")
    held, weights = held_bytes(runner.model, runner.optimizer), total * torch.finfo(getattr(torch, dtype)).bits // 8
    say(f"held by one process: {held / 2 ** 20:.1f} MiB of weights, gradients and optimiser state "
        f"({held / weights:.2f}x the whole weights' size)")


def held_bytes(model, optimizer) -> int:
    """Bytes of the weights, gradients and optimiser state this process holds (its shards, when sharded)."""
    def local(tensor):
        return tensor.to_local() if hasattr(tensor, "to_local") else tensor

    tensors = [local(p) for p in model.parameters()] + [local(p.grad) for p in model.parameters()
                                                        if p.grad is not None]
    tensors += [local(v) for s in optimizer.state.values() for v in s.values() if torch.is_tensor(v)]
    return sum(t.numel() * t.element_size() for t in tensors)


if __name__ == "__main__":
    main()
