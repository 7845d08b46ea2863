"""The `vista` command as a user meets it: tables for people, JSON on request, one-line errors with a non-zero exit,
nothing left behind by a failed command."""

import json
import socket
import subprocess
import sys

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
