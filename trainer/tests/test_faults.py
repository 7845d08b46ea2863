"""Faults of the machinery during GRPO never teach the policy: a real tool server (`vista serve` on the toy plugin's
tools, in a process of its own) killed between two steps and started again."""

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from test_grpo import scripted_tool_turns, trainer_for
from transformers import TrainerCallback
from vista.serve.client import attach_remote_tools
from vista_trainer.grpo import ToolOutage

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "core" / "tests"))
from serving import ServerProcess  # noqa: E402

ENV = {"tools": ["crop_bar"], "max_turns": 2, "reward": "brevity"}


@pytest.fixture
def server():
    """The toy plugin's tools behind `vista serve`, in a process the tests kill and start again."""
    server = ServerProcess(here=Path(__file__).parent, module="toy_plugin")
    server.start()
    yield server
    server.kill()


class Outage(TrainerCallback):
    """Kills the server after step ``down`` and starts it again after step ``up`` (None: never)."""

    def __init__(self, server, down: int, up: int | None):
        self.server, self.down, self.up = server, down, up

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.down:
            self.server.kill()
        if state.global_step == self.up:
            self.server.start()


def remote_trainer(policy_dir, registry, tmp_path, server, **overrides):
    attach_remote_tools(registry, server.url, ["crop_bar"], retries=0, timeout_s=10)
    generate, _ = scripted_tool_turns()
    return trainer_for(policy_dir, registry, tmp_path, generate=generate, env=ENV, **overrides)


def test_a_server_killed_mid_run_costs_no_episode_a_policy_error(policy_dir, registry, tmp_path, server, caplog):
    trainer, rollout, records = remote_trainer(policy_dir, registry, tmp_path, server, grpo_steps=3, save_steps=3)
    trainer.add_callback(Outage(server, down=1, up=2))
    with caplog.at_level(logging.WARNING, logger="vista_trainer.grpo"):
        trainer.train()
    batches = [[dict(zip(out, values)) for values in zip(*out.values())] for out in rollout.outputs]
    assert len(batches) == 3
    for number, batch in enumerate(batches, 1):
        faulted = [e for e in batch if e["trajectory"].environment_faults]
        if number == 2:  # the server was down for this batch's rollout: every episode met it, none was scored
            assert len(faulted) == len(batch)
            assert all(e["trajectory"].metadata.get("environment_fault") for e in batch)
        else:
            assert not faulted and all(e["episode_reward"] is not None for e in batch)
        assert all(e["episode_reward"] is None for e in faulted)
    outage = [r.getMessage() for r in caplog.records if "tool outage" in r.getMessage()]
    assert len(outage) == 2 and "crop_bar: unavailable" in outage[0] and "over after 1" in outage[1], outage
    rates = [r["environment_fault_rate"] for r in records if "environment_fault_rate" in r]
    assert rates == [0.0, 1.0, 0.0]
    assert [r["step"] for r in records if "loss" in r] == [1, 2, 3]  # the run finished


def test_an_outage_longer_than_its_patience_stops_training_in_one_line(policy_dir, registry, tmp_path, server):
    trainer, _, records = remote_trainer(policy_dir, registry, tmp_path, server, grpo_steps=4, save_steps=4,
                                         tool_outage_patience=1)
    trainer.add_callback(Outage(server, down=1, up=None))
    with pytest.raises(ToolOutage) as raised:
        trainer.train()
    message = str(raised.value)
    assert "\n" not in message and "crop_bar: unavailable" in message and "resume" in message
    assert [r["step"] for r in records if "loss" in r] == [1, 2]  # stopped at the third batch, the second down


def test_a_checkpoint_cut_short_is_passed_by_and_the_resumed_run_ends_where_an_uninterrupted_one_does(
        policy_dir, registry, tmp_path, caplog):
    """An uninterrupted 4-step run (transformers sampling, so that the steps move the weights), and the same run
    whose last save was cut short (its ``trainer_state.json``, the last file written, missing) beside an empty
    folder a kill left: the rerun resumes from checkpoint-2, says so, and ends with the uninterrupted run's
    weights."""
    import shutil

    import torch
    from vista_trainer.checkpoints import last_checkpoint, trained_model

    env = {**ENV, "tools": ["measure_bar", "crop_bar"]}  # sampled by transformers: rewards that differ, weights
    whole, _, _ = trainer_for(policy_dir, registry, tmp_path / "whole", env=env, grpo_steps=4, save_steps=2,
                              max_new_tokens=8, max_length=4096)
    whole.train()
    expected = {k: v.clone() for k, v in trained_model(whole).state_dict().items()}
    grpo = tmp_path / "cut" / "grpo"
    shutil.copytree(tmp_path / "whole" / "grpo", grpo)
    (grpo / "checkpoint-4" / "trainer_state.json").unlink()
    (grpo / "checkpoint-4" / "vista-complete").unlink()
    (grpo / "checkpoint-6").mkdir()
    with caplog.at_level(logging.WARNING, logger="vista_trainer.grpo"):
        checkpoint = last_checkpoint(grpo)
    assert checkpoint == str(grpo / "checkpoint-2")
    assert (grpo / "checkpoint-4.incomplete" / "model.safetensors").is_file()  # moved aside, nothing lost
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "resuming from checkpoint-2" in said and "checkpoint-4: no trainer_state.json" in said
    assert "checkpoint-6" in said
    resumed, _, _ = trainer_for(policy_dir, registry, tmp_path / "cut", env=env, grpo_steps=4, save_steps=2,
                                max_new_tokens=8, max_length=4096)
    from test_grpo import load

    at_two = load(grpo / "checkpoint-2")[0].state_dict()
    assert any(not torch.allclose(at_two[k], expected[k], atol=1e-6) for k in expected)  # steps 3-4 moved them
    resumed.train(resume_from_checkpoint=checkpoint)
    got = trained_model(resumed).state_dict()
    assert all(torch.allclose(got[k], expected[k], atol=1e-6) for k in expected)
    assert last_checkpoint(grpo) == str(grpo / "checkpoint-4")  # written again, whole


def test_a_second_vista_train_on_a_busy_run_directory_is_refused_in_one_line(tmp_path, capsys):
    """While another process holds the run directory, `vista-train` on it stops before any work, naming it."""
    from vista_trainer.cli import main

    run_dir = tmp_path / "run"
    hold = "import sys, time\nfrom vista.locks import RunLock\nwith RunLock(sys.argv[1]):\n" \
           "    print('held', flush=True)\n    time.sleep(60)\n"
    proc = subprocess.Popen([sys.executable, "-c", hold, str(run_dir)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        assert main(["--run_dir", str(run_dir), "--tasks", "shape_scene", "--plugins", "all"]) == 2
    finally:
        proc.kill()
        proc.wait()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"PID {proc.pid}" in err[0] and "Traceback" not in err[0], err
    assert sorted(p.name for p in run_dir.iterdir()) == [".vista-lock"]  # nothing written: no config, no episodes


def test_sft_resumes_from_its_last_whole_checkpoint_and_logs_each_step_once(registry, tmp_path, caplog):
    """SFT with checkpoints (``sft_save_steps``) killed while saving its last one: the rerun goes on from the one
    before, and metrics.jsonl holds each SFT step once (the killed attempt's records past that checkpoint dropped)."""
    import json

    from vista_trainer.config import VistaTrainConfig
    from vista_trainer.pipeline import Pipeline

    run = tmp_path / "run"
    config = VistaTrainConfig(run_dir=str(run), tasks="bar_height", expert_episodes=8, sft_epochs=3,
                              sft_batch_size=4, sft_gradient_accumulation=1, sft_save_steps=2, hidden_size=64,
                              num_layers=1, num_heads=2, vision_hidden_size=32, vocab_size=400, max_length=1024,
                              copy_warmup_steps=0)
    stages = ("synthesize", "init", "sft")
    Pipeline(config, registry=registry, progress=False).run(stages)

    def sft_steps():
        return [r["step"] for r in map(json.loads, (run / "metrics.jsonl").read_text().splitlines())
                if r["stage"] == "sft" and "step" in r]

    before = sft_steps()
    assert json.loads((run / "stages.json").read_text())["sft"]["steps"] == 6 and 5 in before
    # killed while writing checkpoint-6, after logging steps 5 and 6: no stage record, no saved policy
    (run / "sft" / "checkpoint-6" / "trainer_state.json").unlink()
    (run / "sft" / "checkpoint-6" / "vista-complete").unlink()
    done = json.loads((run / "stages.json").read_text())
    del done["sft"]
    (run / "stages.json").write_text(json.dumps(done))
    with caplog.at_level(logging.WARNING, logger="vista_trainer.grpo"):
        Pipeline(config, registry=registry, progress=False).run(stages)
    assert any("resuming from checkpoint-4" in r.getMessage() for r in caplog.records)
    after = sft_steps()
    assert after == before and len(after) == len(set(after)), (before, after)
    assert json.loads((run / "stages.json").read_text())["sft"]["steps"] == 6


def test_a_full_disk_stops_synthesis_in_one_line_leaves_nothing_behind_and_the_rerun_completes(tmp_path):
    """Files may not grow past 30 kB (``RLIMIT_FSIZE``: every write past it fails with the OS's own error, as on a
    full disk): `vista-train synthesize` stops at once with one line naming the file, leaves no temporary or
    partial file, and the same command without the limit plays the remaining episodes, each once."""
    import json
    import resource
    import signal

    def small_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails (EFBIG) instead of killing the process
        resource.setrlimit(resource.RLIMIT_FSIZE, (30_000, 30_000))

    command = [sys.executable, "-m", "vista_trainer.cli", "synthesize", "--run_dir", str(tmp_path / "run"),
               "--tasks", "shape_scene", "--expert_episodes", "40", "--plugins", "all"]
    cut = subprocess.run(command, capture_output=True, text=True, preexec_fn=small_files, timeout=300)
    assert cut.returncode == 2
    assert cut.stderr.strip().count("\n") == 0 and "cannot write" in cut.stderr and "Traceback" not in cut.stderr
    played = tmp_path / "run" / "experts" / "played"
    assert not [p for p in (tmp_path / "run").rglob("*") if p.suffix in (".tmp", ".partial")]
    before = len((played / "trajectories.jsonl").read_text().splitlines())
    assert 0 < before < 40
    whole = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert whole.returncode == 0, whole.stderr
    keys = [json.loads(line)["metadata"]["episode_key"] for line in (played / "trajectories.jsonl").open()]
    assert len(keys) == len(set(keys)) == 40
