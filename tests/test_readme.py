"""The README's command blocks run as written (those that need no GPU, network or model weights).

Two substitutions, both sizes: the user's loop starts from a `vista-train` run shrunk to seconds instead of
`make demo`'s minutes, and its `vista eval` plays 2 examples per task instead of 96. `vista view` is started,
asked for its page and stopped.
"""

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
BIN = Path(sys.executable).parent
TINY_TRAIN = ("--expert_episodes 4 --sft_epochs 1 --grpo_steps 1 --num_generations 2 --grpo_batch_size 2 "
              "--grpo_gradient_accumulation 1 --eval_episodes 4 --max_new_tokens 16 --hidden_size 64 --num_layers 1 "
              "--num_heads 2 --vision_hidden_size 32 --vocab_size 400 --max_length 1024 --copy_warmup_steps 2")


def block(section: str) -> list[str]:
    """The commands of the first bash block under ``## <section>``, continuation lines joined, comments cut."""
    text = README.read_text()
    body = text[text.index(f"## {section}\n"):]
    code = re.search(r"```bash\n(.*?)```", body, re.S).group(1)
    code = code.replace("\\\n", "")
    return [re.sub(r"\s+#\s.*$", "", line).strip() for line in code.splitlines() if line.strip()]


def sh(command: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    completed = subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, f"{command}\n{completed.stdout[-2000:]}\n{completed.stderr[-2000:]}"
    assert "Traceback" not in completed.stderr, completed.stderr
    return completed


def view(command: str, cwd: Path) -> None:
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
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


def run_block(commands: list[str], cwd: Path) -> dict[str, str]:
    outputs = {}
    for command in commands:
        if command.startswith("vista view"):
            view(command, cwd)
        else:
            outputs[command] = sh(command, cwd).stdout
    return outputs


def test_the_users_loop_and_the_using_it_block_run_as_written(tmp_path):
    sh(f"vista-train --plugins all --run_dir runs/vista-train {TINY_TRAIN}", tmp_path)
    loop = [c.replace("--limit 96", "--limit 2") for c in block("The user's loop: train, evaluate, compare, browse")]
    assert all("--limit 96" not in c for c in loop) and any("--limit 2" in c for c in loop)  # the substitution took
    assert any(c.startswith("vista eval --policy hf:runs/vista-train/policies/grpo") for c in loop)
    outputs = run_block(loop, tmp_path)
    compared = next(out for command, out in outputs.items() if command.startswith("vista compare runs/vista-train/"))
    assert "| untrained |" in compared and "| bc_grpo |" in compared

    using = block("Using it")
    outputs = run_block(using, tmp_path)
    assert (tmp_path / "chart.png").exists() and list((tmp_path / "out").glob("*.png"))
    assert (tmp_path / "runs" / "oracle" / "report.html").exists()
    listing = next(out for command, out in outputs.items() if command.startswith("vista tools"))
    assert "chart_to_table" in listing
    assert (tmp_path / "runs" / "oracle-tools-only" / "results.json").exists()


def test_the_ablation_study_block_runs_as_written(tmp_path):
    """The seeds-and-ablations command as written, each of its runs shrunk to seconds (TINY_TRAIN)."""
    [command] = block("Ablations, seeds and uncertainty")
    assert command.startswith("vista-train --seeds 0,1,2 --ablation full,no_tools")
    out = sh(f"{command} {TINY_TRAIN}", tmp_path).stdout
    table = (tmp_path / "runs" / "study" / "results.md").read_text()
    assert table in out and "| bc+grpo w/o tools |" in table and "GRPO gain over BC" in table
    assert len(list((tmp_path / "runs" / "study").glob("seed-*/*/stages.json"))) == 6
