"""vista-train's mistakes as a user meets them: one line, a non-zero exit, nothing left behind."""

import pytest
from vista_trainer.cli import main


def test_an_unknown_task_is_one_line_and_leaves_no_run_directory(tmp_path, capsys):
    assert main(["--tasks", "no_such_task", "--run_dir", str(tmp_path / "run")]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith("vista-train: unknown task(s) ['no_such_task']")
    assert not (tmp_path / "run").exists()


def test_a_run_directory_that_was_there_is_kept(tmp_path, capsys):
    (tmp_path / "run").mkdir()
    assert main(["--tasks", "no_such_task", "--run_dir", str(tmp_path / "run")]) == 2
    assert (tmp_path / "run").is_dir()


TINY = ["--expert_episodes", "4", "--sft_epochs", "1", "--grpo_steps", "1", "--num_generations", "2",
        "--grpo_batch_size", "2", "--grpo_gradient_accumulation", "1", "--eval_episodes", "2", "--max_new_tokens", "8",
        "--hidden_size", "64", "--num_layers", "1", "--num_heads", "2", "--vision_hidden_size", "32",
        "--vocab_size", "400", "--max_length", "1024", "--copy_warmup_steps", "2"]


@pytest.mark.slow  # two tiny runs: 30 s on 2 shared cores
def test_the_libraries_progress_bars_and_warnings_show_only_with_verbose(tmp_path):
    """transformers' "Loading weights" and "Writing model shards" bars at every load and save are its own noise:
    stderr holds vista-train's log lines alone unless --verbose."""
    import os
    import subprocess
    import sys

    # as a shell starts it: without what an in-process main() of another test set in this process's environment
    env = {k: v for k, v in os.environ.items()
           if k not in ("TRANSFORMERS_VERBOSITY", "TRANSFORMERS_NO_ADVISORY_WARNINGS", "HF_HUB_DISABLE_PROGRESS_BARS")}

    def stderr(*extra: str) -> str:
        completed = subprocess.run([sys.executable, "-m", "vista_trainer.cli", "--plugins", "all", "--run_dir",
                                    str(tmp_path / f"run{len(extra)}"), *TINY, *extra], capture_output=True,
                                   text=True, timeout=600, env=env)
        assert completed.returncode == 0, completed.stderr[-2000:]
        return completed.stderr

    quiet = stderr()
    assert quiet.strip() and all(" vista_trainer." in line for line in quiet.splitlines()), quiet  # our logs only
    assert "Loading weights" in stderr("--verbose")
