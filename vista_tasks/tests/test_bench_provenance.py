from vista_tasks.benchmarks import BENCHMARK_TASKS

# The benchmarks whose loaders are tested on a sample of the publisher's files in ../shared/data.
ON_REAL_FILES = {"chartqa", "figureqa", "geometry3k", "iconqa", "mathvision", "mathvista", "scienceqa", "tabmwp"}


def test_every_benchmark_says_what_its_loader_was_checked_on():
    info = {task.name: task.info() for task in BENCHMARK_TASKS}
    assert {name for name, row in info.items() if row["checked_on"] == "real_files"} == ON_REAL_FILES
    assert {row["checked_on"] for row in info.values()} == {"real_files", "documented_schema"}
