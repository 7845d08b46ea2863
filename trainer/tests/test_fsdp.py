"""Sharded GRPO: FSDP through accelerate over two CPU processes (gloo) under torchrun, with accelerate's FSDP
settings in the environment as `accelerate launch --config_file fsdp.yaml` passes them (ddp_grpo_worker.py lets
accelerate shard on CPU: `fsdp_on_cpu`). The step is the one a single unsharded process takes on the same episodes,
generation runs in lock step, and the gathered policy is saved where `vista eval --policy hf:<dir>` loads it.

FSDP 2 throughout; FSDP 1 for generation only: its full state dict (accelerate's ``get_state_dict``, which offloads
to CPU) cannot be gathered from CPU parameters (torch 2.13: "setStorage ... out of bounds for storage of size 0")."""

import json

import pytest
import torch
from test_grpo import load, torchrun
from vista_trainer.families import FAMILIES

from conftest import save_family_policy


def fsdp(version: int, state_dict: str = "FULL_STATE_DICT") -> dict[str, str]:
    """accelerate's FSDP settings: every decoder layer and vision block its own unit (the model's
    ``_no_split_modules``), so a forward pass gathers weights collectively, unit by unit."""
    return {"ACCELERATE_USE_FSDP": "true", "FSDP_VERSION": str(version),
            "FSDP_AUTO_WRAP_POLICY": "TRANSFORMER_BASED_WRAP", "FSDP_STATE_DICT_TYPE": state_dict}


def assert_sharded(root, run: str, parameters: int) -> None:
    for rank in (0, 1):
        sharding = json.loads((root / f"sharding-{run}-{rank}.json").read_text())
        assert sharding["fsdp"] and sharding["local_parameters"] < 0.75 * parameters, sharding


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["scripted", "scripted-lora"])
def test_two_sharded_processes_take_the_step_one_process_takes(policy_dir, mode):
    """The same scripted episodes in one unsharded process, or split over two that shard the weights: one SGD step
    moves every weight by the same amount, and the policy the recipe saves from the shards (`checkpoints.save_trained`,
    LoRA merged) is that step's, whole, in a folder `vista eval --policy hf:` plays."""
    from vista.cli import main as vista_main

    root = policy_dir.parent
    torchrun(root, mode, processes=1)
    torchrun(root, mode, processes=2, environment=fsdp(2))
    lora = "lora-" if mode == "scripted-lora" else ""
    initial = load(policy_dir)[0]
    assert_sharded(root, f"{lora}fsdp-2", sum(p.numel() for p in initial.parameters()))
    start = initial.state_dict()
    one, two = (load(root / "run" / "policies" / f"{lora}{name}")[0].state_dict() for name in ("1", "fsdp-2"))
    assert set(one) == set(two) == set(start)
    moved = [k for k in one if not torch.equal(one[k], start[k])]
    assert len(moved) >= (2 if lora else len(one) // 2), moved
    for name in one:  # the steps, compared: the weights themselves would hide a wrong gradient under their size
        assert torch.allclose(two[name] - start[name], one[name] - start[name], rtol=1e-4, atol=1e-7), name

    result = root / "eval"
    assert vista_main(["--plugins", "all", "eval", "--policy", f"hf:{root / 'run' / 'policies' / f'{lora}fsdp-2'}",
                       "--tasks", "shape_scene", "--limit", "1", "--max-turns", "1", "--max-new-tokens", "4",
                       "--run-dir", str(result), "--quiet"]) == 0
    assert json.loads((result / "results.json").read_text())["per_task"]["shape_scene"]["n"] == 1


@pytest.mark.slow
@pytest.mark.parametrize("version", [1, 2])
def test_sharded_processes_generate_in_lockstep(policy_dir, version):
    """transformers generation on FSDP-sharded weights, where a forward pass is a collective: the rollout sees the
    sharding (`needs_lockstep`), the process whose episodes ended after one turn keeps generating a throw-away
    token while the other plays on, and the step completes (a process that stopped generating would leave the
    other waiting in the gather until the test's timeout)."""
    root = policy_dir.parent
    torchrun(root, "lockstep", environment=fsdp(version, "SHARDED_STATE_DICT"))  # the checkpoint: sharded
    assert_sharded(root, "lockstep", sum(p.numel() for p in load(policy_dir)[0].parameters()))
    busy, idle = ((root / f"calls-{rank}.txt").read_text().split() for rank in (0, 1))
    assert len(busy) == len(idle) >= 2
    assert set(busy) == {"2"} and idle == ["2"] + ["1"] * (len(idle) - 1)
    assert (root / "grpo-lockstep" / "checkpoint-1").is_dir()  # the step was taken


@pytest.mark.slow
def test_the_lora_recipe_runs_sharded_and_saves_whole_policies(tmp_path):
    """`vista-train`'s recipe with LoRA on two FSDP processes: SFT and GRPO on both, each stage's policy gathered
    from the shards (every process takes part: a save on the main process alone waits for ever in the gather) and
    saved whole, LoRA merged."""
    torchrun(tmp_path, "pipeline", environment=fsdp(2))
    run = tmp_path / "run"
    stages = json.loads((run / "stages.json").read_text())
    assert set(stages) == {"synthesize", "init", "sft", "grpo", "evaluate"} and stages["grpo"]["steps"] == 1
    assert len([line for line in (run / "metrics.jsonl").read_text().splitlines()
                if '"stage": "evaluate"' in line and '"policy"' in line]) == 3
    init, sft, grpo = (load(run / "policies" / name)[0].state_dict() for name in ("init", "sft", "grpo"))
    assert set(init) == set(sft) == set(grpo)
    assert any(not torch.equal(sft[k], init[k]) for k in init)  # the adapters' update, merged into the weights


@pytest.fixture(params=[name for name in sorted(FAMILIES) if name != "qwen2.5-vl"])  # Qwen2.5-VL: the tests above
def other_family_dir(request, experts, tmp_path):
    return save_family_policy(request.param, experts, tmp_path / "policy")


@pytest.mark.slow
def test_each_family_takes_the_same_step_sharded(other_family_dir):
    """Every other family's tiny policy (`vista_trainer.families`): two FSDP 2 processes take the step one unsharded
    process takes, and the saved policy is whole."""
    root = other_family_dir.parent
    torchrun(root, "scripted", processes=1)
    torchrun(root, "scripted", processes=2, environment=fsdp(2))
    initial = load(other_family_dir)[0]
    assert_sharded(root, "fsdp-2", sum(p.numel() for p in initial.parameters()))
    start = initial.state_dict()
    one, two = (load(root / "run" / "policies" / name)[0].state_dict() for name in ("1", "fsdp-2"))
    assert set(one) == set(two) == set(start)
    assert len([k for k in one if not torch.equal(one[k], start[k])]) >= len(one) // 2
    for name in one:
        assert torch.allclose(two[name] - start[name], one[name] - start[name], rtol=1e-4, atol=1e-7), name
