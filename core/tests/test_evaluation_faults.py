"""Faults of the machinery in evaluation: an episode that met a tool the environment failed is counted apart and
played again by a rerun; two evaluations of one run directory never count an episode twice."""

import json
import subprocess
import sys

from serving import server_process
from test_evaluation import scripted
from vista.cli import main as vista_main
from vista.evaluation import EvalConfig, evaluate
from vista.serve.client import attach_remote_tools


def test_an_outage_is_counted_apart_and_a_rerun_plays_those_episodes_again(registry, tmp_path, capsys):
    """`scale` served by a real tool server (the sample plugin's, in a process of its own) that is killed before the
    evaluation: the episodes whose calls met it are counted apart; a rerun against a server that answers plays them
    again, and only them."""
    config = EvalConfig(tasks=["multiply"], limit=6, seed=0, max_turns=2)
    with server_process() as (url, proc):
        attach_remote_tools(registry, url, ["scale"], retries=0, timeout_s=10)
        proc.kill()
        proc.wait()
        down = evaluate(scripted, config, tmp_path, registry=registry)
    # the three expert episodes (even ids) met the outage; the others are the policy's own (see `scripted`)
    assert down["environment_faults"] == {"episodes": 3, "by_task": {"multiply": 3},
                                          "by_cause": {"scale: unavailable": 3}}
    assert down["per_task"]["multiply"]["n"] == 3 and down["per_task"]["multiply"]["accuracy"] == 0.0
    with server_process() as (url, _):
        attach_remote_tools(registry, url, ["scale"], retries=0, timeout_s=10)
        again = evaluate(scripted, config, tmp_path, registry=registry)
    assert again["environment_faults"]["episodes"] == 0
    assert again["per_task"]["multiply"]["n"] == 6 and again["per_task"]["multiply"]["accuracy"] == 0.5
    assert len(again["episodes"]) == 6
    assert len((tmp_path / "trajectories.jsonl").read_text().splitlines()) == 9  # only the three played again


def test_a_second_eval_on_a_busy_run_directory_is_refused_and_nothing_counts_twice(tmp_path, capsys):
    hold = "import sys, time\nfrom vista.locks import RunLock\nwith RunLock(sys.argv[1]):\n" \
           "    print('held', flush=True)\n    time.sleep(60)\n"
    proc = subprocess.Popen([sys.executable, "-c", hold, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    command = ["--plugins", "all", "eval", "--policy", "oracle", "--tasks", "shape_scene", "--limit", "5",
               "--run-dir", str(tmp_path), "--quiet"]
    try:
        assert proc.stdout.readline().strip() == "held"
        assert vista_main(command) != 0
    finally:
        proc.kill()
        proc.wait()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"PID {proc.pid}" in err[0], err
    assert not (tmp_path / "trajectories.jsonl").exists()
    assert vista_main(command) == 0 and vista_main(command) == 0  # then one at a time: the rerun resumes
    assert json.loads((tmp_path / "results.json").read_text())["per_task"]["shape_scene"]["n"] == 5
    assert len((tmp_path / "trajectories.jsonl").read_text().splitlines()) == 5
