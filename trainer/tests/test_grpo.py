import copy
import json

import pytest
import torch
from vista_trainer.config import VistaTrainConfig
from vista_trainer.grpo import GRPORunner, append_jsonl, group_advantages, grpo_loss


def runner_for(tiny, registry, tmp_path, reward="hierarchical", **overrides):
    model, codec = tiny
    settings = dict(run_dir=str(tmp_path), num_generations=2, grpo_micro_batch=4, grpo_mini_batch=4,
                    max_new_tokens=24, grpo_learning_rate=1e-2, save_steps=1, grpo_steps=2, beta=0.1)
    settings.update(overrides)
    args = VistaTrainConfig(**settings).grpo_config(str(tmp_path / "grpo"))
    task = registry.task("bar_height")
    return GRPORunner(model, copy.deepcopy(model), codec, args,
                      draw=lambda step, n: list(task.load("train", seed=1000 + step * n, limit=n)),
                      registry=registry, env_kwargs={"tools": "recommended", "max_turns": 2, "reward": reward},
                      out_dir=tmp_path / "grpo", tool_names=["measure_bar"],
                      on_metrics=lambda r: append_jsonl(tmp_path / "metrics.jsonl", r))


def test_group_advantages_are_relative_within_each_group():
    adv = group_advantages(torch.tensor([1.0, 0.0, 5.0, 5.0]), 2)
    assert adv[0] > 0 > adv[1] and float(adv[0]) == pytest.approx(-float(adv[1]), rel=1e-4)
    assert adv[2:].abs().max() < 1e-6  # equal rewards: no signal


def test_clipped_objective_and_kl_penalty():
    mask = torch.ones(1, 3)
    old = torch.zeros(1, 3)
    new = torch.tensor([[0.5, -0.5, 0.0]], requires_grad=True)  # ratios e^0.5, e^-0.5, 1
    loss, info = grpo_loss(new, old, None, mask, torch.tensor([1.0]), 0.2, 0.0, 3)
    loss.backward()
    # positive advantage: the ratio above 1 + eps is clipped (no gradient), the others are not
    assert new.grad[0, 0] == 0 and new.grad[0, 1] < 0 and new.grad[0, 2] < 0
    assert info["clip_ratio"] == pytest.approx(2 / 3)
    _, info = grpo_loss(torch.zeros(1, 3), old, torch.full((1, 3), 0.3), mask, torch.tensor([0.0]), 0.2, 0.5, 3)
    assert info["kl"] == pytest.approx(torch.exp(torch.tensor(0.3)).item() - 1.3, rel=1e-4)


def test_a_few_grpo_steps_change_the_weights_and_log_error_and_tool_metrics(tiny, registry, tmp_path):
    # brevity differs between samples even for a random policy, so the groups carry a gradient
    runner = runner_for(tiny, registry, tmp_path, reward="brevity")
    before = [p.detach().clone() for p in runner.model.parameters()]
    records = runner.train(progress=False)
    assert len(records) == 2
    assert any(not torch.equal(a, b) for a, b in zip(before, runner.model.parameters()))
    logged = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in logged] == [1, 2]
    for record in logged:
        for key in ("accuracy", "format_rate", "repetition_rate", "reward", "kl", "loss", "tools/measure_bar",
                    "errors/E6_primary_rate", "errors/FORMAT_primary_rate",
                    *(f"errors/E{k}_per_call" for k in range(1, 6))):
            assert key in record, key
    # an untrained policy writes malformed turns: the format failures are attributed
    assert logged[0]["errors/FORMAT_primary_rate"] > 0 and logged[0]["format_rate"] < 1
    assert logged[0]["reward_std"] > 0


def test_grpo_resumes_from_its_last_checkpoint(tiny, registry, tmp_path):
    first = runner_for(tiny, registry, tmp_path, grpo_steps=1)
    first.train(progress=False)
    saved = {k: v.clone() for k, v in first.model.state_dict().items()}
    assert [p.name for p in first.checkpoints()] == ["step-1"]

    model, codec = tiny
    fresh = copy.deepcopy(model)
    torch.nn.init.zeros_(next(fresh.parameters()))  # a restarted process: weights differ until resumed
    resumed = runner_for((fresh, codec), registry, tmp_path, grpo_steps=2)
    assert resumed.resume() and resumed.step == 1
    assert all(torch.equal(saved[k], v) for k, v in resumed.model.state_dict().items())
    assert resumed.optimizer.state_dict()["state"]  # the optimiser's moments came back too
    resumed.train(progress=False)
    assert resumed.step == 2 and [p.name for p in resumed.checkpoints()] == ["step-1", "step-2"]
    steps = [json.loads(line)["step"] for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2]


class RecordingEngine:
    """Stands in for TRL's VLLMGeneration (which needs vLLM on a CUDA machine) with its interface: records what it
    is sent and answers each prompt with fixed token ids."""

    def __init__(self, reply_ids):
        self.reply_ids = reply_ids
        self.calls: list = []

    def sync_weights(self):
        self.calls.append("sync")

    def generate(self, prompts, images, num_generations):
        self.calls.append(("generate", prompts, images, num_generations))
        return prompts, [self.reply_ids for _ in prompts], None, None


def test_vllm_policy_sends_the_training_encoding_and_syncs_after_each_step(tiny, registry):
    import vista
    from vista_trainer.vllm_policy import VLLMPolicy

    model, codec = tiny
    args = VistaTrainConfig(max_new_tokens=24).grpo_config("unused")
    reply = "<think>Measure.</think><answer>3</answer>"
    engine = RecordingEngine(codec.tokenizer(reply)["input_ids"])
    policy = VLLMPolicy(model, codec, args, engine=engine)
    envs = [vista.VistaEnv(registry.task("bar_height"), registry=registry, tools="recommended") for _ in range(2)]
    observations = [env.reset(seed=seed)[0] for seed, env in enumerate(envs)]
    assert policy.generate(observations) == [reply, reply]
    policy.generate(observations)
    policy.mark_stale()
    policy.generate(observations)
    assert [c if c == "sync" else c[0] for c in engine.calls] == ["sync", "generate", "generate", "sync", "generate"]
    _, prompts, images, n = engine.calls[1]
    expected = [codec.encode_observation(o) for o in observations]
    assert prompts == [e.input_ids for e, _ in expected] and n == 1
    assert images == [list(i) for _, i in expected] and [len(i) for i in images] == [1, 1]

    codec.max_length = len(expected[0][0].input_ids)  # no room for a turn: an empty one, not sent to vLLM
    assert policy.generate(observations[:1]) == [""] and engine.calls[-1][0] == "generate" and len(engine.calls) == 5


@pytest.mark.skipif(__import__("importlib.util").util.find_spec("vllm") is not None, reason="vLLM is installed")
def test_use_vllm_without_vllm_says_what_to_install(tiny, registry, tmp_path):
    runner_args = VistaTrainConfig(run_dir=str(tmp_path)).grpo_config(str(tmp_path / "grpo"))
    runner_args.use_vllm = True
    model, codec = tiny
    with pytest.raises(ImportError, match=r"pip install trl\[vllm\]"):
        GRPORunner(model, None, codec, runner_args, draw=lambda step, n: [], registry=registry, env_kwargs={},
                   out_dir=tmp_path)


def test_lora_grpo_trains_only_the_adapters_and_merges_them(tiny, registry, tmp_path):
    from peft import PeftModel

    model, codec = tiny
    base = {k: v.clone() for k, v in model.state_dict().items()}
    peft_config = VistaTrainConfig(use_peft=True, lora_r=4, lora_alpha=8, lora_dropout=0.0).peft_config()
    args = VistaTrainConfig(run_dir=str(tmp_path), num_generations=2, grpo_micro_batch=4, grpo_mini_batch=4,
                            max_new_tokens=24, grpo_learning_rate=5e-2, save_steps=1, grpo_steps=2,
                            beta=0.1).grpo_config(str(tmp_path / "grpo"))
    task = registry.task("bar_height")
    runner = GRPORunner(model, None, codec, args, peft_config=peft_config,
                        draw=lambda step, n: list(task.load("train", seed=1000 + step * n, limit=n)),
                        registry=registry, env_kwargs={"tools": "recommended", "max_turns": 2, "reward": "brevity"},
                        out_dir=tmp_path / "grpo", tool_names=["measure_bar"])
    assert isinstance(runner.model, PeftModel) and runner.ref_model is None
    trainable = {n for n, p in runner.model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)
    records = runner.train(progress=False)
    assert all(r["kl"] >= 0 for r in records) and records[-1]["kl"] > 0  # the reference: adapters switched off
    merged = runner.merged_model()
    assert not isinstance(merged, PeftModel) and set(merged.state_dict()) == set(base)
    assert any(not torch.equal(base[k], v) for k, v in merged.state_dict().items())


def torchrun_two_processes(root, mode: str, processes: int = 2, fsdp: bool = False, steps: int = 2) -> None:
    """Run ddp_grpo_worker.py in ``mode`` as CPU processes (gloo) on loopback."""
    import os
    import socket
    import subprocess
    import sys
    from pathlib import Path

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    worker = Path(__file__).parent / "ddp_grpo_worker.py"
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(processes), "--master_addr",
               "127.0.0.1", "--master_port", str(port), str(worker), str(root), mode, *(["fsdp"] if fsdp else [])]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "VISTA_TEST_STEPS": str(steps)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode and "terminate called without an active exception" in done.stderr:
        # Seen twice in full-suite runs on the shared CI machine (never alone): a gloo worker thread aborts one
        # process (SIGABRT, no Python error). Not understood yet (see the issue notes); one more try.
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]


def test_two_processes_train_one_policy(tiny, registry, tmp_path):
    """Each process plays half of every step's groups, gradients are averaged, and both end with the same weights;
    the main process logs one record per step over all episodes."""
    from vista_trainer.policy import save_policy

    model, codec = tiny
    save_policy(model, codec.processor, tmp_path / "policy")
    torchrun_two_processes(tmp_path, "grpo")
    first, second = (torch.load(tmp_path / f"weights-{rank}.pt") for rank in (0, 1))
    assert all(torch.equal(first[k], second[k]) for k in first)
    initial = model.state_dict()
    assert any(not torch.equal(initial[k], first[k]) for k in first)
    logged = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in logged] == [1, 2]  # written once, by the main process
    assert all(r["processes"] == 2 and r["episodes"] == 8 for r in logged)
    assert sum(r["tools/measure_bar"] >= 0 for r in logged) == 2

    # relaunched as one process, the run resumes from the two processes' last checkpoint
    fresh = copy.deepcopy(model)
    resumed = runner_for((fresh, codec), registry, tmp_path, grpo_steps=3)
    assert resumed.resume() and resumed.step == 2
    assert all(torch.equal(first[k], v) for k, v in resumed.model.state_dict().items())


def test_sharded_policy_trains_over_two_processes_and_resumes_either_way(tiny, registry, tmp_path):
    """--fsdp: each process holds half of the weights (and a sharded KL reference), rollouts run gathered, the
    checkpoint is the whole model, so one unsharded process resumes it and two sharded processes resume that."""
    from vista_trainer.policy import save_policy

    model, codec = tiny
    save_policy(model, codec.processor, tmp_path / "policy")
    torchrun_two_processes(tmp_path, "grpo", fsdp=True, steps=2)
    shares = [json.loads((tmp_path / f"share-{rank}.json").read_text()) for rank in (0, 1)]
    assert all(s["held"] < 0.6 * s["whole"] and s["held_ref"] < 0.6 * s["whole"] for s in shares)  # not replicas
    assert shares[0]["held"] + shares[1]["held"] >= shares[0]["whole"]
    assert not (tmp_path / "weights-1.pt").exists()  # the whole model is gathered on the main process only
    trained = torch.load(tmp_path / "weights-0.pt")
    initial = model.state_dict()
    assert set(trained) == set(initial) and any(not torch.equal(initial[k], trained[k]) for k in trained)
    logged = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in logged] == [1, 2] and all(r["episodes"] == 8 for r in logged)
    assert all(r["kl"] >= 0 for r in logged) and logged[-1]["kl"] > 0  # against the sharded reference

    # one unsharded process resumes the sharded run's checkpoint (weights and optimiser) and takes a third step
    resumed = runner_for((copy.deepcopy(model), codec), registry, tmp_path, grpo_steps=3, grpo_micro_batch=2,
                         grpo_mini_batch=8)
    assert resumed.resume() and resumed.step == 2
    assert all(torch.equal(trained[k], v) for k, v in resumed.model.state_dict().items())
    saved = torch.load(tmp_path / "grpo" / "checkpoints" / "step-2" / "optimizer.bin")["state"]
    restored = resumed.optimizer.state_dict()["state"]  # Adam's moments came back too, for every parameter
    assert len(restored) == len(saved) == len(list(model.parameters()))
    assert all(torch.equal(saved[i]["exp_avg_sq"], restored[i]["exp_avg_sq"]) for i in saved)
    resumed.train(progress=False)
    third = {k: v.clone() for k, v in resumed.model.state_dict().items()}

    # and two sharded processes resume that unsharded checkpoint
    torchrun_two_processes(tmp_path, "grpo", fsdp=True, steps=4)
    share = json.loads((tmp_path / "share-0.json").read_text())
    assert share["step"] == 3 and share["restored"] is True  # weights and Adam moments as the checkpoint holds them
    fourth = torch.load(tmp_path / "weights-0.pt")
    assert any(not torch.equal(third[k], fourth[k]) for k in fourth)
    assert [json.loads(line)["step"] for line in (tmp_path / "metrics.jsonl").read_text().splitlines()] == [1, 2, 3, 4]


def test_groups_must_deal_evenly_to_the_processes(tiny, registry, tmp_path):
    from types import SimpleNamespace

    model, codec = tiny
    args = VistaTrainConfig(run_dir=str(tmp_path), num_generations=2, grpo_micro_batch=2,
                            grpo_mini_batch=4).grpo_config(str(tmp_path / "grpo"))
    three = SimpleNamespace(num_processes=3, distributed_type="MULTI_CPU")
    with pytest.raises(ValueError, match="multiple of num_generations x 3 = 6"):
        GRPORunner(model, None, codec, args, draw=lambda step, n: [], registry=registry, env_kwargs={},
                   out_dir=tmp_path, accelerator=three)


def test_two_processes_take_the_gradient_one_process_takes(tiny, tmp_path):
    """The same episodes (a scripted policy) played by one process or dealt to two give the same gradient: each
    process's loss is normalised by the tokens of the whole step and DDP's average is undone by the world size."""
    from vista_trainer.policy import save_policy

    model, codec = tiny
    save_policy(model, codec.processor, tmp_path / "policy")
    torchrun_two_processes(tmp_path, "scripted", processes=1)
    torchrun_two_processes(tmp_path, "scripted", processes=2)
    torchrun_two_processes(tmp_path, "scripted", processes=2, fsdp=True)  # each process holds a shard
    one = torch.load(tmp_path / "grads-1.pt")
    assert any(g.abs().sum() > 0 for g in one.values())
    for other in ("grads-2.pt", "grads-2-fsdp.pt"):
        two = torch.load(tmp_path / other)
        assert set(one) == set(two), other
        for name in one:
            assert torch.allclose(one[name], two[name], rtol=1e-4, atol=1e-7), (other, name)


def test_two_process_sharded_lora_recipe_runs_each_stage_where_it_belongs(tmp_path):
    """`vista-train` under torchrun with LoRA and --fsdp: synthesis, initialisation and evaluation once (main
    process), SFT and GRPO on both; the stages' files are whole and written once."""
    torchrun_two_processes(tmp_path, "pipeline", fsdp=True)
    run = tmp_path / "run"
    stages = json.loads((run / "stages.json").read_text())
    assert set(stages) == {"synthesize", "init", "sft", "grpo", "evaluate"}
    assert stages["synthesize"]["played"] == 8 and stages["grpo"]["steps"] == 1
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    grpo = [r for r in records if r["stage"] == "grpo" and "step" in r]
    assert len(grpo) == 1 and grpo[0]["processes"] == 2 and grpo[0]["episodes"] == 4
    assert len([r for r in records if r["stage"] == "evaluate" and "policy" in r]) == 4
    assert len((run / "experts" / "played" / "trajectories.jsonl").read_text().splitlines()) == 8
