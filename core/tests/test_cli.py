"""The `vista` command as a user meets it: tables for people, JSON on request, one-line errors with a non-zero exit,
nothing left behind by a failed command."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from vista.cli import main as vista_main
from vista.evaluation import EvalConfig, evaluate


def run_cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vista.cli", *args], capture_output=True, text=True, timeout=120,
                          **kwargs)


def one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("vista: error: ") and "Traceback" not in stderr, stderr
    return lines[0]


def test_listings_are_tables_for_people_and_json_for_machines():
    table = run_cli("--plugins", "math", "tools")
    assert table.returncode == 0 and table.stdout.splitlines()[0].split()[:3] == ["tool", "family", "plugin"]
    rows = {line.split()[0]: line.split() for line in table.stdout.splitlines()[1:]}
    assert rows["calculator"][1:3] == ["math", "math"] and "{" not in table.stdout
    machine = run_cli("--plugins", "math", "tools", "--json")
    tools = {t["name"]: t for t in json.loads(machine.stdout)}
    assert set(tools) == set(rows) and tools["calculator"]["schema"]["type"] == "object"
    plugins = json.loads(run_cli("--plugins", "math", "plugins", "--json").stdout)
    assert [p["name"] for p in plugins["plugins"]] == ["builtin", "math"]


def test_an_unknown_tool_family_is_one_line_naming_the_families():
    completed = run_cli("--plugins", "none", "tools", "--family", "chrat")
    assert completed.returncode == 1 and completed.stdout == ""
    assert "no tool of family 'chrat'" in one_line_error(completed.stderr)


def test_check_plugin_says_what_it_checked():
    completed = run_cli("--plugins", "none", "check-plugin", "builtin")
    assert completed.returncode == 0
    assert completed.stdout.strip().startswith("plugin 'builtin' (") and "no problems found" in completed.stdout


def test_a_listing_piped_into_a_reader_that_stops_early_ends_quietly():
    reader = subprocess.Popen(["true"], stdin=subprocess.PIPE)  # a reader gone before the first line is written
    reader.wait(timeout=30)
    writer = subprocess.run([sys.executable, "-c", "import sys; from vista.cli import main; "
                             "sys.exit(main(['--plugins', 'all', 'tools', '--json']))"],
                            stdout=reader.stdin, stderr=subprocess.PIPE, text=True, timeout=120)
    reader.stdin.close()
    assert "Traceback" not in writer.stderr and "BrokenPipe" not in writer.stderr, writer.stderr
    assert writer.returncode == 0


def test_view_and_compare_say_what_they_expected_and_where_to_look(tmp_path):
    missing = run_cli("--plugins", "none", "view", str(tmp_path / "nothing"))
    assert missing.returncode == 1 and "is not a directory" in one_line_error(missing.stderr)
    assert not (tmp_path / "nothing").exists()
    empty = run_cli("--plugins", "none", "view", str(tmp_path))
    assert "no trajectories under" in one_line_error(empty.stderr) and "eval/*" in empty.stderr
    compare = run_cli("--plugins", "none", "compare", str(tmp_path))
    assert compare.returncode == 1 and "no results.json in or below" in one_line_error(compare.stderr)


def test_view_on_a_busy_port_is_one_line(registry, tmp_path):
    evaluate(lambda obs: "<think>x</think><answer>1</answer>", EvalConfig(tasks=["multiply"], limit=1), tmp_path,
             registry=registry)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        completed = run_cli("--plugins", "none", "view", str(tmp_path), "--port", str(port))
    assert completed.returncode == 1 and f"cannot listen on 127.0.0.1:{port}" in one_line_error(completed.stderr)


def test_serve_on_a_busy_port_is_one_line_before_any_tool_loads():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        completed = run_cli("--plugins", "none", "serve", "--port", str(port))
    assert completed.returncode == 1 and f"cannot listen on 127.0.0.1:{port}" in one_line_error(completed.stderr)


@pytest.mark.parametrize("bad", [["--policy", "nonsense:x"], ["--tasks", "no_such_task"]], ids=["policy", "task"])
def test_a_failed_eval_leaves_no_run_directory(registry, tmp_path, capsys, bad):
    args = {"--policy": "oracle", "--tasks": "multiply", **dict(zip(bad[::2], bad[1::2]))}
    code = vista_main(["--plugins", "none", "eval", *[x for kv in args.items() for x in kv],
                       "--run-dir", str(tmp_path / "run")])
    assert code == 1 and not (tmp_path / "run").exists()
    assert capsys.readouterr().err.startswith("vista: error: ")


@pytest.mark.parametrize("argv, expected", [
    (["eval", "--run_dir", "x", "--policy", "oracle", "--tasks", "multiply"],
     "unknown flag --run_dir; did you mean --run-dir?"),
    (["--plugns", "all", "tools"], "unknown flag --plugns; did you mean --plugins?"),
    (["tools", "--famly", "chart"], "unknown flag --famly; did you mean --family?"),
], ids=["eval", "global", "tools"])
def test_a_misspelled_flag_is_one_line_with_a_did_you_mean(argv, expected):
    completed = run_cli(*argv)
    assert completed.returncode == 2 and expected in one_line_error(completed.stderr)


def test_a_data_folder_that_does_not_exist_is_named(tmp_path):
    missing = tmp_path / "nonexistent"
    for argv in (["tasks", "--data-dir", str(missing)],
                 ["eval", "--policy", "oracle", "--tasks", "chart_bar", "--data-dir", str(missing),
                  "--run-dir", str(tmp_path / "run")]):
        completed = run_cli("--plugins", "all", *argv)
        assert completed.returncode == 1 and f"--data-dir {missing} is not a directory" in one_line_error(
            completed.stderr)
    assert not (tmp_path / "run").exists()


def test_a_missing_dataset_says_where_it_looked(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("VISTA_DATA")}
    unset = run_cli("--plugins", "all", "eval", "--policy", "oracle", "--tasks", "tabmwp", "--run-dir",
                    str(tmp_path / "a"), env=env)
    first = unset.stderr.splitlines()[0]
    assert unset.returncode == 1 and "Traceback" not in unset.stderr
    assert "no data_dir (--data-dir) was given, and neither VISTA_DATA_TABMWP nor VISTA_DATA_DIR is set" in first
    pointed = run_cli("--plugins", "all", "eval", "--policy", "oracle", "--tasks", "tabmwp", "--run-dir",
                      str(tmp_path / "b"), env={**env, "VISTA_DATA_DIR": str(tmp_path / "data")})
    assert f"data folder {tmp_path / 'data' / 'tabmwp'} of task 'tabmwp' does not exist (from $VISTA_DATA_DIR/tabmwp)" \
        in pointed.stderr.splitlines()[0]
    assert "github.com/lupantech/PromptPG" in pointed.stderr  # then where to get it and how to lay it out
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


@pytest.mark.parametrize("policy, expected", [
    ("hf:{tmp}/policies/grpo", "--policy hf:{tmp}/policies/grpo does not exist"),
    ("hf:nobody/no-such-model", "--policy hf:nobody/no-such-model is not a local folder and not in the Hugging Face "
                                "cache"),
], ids=["path", "hub-id"])
def test_an_hf_policy_that_is_not_here_is_one_line_before_any_work(tmp_path, policy, expected):
    policy, expected = policy.format(tmp=tmp_path), expected.format(tmp=tmp_path)
    completed = run_cli("--plugins", "all", "eval", "--policy", policy, "--tasks", "shape_count", "--limit", "2",
                        "--run-dir", str(tmp_path / "run"), env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert completed.returncode == 1 and expected in one_line_error(completed.stderr)
    assert "Repo id" not in completed.stderr and not (tmp_path / "run").exists()


def test_tool_descriptions_are_listed_in_whole_phrases():
    """Each listed description is the tool's first sentence, or that sentence cut where a clause ends."""
    import vista

    listing = run_cli("--plugins", "all", "tools")
    tools = vista.load_plugins("all").tools
    for line in listing.stdout.splitlines()[1:]:
        name = line.split()[0]
        shown = line.split(None, 4)[4].strip() if len(line.split(None, 4)) == 5 else ""
        if "…" in shown:
            pytest.fail(f"{name}: cut mid-phrase: {shown}")
        description = " ".join(tools[name].description.split())
        assert description.startswith(shown) and description[len(shown):][:1] in (".", ";", ":", " ", ""), name
        assert description[len(shown):][:2] in (". ", ".", "; ", ": ", " (", ""), (name, shown)
    assert "Find objects named by a text prompt ('red cube . sphere')" in listing.stdout


SLOW_POLICY = '''
import time


def policy(obs):
    time.sleep(0.3)
    return "<think>guess</think><answer>1</answer>"
'''


def test_ctrl_c_in_eval_says_that_rerunning_resumes_and_rerunning_does(tmp_path):
    (tmp_path / "slow_policy.py").write_text(SLOW_POLICY)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    argv = [sys.executable, "-m", "vista.cli", "--plugins", "all", "eval", "--policy", "python:slow_policy:policy",
            "--tasks", "chart_bar", "--limit", "40", "--concurrency", "1", "--run-dir", str(tmp_path / "run")]
    process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log = tmp_path / "run" / "trajectories.jsonl"
    deadline = time.monotonic() + 60
    while not (log.exists() and log.read_text().count("\n") >= 2):
        assert time.monotonic() < deadline and process.poll() is None, process.communicate()
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert process.returncode == 130 and "Traceback" not in stderr and len(lines) == 1, stderr
    assert lines[0].startswith("vista eval: interrupted; run the same command again to resume") and str(
        tmp_path / "run") in lines[0]
    played = log.read_text().count("\n")
    assert played < 40
    resumed = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0 and log.read_text().count("\n") == 40  # the rest, none played twice


NOISY_POLICY = '''
from transformers.utils import logging

logger = logging.get_logger("transformers.processing_utils")


def policy(obs):
    logger.warning("Kwargs passed to `processor.__call__` have to be in `processor_kwargs` dict")
    return "<think>guess</think><answer>1</answer>"
'''


def test_eval_keeps_library_warnings_out_unless_verbose(tmp_path):
    """transformers' processor warns at every turn (192 lines in a 96-episode evaluation); shown with --verbose."""
    (tmp_path / "noisy_policy.py").write_text(NOISY_POLICY)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    env.pop("TRANSFORMERS_VERBOSITY", None)
    argv = ["--plugins", "all", "eval", "--policy", "python:noisy_policy:policy", "--tasks", "chart_bar", "--limit",
            "3"]
    quiet = run_cli(*argv, "--run-dir", str(tmp_path / "quiet"), env=env)
    verbose = run_cli(*argv, "--run-dir", str(tmp_path / "verbose"), "--verbose", env=env)
    assert quiet.returncode == 0 and verbose.returncode == 0
    assert "processor_kwargs" not in quiet.stderr and verbose.stderr.count("processor_kwargs") == 3


def test_the_difficulty_of_a_policy_is_read_from_the_run_that_saved_it(registry, tmp_path):
    """<run>/policies/<name> beside <run>/eval/*/results.json, as vista-train lays a run out."""
    import vista
    from vista.cli import trained_difficulty

    run = tmp_path / "run"
    (run / "policies" / "grpo").mkdir(parents=True)
    (run / "eval" / "bc").mkdir(parents=True)
    (run / "eval" / "bc" / "results.json").write_text(json.dumps({"config": {"difficulty": 2}}))
    shapes = [vista.load_plugins("all").task("shape_count")]
    assert trained_difficulty(str(run / "policies" / "grpo"), shapes) == (2, run / "eval" / "bc" / "results.json")
    assert trained_difficulty(str(tmp_path / "elsewhere" / "grpo"), shapes) is None  # not a run's policy
    assert trained_difficulty(str(run / "policies" / "grpo"), [registry.task("multiply")]) is None  # no difficulty
