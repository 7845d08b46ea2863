"""Every benchmark is registered, described and fails helpfully without its data."""

import json
import os
import subprocess
import sys

import pytest
from vista import CATEGORIES, VistaError
from vista_tasks.benchmarks import BENCHMARK_TASKS, ChartQA, DatasetMissingError

IN_DISTRIBUTION = {"figureqa", "chartqa", "geometry3k", "geoqa", "unigeo", "mathvision", "mathv360k", "mapqa",
                   "infographicvqa", "thinkvl", "vizwiz", "scienceqa", "docvqa", "clevr", "aokvqa"}
OUT_OF_DISTRIBUTION = {"tabmwp", "ai2d", "plotqa", "clevr_math", "iconqa", "mathvista"}


def test_the_21_benchmarks_and_their_distribution():
    names = {task.name: task.distribution for task in BENCHMARK_TASKS}
    assert names == {**{n: "id" for n in IN_DISTRIBUTION}, **{n: "ood" for n in OUT_OF_DISTRIBUTION}}


def test_vista_tasks_lists_every_benchmark_with_its_data_status(tmp_path, shared_data):
    # The real command path: a fresh process, outside the repository, finding the tasks through the entry point.
    (tmp_path / "tabmwp").symlink_to(shared_data / "tabmwp")
    listing = subprocess.run(
        [sys.executable, "-c", "import sys; from vista.cli import main; sys.exit(main(sys.argv[1:]))",
         "tasks", "--json", "--data-dir", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env={**os.environ, "VISTA_PLUGINS": "tasks"})
    assert listing.returncode == 0, listing.stderr
    rows = {row["name"]: row for row in json.loads(listing.stdout)}
    for task in BENCHMARK_TASKS:
        row = rows[task.name]
        assert (row["category"], row["splits"], row["plugin"]) == (task.category, list(task.splits), "tasks")
        assert row["data_present"] == (task.name == "tabmwp"), task.name


@pytest.mark.parametrize("task", BENCHMARK_TASKS, ids=lambda t: t.name)
def test_each_declares_what_a_user_needs(task, tmp_path, monkeypatch):
    assert task.category in CATEGORIES and task.splits and task.description
    assert task.data_env == f"VISTA_DATA_{task.name.upper()}"
    monkeypatch.delenv(task.data_env, raising=False)
    monkeypatch.setenv("VISTA_DATA_DIR", str(tmp_path))
    status = task.data_status()
    assert not status.present and status.location == str(tmp_path / task.name)
    assert task.homepage.split()[0] in status.how_to_get and task.data_env in status.how_to_get
    with pytest.raises(DatasetMissingError) as raised:
        task.load()
    assert isinstance(raised.value, VistaError) and task.homepage.split()[0] in str(raised.value)
    assert "lay it out as" in str(raised.value)


def test_the_data_folder_comes_from_the_argument_then_the_variable_then_vista_data_dir(tmp_path, monkeypatch):
    task = ChartQA()
    monkeypatch.setenv("VISTA_DATA_DIR", str(tmp_path / "all"))
    monkeypatch.setenv("VISTA_DATA_CHARTQA", str(tmp_path / "mine"))
    assert task.resolve_data_dir(tmp_path / "given") == tmp_path / "given"
    assert task.resolve_data_dir(None) == tmp_path / "mine"
    monkeypatch.delenv("VISTA_DATA_CHARTQA")
    assert task.resolve_data_dir(None) == tmp_path / "all" / "chartqa"


def test_an_unknown_split_names_the_valid_ones(tmp_path):
    with pytest.raises(ValueError, match="Did you mean 'test'"):
        ChartQA().load("tset", tmp_path)


def test_an_existing_folder_without_the_split_says_which_split(tmp_path):
    with pytest.raises(DatasetMissingError, match="split 'val' of task 'chartqa'"):
        ChartQA().load("val", tmp_path)
