"""How far the sampling logprobs and the loss's logprobs of the same tokens drift apart in bfloat16, per policy family.

    .venv/bin/python bench/bf16_logprob_gap.py [--steps 1] [--families qwen2.5-vl,internvl3]

In float32 the two agree within 1e-4 (the on-policy tests). In bfloat16 they are computed by different kernels on
different shapes (generation: one token at a time on a cache; the loss: the whole sequence at once) and rounded to
8 bits of mantissa, so they differ; TRL's importance ratio at step 1 is exp of that difference. For each family
(`vista_trainer.families`) the tiny model of its own classes, random weights, is loaded in bfloat16 and trained by
`GRPOTrainer` (``bf16``) on episodes of the tests' toy task whose first turn calls a tool returning an image and whose
later turns transformers samples; every policy token's recorded logprob is compared with the logprob the loss's
forward pass computes for it. Printed per family: tokens compared, mean, 99th percentile and max of the absolute
difference (nats), and the same in float32 beside it.

On CPU: bfloat16 matrix products on this machine's kernels, not a GPU's; the figures say how large the gap is on the
path, not what an H100 gives.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "trainer" / "tests"))  # the trainer tests' toy task and helpers

import torch  # noqa: E402
import toy_plugin  # noqa: E402
from test_families import ENV, crop_then_generate  # noqa: E402
from test_grpo import LossInputs, RecordingRollout, episodes_of  # noqa: E402
from vista.testing import registered_plugin  # noqa: E402
from vista_trainer.checkpoints import load_policy  # noqa: E402
from vista_trainer.codec import ChatCodec  # noqa: E402
from vista_trainer.config import VistaTrainConfig  # noqa: E402
from vista_trainer.experts import sft_records, synthesize  # noqa: E402
from vista_trainer.families import FAMILIES  # noqa: E402
from vista_trainer.grpo import build_trainer  # noqa: E402
from vista_trainer.trl_setup import grpo_args  # noqa: E402

from conftest import policy_runs, save_family_policy  # noqa: E402


def gaps(policy_dir: Path, registry, dtype: str, steps: int, workdir: Path) -> torch.Tensor:
    """|recorded - trained| logprob of every sampled policy token over ``steps`` GRPO steps."""
    model, processor = load_policy(policy_dir, min_pixels=4 * 28 * 28, max_pixels=16 * 28 * 28, dtype=dtype)
    codec = ChatCodec(processor, 2048)
    config = VistaTrainConfig(run_dir=str(workdir), num_generations=2, grpo_batch_size=4, grpo_gradient_accumulation=1,
                              max_new_tokens=24, grpo_learning_rate=1e-3, grpo_steps=steps, save_steps=steps,
                              beta=0.0, reward=ENV["reward"], bf16=dtype == "bfloat16", max_length=2048)
    examples = list(registry.task("bar_height").load("train", seed=1000, limit=8))
    rollout = RecordingRollout(examples, codec, registry=registry, env_kwargs=ENV, generate=crop_then_generate()[0])
    trainer = build_trainer(model, codec, grpo_args(config, str(workdir / "grpo")), rollout,
                            reward_name=ENV["reward"], tool_names=["measure_bar", "crop_bar"])
    seen = LossInputs(trainer.model)
    trainer.train()
    rows = list(seen.rows())
    out = []
    for episode in episodes_of(rollout):
        row = next(r for r in rows if r["prompt"] == episode["prompt_ids"] and r["completion"] ==
                   episode["completion_ids"])
        runs = policy_runs(range(len(episode["completion_ids"])), episode["env_mask"], episode["logprobs"])
        for positions, recorded in runs[1:]:  # the first run is the scripted call: no sampling logprobs
            trained = row["logprobs"][list(positions)].float()
            out.append((trained - torch.tensor(recorded)).abs())
    return torch.cat(out) if out else torch.zeros(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1)
    parser.add_argument("--families", default=",".join(sorted(FAMILIES)))
    args = parser.parse_args()
    torch.set_num_threads(1)
    workdir = Path(tempfile.mkdtemp(prefix="vista-bf16-gap-"))
    with registered_plugin(toy_plugin) as registry:
        examples = list(registry.task("bar_height").load("train", limit=8))
        synthesize(workdir / "experts", examples, registry=registry, tools="recommended", max_turns=2)
        experts = list(sft_records(workdir / "experts" / "kept"))
        lines = [f"{'family':16s} {'dtype':9s} {'tokens':>6s} {'mean':>9s} {'p99':>9s} {'max':>9s}"]
        for name in args.families.split(","):
            policy = save_family_policy(name, experts, workdir / name)
            for dtype in ("float32", "bfloat16"):
                gap = gaps(policy, registry, dtype, args.steps, workdir / f"{name}-{dtype}")
                lines.append(f"{name:16s} {dtype:9s} {len(gap):6d} {gap.mean():9.2e} {gap.quantile(0.99):9.2e} "
                             f"{gap.max():9.2e}" if len(gap) else f"{name:16s} {dtype:9s} no sampled tokens")
    print(f"|recorded - trained| logprob per sampled policy token, {args.steps} GRPO step(s), tiny random-weight "
          "models on CPU:")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
