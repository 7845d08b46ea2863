"""Evaluation of a scripted policy on a procedural task, its tables checked against counts done by hand."""

import json

import pytest
from test_env import call, expert
from vista.cli import main as vista_main
from vista.evaluation import EvalConfig, detect_tool_collapse, evaluate
from vista.report import compare, html_report, markdown, write_reports


def scripted(obs):
    """Seeds 0-5 of the test split: ids test-0 .. test-5. Even ids: the expert (correct, one scale call).
    id 1: an E3 call never fixed, then a wrong answer. id 3: a wrong answer without tools (NO_TOOL: the paper's E6
    follows valid tool output).
    id 5: no <answer> at all until truncation (FORMAT)."""
    n = int(obs["example_id"].split("-")[1])
    if n % 2 == 0:
        return expert(obs)
    if n == 1:
        if obs["turn"] == 0:
            return "<think>t</think>" + call("scale", value="x")
        return "<think>t</think><answer>7</answer>"
    if n == 3:
        return "<think>guess</think><answer>-1</answer>"
    return f"<think>still thinking {obs['turn']}</think>"


def test_eval_table_matches_a_hand_count(registry, tmp_path):
    config = EvalConfig(tasks=["multiply"], limit=6, seed=0, max_turns=2)
    results = evaluate(scripted, config, tmp_path, registry=registry)
    row = results["per_task"]["multiply"]
    assert row["n"] == 6
    assert row["accuracy"] == pytest.approx(3 / 6)          # ids 0, 2, 4
    assert row["format_rate"] == pytest.approx(4 / 6)       # id 1 made an invalid call, id 5 never answers
    assert row["tool_calls_per_episode"] == pytest.approx(4 / 6)  # 3 expert calls + 1 bad call
    assert results["averages"]["overall"] == pytest.approx(0.5)
    errors = results["errors"]
    assert errors["failed"] == 3
    assert {k: v["count"] for k, v in errors["primary"].items() if v["count"]} == {"E3": 1, "NO_TOOL": 1, "FORMAT": 1}
    tools = results["tools"]["per_tool"]["scale"]
    assert tools["calls"] == 4 and tools["failure_rate"] == pytest.approx(1 / 4)
    assert tools["failures_by_class"] == {"E3": 1}
    text = markdown(results)
    assert "| multiply | math | id | 6 | 50.0 | 66.7 | 0.67 |" in text
    assert "| E3 |" in text and "| scale | 4 |" in text


def test_eval_resumes_and_reports(registry, tmp_path):
    config = EvalConfig(tasks=["multiply"], limit=4)
    seen = []
    evaluate(expert, config, tmp_path, registry=registry, on_episode=seen.append)
    evaluate(expert, EvalConfig(tasks=["multiply"], limit=6), tmp_path, registry=registry, on_episode=seen.append)
    assert len(seen) == 6  # the second run played only the 2 new examples
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["per_task"]["multiply"]["n"] == 6 and results["per_task"]["multiply"]["accuracy"] == 1.0
    metrics = [{"step": i, "reward": 0.1 * i, "accuracy": 0.05 * i, "tool_calls_per_episode": 2.0 if i < 10 else 0.0}
               for i in range(20)]
    paths = write_reports(tmp_path, results, training_metrics=metrics)
    page = paths["html"].read_text()
    assert "<svg" in page and "Tool-use collapse: DETECTED" in page and "Accuracy per task" in page
    assert "results" in html_report(results)


def test_no_tool_mode_hides_tools_and_compare_shows_deltas(registry, tmp_path):
    with_tools = evaluate(expert, EvalConfig(tasks=["multiply"], limit=4), tmp_path / "a", registry=registry)

    def cot(obs):
        assert "Available tools" not in obs["messages"][0]["content"][0]["text"]
        return "<think>I cannot compute</think><answer>0</answer>"

    without = evaluate(cot, EvalConfig(tasks=["multiply"], limit=4, mode="no_tools"), tmp_path / "b",
                       registry=registry)
    table = compare([("tools", with_tools), ("no_tools", without)])
    assert "Difference from tools (accuracy points)" in table and "| no_tools | -100.0 | -100.0 |" in table


def test_compare_orders_a_training_runs_evaluations_by_stage_and_keeps_every_run_in_the_deltas():
    """The glob order of <run>/eval/* (bc, bc_grpo, untrained) is not the order of training: the stage is."""
    from vista.report import training_order

    def run(stage, accuracy):
        config = {} if stage is None else {"stage": stage}
        return {"per_task": {"t": {"accuracy": accuracy, "distribution": "id"}}, "config": config,
                "averages": {"in_distribution": accuracy, "out_of_distribution": None, "overall": accuracy}}

    globbed = [("bc", run(1, 0.4)), ("bc_grpo", run(2, 0.7)), ("untrained", run(0, 0.0)), ("cli", run(None, 0.7))]
    ordered = training_order(globbed)
    assert [name for name, _ in ordered] == ["untrained", "bc", "bc_grpo", "cli"]
    table = compare(ordered)
    deltas = table.split("Difference from untrained")[1]
    assert "| bc | +40.0 | +40.0 |" in deltas and "| bc_grpo | +70.0 | +70.0 |" in deltas
    assert "| cli | +70.0 | +70.0 |" in deltas


def test_difficulty_reaches_the_generated_examples_and_the_results(registry, tmp_path):
    """A vista-train run evaluates at its own difficulty (0 by default): --difficulty replays those examples,
    not the task's default (1)."""
    import vista
    from vista.evaluation import configured_task

    multiply = registry.task("multiply")
    registry = vista.load_plugins("all")
    task = registry.task("shape_count")
    easy = [e.question for e in configured_task(task, 0).load("test", seed=0, limit=6)]
    default = [e.question for e in task.load("test", seed=0, limit=6)]
    assert easy != default
    results = evaluate("oracle", EvalConfig(tasks=["shape_count"], limit=6, difficulty=0), tmp_path,
                       registry=registry)
    played = sorted(t.messages[1].content[-1].text for t in vista.TrajectoryLog(tmp_path).read())
    assert all(any(q in text for text in played) for q in easy) and results["config"]["difficulty"] == 0
    with pytest.raises(ValueError, match="task 'multiply' has no difficulty setting"):
        configured_task(multiply, 0)


def test_collapse_detection():
    assert detect_tool_collapse([{"tool_calls_per_episode": 1.5}] * 10)["collapsed"] is False
    falling = [{"tool_calls_per_episode": v} for v in [2, 2, 2, 2, 2, 1, 0.5, 0.05, 0, 0, 0, 0]]
    assert detect_tool_collapse(falling, window=4)["collapsed"] is True


def test_cli_eval_rejects_bad_input_clearly(registry, tmp_path, capsys):
    code = vista_main(["--plugins", "none", "eval", "--policy", "nonsense:x", "--tasks", "multiply",
                       "--run-dir", str(tmp_path)])
    assert code == 1


def test_table5_modes_reasoning_and_tools_apart_and_together(registry, tmp_path):
    """The paper's Table 5: w/ Tools (tools, no reasoning), w/ Reasoning (no tools), w/ T&R (both)."""
    from vista.evaluation import TABLE5_MODES

    seen = {}

    def no_reasoning(obs):
        seen.setdefault("prompt", obs["messages"][1]["content"][-1]["text"])
        seen.setdefault("system", obs["messages"][0]["content"][0]["text"])
        turn = expert(obs)
        return "<think></think>" + turn.split("</think>", 1)[1]

    results = {}
    for column, mode in TABLE5_MODES.items():
        seen.clear()
        config = EvalConfig(tasks=["multiply"], limit=4, seed=0, max_turns=2, mode=mode)
        results[column] = evaluate(no_reasoning, config, tmp_path / mode, registry=registry)
        if mode == "tools_only":
            assert "Do not reason" in seen["prompt"] and "scale" in seen["system"]
        if mode == "no_tools":
            assert "scale" not in seen["system"]
    # the same empty-reasoning turns: valid when no reasoning is asked for, a format fault when it is
    assert results["w/ Tools"]["format_rate"] == 1.0 and results["w/ Tools"]["averages"]["overall"] == 1.0
    assert results["w/ T&R"]["format_rate"] == 0.0
    assert results["w/ Reasoning"]["errors"]["per_call_rate"]["E1"] == 1.0  # no tool exists to call
