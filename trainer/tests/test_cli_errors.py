"""vista-train's mistakes as a user meets them: one line, a non-zero exit, nothing left behind."""

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
