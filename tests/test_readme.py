"""The README's command blocks run as written (those that need no GPU, network or model weights), and what the
README says of them holds.

The substitutions are sizes only: the user's loop starts from a `vista-train` run shrunk to seconds instead of
`make demo`'s 14 minutes, so its replay plays that run's 4 held-out examples with its 16 tokens per turn instead of
96 and 96. `vista view` is started, asked for its episodes and stopped.
"""

import html
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core" / "tests"))  # the tool-server test helpers
from serving import free_port, wait_healthy  # noqa: E402

README = Path(__file__).resolve().parents[1] / "README.md"
DEMO_NOTES = README.parent / "docs" / "demo.md"
BIN = Path(sys.executable).parent
TINY_TRAIN = ("--expert_episodes 4 --sft_epochs 1 --grpo_steps 1 --num_generations 2 --grpo_batch_size 2 "
              "--grpo_gradient_accumulation 1 --eval_episodes 4 --max_new_tokens 16 --hidden_size 64 --num_layers 1 "
              "--num_heads 2 --vision_hidden_size 32 --vocab_size 400 --max_length 1024 --copy_warmup_steps 2")


def block(section: str, which: int = 0, document: Path = README) -> list[str]:
    """The commands of bash block ``which`` under ``## <section>``, continuation lines joined, comments cut."""
    text = document.read_text()
    body = text[text.index(f"## {section}\n"):]
    body = body[:body.find("\n## ", 1)] if "\n## " in body[1:] else body
    code = re.findall(r"```bash\n(.*?)```", body, re.S)[which]
    code = code.replace("\\\n", "")
    return [" ".join(re.sub(r"\s+#\s.*$", "", line).split()) for line in code.splitlines() if line.strip()]


def sh(command: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    completed = subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, f"{command}\n{completed.stdout[-2000:]}\n{completed.stderr[-2000:]}"
    assert "Traceback" not in completed.stderr, completed.stderr
    return completed


def view(command: str, cwd: Path) -> list[dict]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    server = subprocess.Popen(f"{command} --port 0", shell=True, cwd=cwd, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        line = server.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", line).group(0)
        deadline = time.monotonic() + 30
        while True:
            try:
                rows = urllib.request.urlopen(url + "/api/summary", timeout=5).read()
                break
            except OSError:
                assert time.monotonic() < deadline, "vista view did not answer"
                time.sleep(0.2)
        assert rows.startswith(b"[{")
        return json.loads(rows)
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


def run_block(commands: list[str], cwd: Path) -> dict[str, Any]:
    """Each command's stdout (for `vista view`, the episodes it lists)."""
    return {command: view(command, cwd) if command.startswith("vista view") else sh(command, cwd).stdout
            for command in commands}


def episodes(run_dir: Path) -> list[tuple]:
    """Each episode's example, question, every turn the policy wrote, answer and score, in example order."""
    import vista

    return sorted((t.example_id, t.messages[1].content[-1].text,
                   tuple(part.text for m in t.messages if m.role == "assistant" for part in m.content),
                   t.final_answer, t.score) for t in vista.TrajectoryLog(run_dir).read())


@pytest.mark.slow  # 24 s on 2 shared cores
def test_the_users_loop_runs_as_written_and_says_only_what_is_true(tmp_path):
    sh(f"vista-train --plugins all --run_dir runs/vista-train {TINY_TRAIN}", tmp_path)
    run = tmp_path / "runs" / "vista-train"
    loop = [c.replace("--limit 96", "--limit 4").replace("--max-new-tokens 96", "--max-new-tokens 16")
            for c in block("The user's loop: train, evaluate, compare, browse")]
    [replay] = [c for c in loop if c.startswith("vista eval")]
    printed = re.search(r"`(vista eval [^`]*)`", (run / "results.md").read_text()).group(1)
    assert replay == printed  # the README's command is the one the run prints, at the demo's sizes
    outputs = run_block(loop, tmp_path)

    # `vista compare runs/vista-train/eval/*`: the policies in training order, each in the table of differences
    first = outputs["vista compare runs/vista-train/eval/*"]
    table, deltas = first.split("Difference from")
    assert [row.split("|")[1].strip() for row in table.splitlines()[2:] if row.startswith("|")] == \
        ["untrained", "bc", "bc_grpo"]
    assert deltas.startswith(" untrained") and "| bc |" in deltas and "| bc_grpo |" in deltas

    # the replay: the trainer's episodes again, so the same accuracy
    assert episodes(run / "cli-eval" / "bc_grpo") == episodes(run / "eval" / "bc_grpo")
    trainer, cli = (json.loads((run / d / "bc_grpo" / "results.json").read_text()) for d in ("eval", "cli-eval"))
    assert cli["per_task"]["shape_count"]["accuracy"] == trainer["per_task"]["shape_count"]["accuracy"]
    assert cli["per_task"]["shape_count"]["n"] == trainer["per_task"]["shape_count"]["n"] == 4
    replayed = outputs["vista compare runs/vista-train/eval/bc_grpo runs/vista-train/cli-eval/bc_grpo"]
    assert replayed.rstrip().endswith("| cli-eval/bc_grpo | +0.0 | +0.0 |")
    # without --difficulty, vista eval reads the run's from the run the policy was saved in
    unflagged = sh(replay.replace(" --difficulty 0", "").replace("cli-eval/bc_grpo", "cli-eval/unflagged"), tmp_path)
    assert "vista eval: difficulty 0, that of the run that trained the policy" in unflagged.stderr
    assert episodes(run / "cli-eval" / "unflagged") == episodes(run / "eval" / "bc_grpo")

    # a link of eval/bc_grpo/report.html names an episode of that run, among those `vista view runs/vista-train` lists
    listed = outputs["vista view runs/vista-train"]
    page = (run / "eval" / "bc_grpo" / "report.html").read_text()
    links = [urllib.parse.parse_qs(html.unescape(href))
             for href in re.findall(r"href='http://127\.0\.0\.1:8765/#([^']*)'", page)]
    assert len(links) == 4
    for link in links:
        [row] = [r for r in listed if r["id"] == link["episode"][0] and r["path"] == link["run"][0]]
        assert row["run"] == "eval/bc_grpo" and row["path"] == str((run / "eval" / "bc_grpo").resolve())


@pytest.mark.slow  # 104 s on 2 shared cores
def test_the_other_commands_run_as_written_and_write_only_under_runs(tmp_path):
    sh(f"vista-train --plugins all --run_dir runs/vista-train {TINY_TRAIN}", tmp_path)
    outputs = run_block(block("The user's loop: train, evaluate, compare, browse", which=1), tmp_path)
    assert (tmp_path / "runs" / "chart.png").exists() and list((tmp_path / "runs" / "zoom").glob("*.png"))
    assert (tmp_path / "runs" / "oracle" / "report.html").exists()
    assert (tmp_path / "runs" / "oracle-tools-only" / "results.json").exists()
    listing = next(out for command, out in outputs.items() if command.startswith("vista tools"))
    assert "chart_to_table" in listing
    assert [p.name for p in tmp_path.iterdir()] == ["runs"]  # nothing in the folder the commands ran in


@pytest.mark.slow  # 49-55 s on 2 shared cores
def test_the_serving_block_runs_as_written(tmp_path):
    """Each server of "Scaling out" starts and answers /health (the Ray one sized to this machine's CPUs), the eval
    that follows the first plays its episodes through it, and each stops at Ctrl-C without a traceback. The ports
    are free ones; the GPU line needs a GPU."""
    commands = block("Scaling out")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    for command, following in zip(commands, [*commands[1:], ""]):
        if not command.startswith("vista serve") or "--num-gpus" in command:
            continue
        port = free_port()
        server = subprocess.Popen(re.sub(r"--port \d+", f"--port {port}", command), shell=True, cwd=tmp_path, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            wait_healthy(f"http://127.0.0.1:{port}", 240, server)
            if following.startswith("vista eval --tool-server"):
                sh(re.sub(r"127\.0\.0\.1:\d+", f"127.0.0.1:{port}", following), tmp_path)
                results = json.loads((tmp_path / "runs" / "served" / "results.json").read_text())
                assert results["per_task"]["chart_bar"]["n"] == 5 and results["tools"]["calls"] > 0
        finally:
            os.killpg(server.pid, 2)
            _, stderr = server.communicate(timeout=60)
        assert "Traceback" not in stderr, (command, stderr)
    assert (tmp_path / "runs" / "served" / "results.json").exists()


@pytest.mark.slow  # 43 s on 2 shared cores
def test_the_ablation_study_block_runs_as_written(tmp_path):
    """The seeds-and-ablations command as written, each of its runs shrunk to seconds (TINY_TRAIN)."""
    [command] = block("Ablations, seeds and uncertainty", document=DEMO_NOTES)
    assert command.startswith("vista-train --seeds 0,1,2 --ablation full,no_tools")
    out = sh(f"{command} {TINY_TRAIN}", tmp_path).stdout
    table = (tmp_path / "runs" / "study" / "results.md").read_text()
    assert table in out and "| bc+grpo w/o tools |" in table and "GRPO gain over BC" in table
    assert len(list((tmp_path / "runs" / "study").glob("seed-*/*/stages.json"))) == 6


def test_the_plugin_example_registers_and_runs(tmp_path):
    """The README's plugin, as written: its hook registers the tool, which validates and runs on an image."""
    import types

    import vista
    from PIL import Image
    from vista.testing import registered_plugin

    text = README.read_text()
    body = text[text.index("## Plugins\n"):]
    source = re.search(r"```python\n(.*?)```", body, re.S).group(1)
    module = types.ModuleType("readme_plugin")
    exec(compile(source, "README.md", "exec"), module.__dict__)
    with registered_plugin(module, "readme_plugin") as registry:
        image = Image.new("RGB", (4, 2), (255, 255, 255))
        result = vista.call_tool("brightness", {}, [image], tools=registry.tools)
        assert result.ok and result.data == {"brightness": 1.0, "bright": True}
        dim = vista.call_tool("brightness", {"threshold": 0.9}, [Image.new("RGB", (4, 2), (64, 64, 64))],
                              tools=registry.tools)
        assert dim.ok and dim.data["bright"] is False
        refused = vista.call_tool("brightness", {"threshold": 2}, [image], tools=registry.tools)
        assert refused.error.error_class.value == "E3"
