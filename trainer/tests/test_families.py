"""Every policy family (`vista_trainer.families`) through the same on-policy checks, on tiny models of the family's
own classes with random weights: GRPO through `trainer.train()` with a tool that returns an image mid-episode and a
batch mixing rows with and without images, then the recipe's BC and GRPO stages and `vista eval --policy hf:` on
the saved policy."""

import json

import pytest
import torch
import vista
from test_grpo import LossInputs, episodes_of, scripted_tool_turns, trainer_for
from vista_trainer.config import VistaTrainConfig
from vista_trainer.families import FAMILIES
from vista_trainer.generation import Turns, transformers_generate
from vista_trainer.pipeline import Pipeline

from conftest import policy_runs, save_family_policy

ENV = {"tools": ["measure_bar", "crop_bar"], "max_turns": 2, "reward": "brevity"}


@pytest.fixture(params=sorted(FAMILIES))
def family_dir(request, experts, tmp_path):
    return save_family_policy(request.param, experts, tmp_path / request.param)


def crop_then_generate():
    """First turn: crop the bar (scripted: a random policy never writes the call); then transformers samples."""
    scripted, _ = scripted_tool_turns()
    sampled = []

    def generate(trainer, episodes, budgets):
        out = [None] * len(episodes)
        first = [i for i, e in enumerate(episodes) if e.env.turn == 0 and e.images]
        later = [i for i in range(len(episodes)) if i not in first]
        for rows, engine in ((first, scripted), (later, transformers_generate)):
            if rows:
                turns = engine(trainer, [episodes[i] for i in rows], [budgets[i] for i in rows])
                for i, ids, logprobs in zip(rows, turns.ids, turns.logprobs):
                    out[i] = (ids, logprobs)
                    if engine is transformers_generate:
                        sampled.append((episodes[i], ids, logprobs))
        return Turns([o[0] for o in out], [o[1] for o in out])

    return generate, sampled


@pytest.mark.parametrize("lora", [False, True], ids=["full", "lora"])
def test_the_loss_sees_what_was_sampled_with_tool_images_and_rows_without_images(family_dir, lora, registry,
                                                                                  tmp_path):
    examples = list(registry.task("bar_height").load("train", seed=1000, limit=1))
    examples.append(vista.Example(id="no-image", task="bar_height", images=[], answer="4", answer_type="integer",
                                  question="How tall is a bar of 4 pixels?", metadata={"color": "red"}))
    generate, sampled = crop_then_generate()
    peft = dict(use_peft=True, lora_r=4, lora_alpha=8) if lora else {}
    trainer, rollout, _ = trainer_for(family_dir, registry, tmp_path, generate=generate, env=ENV, examples=examples,
                                      max_new_tokens=12, **peft)
    seen = LossInputs(trainer.model)
    trainer.train()
    episodes = list(episodes_of(rollout))
    assert sorted(len(e["images"]) for e in episodes) == [0, 0, 2, 2]  # the question's image and the crop
    rows = list(seen.rows())
    compared = 0
    for episode in episodes:
        row = next(r for r in rows if r["prompt"] == episode["prompt_ids"] and r["completion"] ==
                   episode["completion_ids"])
        turns = [(ids, lps) for e, ids, lps in sampled if e.trajectory is episode["trajectory"] and ids]
        runs = policy_runs(range(len(episode["completion_ids"])), episode["env_mask"], episode["logprobs"])
        runs = runs[len(runs) - len(turns):]  # the scripted call first, where there is one
        for (ids, lps), (positions, _) in zip(turns, runs, strict=True):
            assert [episode["completion_ids"][i] for i in positions] == ids  # where they were sampled, as sampled
            recorded = torch.tensor([episode["logprobs"][i] for i in positions])
            assert torch.allclose(recorded, torch.tensor(lps))
            gap = (row["logprobs"][positions] - recorded).abs().max()
            assert gap < 1e-4, f"sampled and trained logprobs differ by {gap:.2e}"
            compared += len(ids)
    assert compared >= 4


@pytest.mark.slow
def test_bc_and_grpo_train_the_family_and_vista_eval_plays_the_saved_policy(family_dir, registry, tmp_path):
    from vista.cli import main as vista_main

    config = VistaTrainConfig(run_dir=str(tmp_path / "run"), model_name_or_path=str(family_dir), tasks="bar_height",
                              expert_episodes=4, sft_epochs=1, grpo_steps=2, save_steps=2, num_generations=2,
                              grpo_batch_size=2, grpo_gradient_accumulation=1, max_new_tokens=12, max_length=1024)
    Pipeline(config, registry=registry, progress=False).run(("synthesize", "init", "sft", "grpo"))
    stages = json.loads((tmp_path / "run" / "stages.json").read_text())
    assert stages["grpo"]["steps"] == 2
    result = tmp_path / "eval"
    assert vista_main(["--plugins", "all", "eval", "--policy", f"hf:{tmp_path / 'run' / 'policies' / 'grpo'}",
                       "--tasks", "shape_scene", "--limit", "1", "--max-turns", "1", "--max-new-tokens", "4",
                       "--run-dir", str(result), "--quiet"]) == 0
    assert json.loads((result / "results.json").read_text())["per_task"]["shape_scene"]["n"] == 1
