import json
from pathlib import Path

from vista_trainer.config import VistaTrainConfig
from vista_trainer.pipeline import Pipeline


def test_the_whole_recipe_runs_and_a_rerun_resumes(registry, tmp_path, capsys):
    config = VistaTrainConfig(run_dir=str(tmp_path / "run"), tasks="bar_height", expert_episodes=8, sft_epochs=1,
                              grpo_steps=1, save_steps=1, num_generations=2, grpo_batch_size=4,
                              grpo_gradient_accumulation=1,
                              eval_episodes=4, max_new_tokens=16, hidden_size=64, num_layers=1, num_heads=2,
                              vision_hidden_size=32, vocab_size=400, max_length=1024, copy_warmup_steps=2)
    Pipeline(config, registry=registry, progress=False).run(("synthesize", "init", "sft", "grpo", "evaluate"))
    run = tmp_path / "run"
    stages = json.loads((run / "stages.json").read_text())
    assert set(stages) == {"synthesize", "init", "sft", "grpo", "evaluate"}
    assert stages["synthesize"]["kept"] == 8 and stages["grpo"]["steps"] == 1
    assert set(stages["evaluate"]) == {"untrained", "bc", "bc+grpo"}
    assert all(0.05 < stages[name]["peak_rss_gib"] < 24 for name in ("synthesize", "init", "sft", "grpo"))
    table = (run / "results.md").read_text()
    assert table.count("\n| ") == 4  # header and three policies
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert {r["stage"] for r in records} == {"synthesize", "copy_warmup", "init", "sft", "grpo", "evaluate"}
    assert [r["peak_rss_gib"] > 0.05 for r in records if r["stage"] == "evaluate" and r.get("event")] == [True]
    assert 0 <= stages["init"]["copy_warmup_copy_accuracy"] <= 1  # the tiny model's copy warm-up ran (2 steps)
    assert "preset: tiny-cpu" in (run / "config.yaml").read_text()
    assert len(list((run / "eval").iterdir())) == 3
    capsys.readouterr()

    Pipeline(config, registry=registry, progress=False).run(("synthesize", "init", "sft", "grpo", "evaluate"))
    out = capsys.readouterr().out
    assert out.count("done earlier") == 4
    assert len([json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]) == len(records)


def test_a_trained_policy_is_evaluated_compared_and_browsed_through_the_cli(tmp_path, capsys):
    """The user's loop after `vista-train`: the saved policy loads in `vista eval --policy hf:<dir>` with the
    processor it was trained with and plays the same episodes as the trainer's evaluation; `vista compare` and
    `vista view` take the trainer's evaluation folders."""
    import shlex

    import vista
    from vista.cli import main as vista_main
    from vista.viewer import load_runs

    run = tmp_path / "run"
    config = VistaTrainConfig(run_dir=str(run), tasks="shape_scene", expert_episodes=4, sft_epochs=1,
                              eval_episodes=3, eval_seed=7, max_new_tokens=24, hidden_size=64, num_layers=1,
                              num_heads=2, vision_hidden_size=32, vocab_size=400, max_length=1024, copy_warmup_steps=2)
    Pipeline(config, registry=vista.load_plugins("all"), progress=False).run(("synthesize", "init", "sft", "evaluate"))
    for label in ("untrained", "bc"):
        assert {"results.json", "results.md", "report.html"} <= {p.name for p in (run / "eval" / label).iterdir()}
    trainer_results = json.loads((run / "eval" / "bc" / "results.json").read_text())
    command = trainer_results["config"]["same_as"]
    assert command in (run / "results.md").read_text()
    assert trainer_results["config"]["seed"] == 7 and " --seed 7 " in command  # test seeds 7, 8, 9
    capsys.readouterr()

    assert vista_main(["--plugins", "all", *shlex.split(command)[1:], "--quiet"]) == 0
    cli_dir = Path(shlex.split(command)[-1])
    cli_results = json.loads((cli_dir / "results.json").read_text())
    answers = lambda results_dir: sorted(  # noqa: E731
        (t.example_id, t.final_answer, len(t.tool_calls)) for t in vista.TrajectoryLog(results_dir).read())
    assert answers(cli_dir) == answers(run / "eval" / "bc")  # greedy: the same turns, so the same answers
    assert cli_results["per_task"]["shape_scene"]["accuracy"] == trainer_results["per_task"]["shape_scene"]["accuracy"]

    capsys.readouterr()
    assert vista_main(["--plugins", "none", "compare", str(run / "eval" / "untrained"), str(run / "eval" / "bc"),
                       str(cli_dir)]) == 0
    table = capsys.readouterr().out
    assert "| eval/untrained |" in table and "| eval/bc |" in table and "| cli-eval/bc |" in table
    assert vista_main(["--plugins", "none", "compare", str(run)]) == 0  # a folder above them: every evaluation
    # the viewer shows every log below the run: the evaluations and the expert demonstrations (played and kept)
    assert [name for name, _, _ in load_runs(run)] == ["cli-eval/bc", "eval/bc", "eval/untrained", "experts/kept",
                                                      "experts/played"]


def test_a_stage_s_peak_memory_is_its_own():
    """The peak resident set is reset when a stage begins: a later stage that allocates less reports less."""
    from vista_trainer.memory import PeakMemory

    with PeakMemory() as big:
        block = bytearray(512 * 2 ** 20)
        block[::4096] = b"x" * len(block[::4096])  # touch every page: resident, not just reserved
        del block
    with PeakMemory() as small:
        sum(range(1000))
    assert big.record()["peak_rss_gib"] >= small.record()["peak_rss_gib"] + 0.45
    assert "peak_rss_since_start" not in small.record()  # Linux: reset, not the process's lifetime peak
