import json

from vista_trainer.config import VistaTrainConfig
from vista_trainer.pipeline import Pipeline


def test_the_whole_recipe_runs_and_a_rerun_resumes(registry, tmp_path, capsys):
    config = VistaTrainConfig(run_dir=str(tmp_path / "run"), tasks="bar_height", expert_episodes=8, sft_epochs=1,
                              grpo_steps=1, save_steps=1, num_generations=2, grpo_batch_size=4,
                              grpo_gradient_accumulation=1,
                              eval_episodes=4, max_new_tokens=16, hidden_size=64, num_layers=1, num_heads=2,
                              vision_hidden_size=32, vocab_size=400, max_length=1024)
    Pipeline(config, registry=registry, progress=False).run(("synthesize", "init", "sft", "grpo", "evaluate"))
    run = tmp_path / "run"
    stages = json.loads((run / "stages.json").read_text())
    assert set(stages) == {"synthesize", "init", "sft", "grpo", "evaluate"}
    assert stages["synthesize"]["kept"] == 8 and stages["grpo"]["steps"] == 1
    assert set(stages["evaluate"]) == {"untrained", "bc", "bc+grpo", "bc+grpo, no tools"}
    assert stages["evaluate"]["bc+grpo, no tools"]["tools/measure_bar"] == 0  # no tool was offered
    table = (run / "results.md").read_text()
    assert table.count("\n| ") == 5  # header and four policies
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert {r["stage"] for r in records} == {"synthesize", "init", "sft", "grpo", "evaluate"}
    assert "preset: tiny-cpu" in (run / "config.yaml").read_text()
    assert len(list((run / "eval").iterdir())) == 4
    capsys.readouterr()

    Pipeline(config, registry=registry, progress=False).run(("synthesize", "init", "sft", "grpo", "evaluate"))
    out = capsys.readouterr().out
    assert out.count("done earlier") == 4
    assert len([json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]) == len(records)
