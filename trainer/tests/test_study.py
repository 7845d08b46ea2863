"""The paper's ablations as switches of vista-train, and the recipe over seeds with standard errors."""

import json

import pytest
from vista.trajectory_log import TrajectoryLog
from vista_trainer.cli import main
from vista_trainer.config import VistaTrainConfig
from vista_trainer.pipeline import Pipeline
from vista_trainer.study import run_study

TINY = dict(tasks="bar_height", expert_episodes=8, sft_epochs=1, grpo_steps=1, save_steps=1, num_generations=2,
            grpo_batch_size=4, grpo_gradient_accumulation=1, eval_episodes=4, max_new_tokens=16, hidden_size=64,
            num_layers=1, num_heads=2, vision_hidden_size=32, vocab_size=400, max_length=1024,
            copy_warmup_steps=2)
ALL = ("synthesize", "init", "sft", "grpo", "evaluate")


def test_without_tools_no_tool_reaches_any_prompt_or_trajectory(registry, tmp_path):
    run = tmp_path / "run"
    Pipeline(VistaTrainConfig(run_dir=str(run), ablation="no_tools", **TINY), registry=registry,
             progress=False).run(ALL)
    stages = json.loads((run / "stages.json").read_text())
    assert set(stages["evaluate"]) == {"untrained, no tools", "bc, no tools", "bc+grpo, no tools"}
    assert stages["synthesize"]["kept"] > 0 and stages["grpo"]["steps"] == 1
    logs = [run / "experts" / "played", run / "experts" / "kept", *sorted((run / "eval").iterdir())]
    trajectories = [t for where in logs for t in TrajectoryLog(where)]
    assert len(trajectories) >= 8 + 3 * 4
    for t in trajectories:
        assert t.tool_calls == [] and t.metadata["tools"] == []
        system = t.messages[0].text
        assert "measure_bar" not in system and "<tool_call>" not in system
    # the experts answered from their reasoning alone, and the SFT policy learnt from those episodes
    assert all(len(t.steps) == 1 and t.correct for t in TrajectoryLog(run / "experts" / "kept"))
    assert "tools/measure_bar" not in stages["evaluate"]["bc+grpo, no tools"]


def test_without_rl_no_grpo_step_is_taken(registry, tmp_path):
    run = tmp_path / "run"
    Pipeline(VistaTrainConfig(run_dir=str(run), ablation="no_rl", **TINY), registry=registry, progress=False).run(ALL)
    stages = json.loads((run / "stages.json").read_text())
    assert "grpo" not in stages and set(stages["evaluate"]) == {"untrained", "bc"}
    assert not (run / "grpo").exists() and not (run / "policies" / "grpo").exists()
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert not [r for r in records if r["stage"] == "grpo"]


@pytest.mark.slow  # the recipe at two seeds, with and without tools: 11 s
def test_seeds_give_each_row_a_mean_and_a_standard_error(registry, tmp_path, capsys):
    config = VistaTrainConfig(run_dir=str(tmp_path / "study"), seeds="0,1", ablation="full,no_tools", **TINY)
    study = run_study(config, ALL, progress=False, registry=registry)
    for seed in (0, 1):
        for ablation in ("full", "no_tools"):
            run = tmp_path / "study" / f"seed-{seed}" / ablation
            assert json.loads((run / "stages.json").read_text())["evaluate"]
            assert f"seed: {seed}" in (run / "config.yaml").read_text()
    rows = study["rows"]
    assert list(rows) == ["untrained", "bc", "bc+grpo", "untrained, no tools", "bc, no tools", "bc+grpo, no tools"]
    for row in rows.values():
        accuracy = list(row["per_seed_accuracy"].values())
        assert row["accuracy"]["mean"] == pytest.approx(sum(accuracy) / 2)
        assert row["accuracy"]["se"] >= row["accuracy"]["se_seeds"] and row["accuracy"]["se"] > 0 or \
            row["accuracy"]["mean"] in (0.0, 1.0)
    gain = study["grpo_gain"]
    assert gain["mean"] == pytest.approx(rows["bc+grpo"]["accuracy"]["mean"] - rows["bc"]["accuracy"]["mean"])
    table = (tmp_path / "study" / "results.md").read_text()
    assert "| bc (w/o RL) |" in table and "| bc+grpo w/o tools |" in table and "GRPO gain over BC" in table
    assert "±" in table and table in capsys.readouterr().out
    # a second call resumes every run and gives the same table
    assert run_study(config, ALL, progress=False, registry=registry)["rows"] == rows


def test_bad_ablation_or_seeds_are_one_line_errors(capsys):
    assert main(["--ablation", "no_rlhf", "--run_dir", "/tmp/unused"]) == 2
    assert "ablation must be one or more of full, no_rl, no_tools" in capsys.readouterr().err
    assert main(["--seeds", "0,a", "--run_dir", "/tmp/unused"]) == 2
    assert "seeds must be comma-separated integers" in capsys.readouterr().err
