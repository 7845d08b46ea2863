"""docs/datasets.md says, for every benchmark loader, where to download it, the variable that points at it and the
layout the loader reads, in the loader's own words: a loader added or changed without the page fails here, and the
failure message holds the exact section to paste."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import vista

DATASETS_MD = Path(__file__).resolve().parents[1] / "docs" / "datasets.md"
BENCHMARKS = {name: task for name, task in vista.load_plugins("all").tasks.items() if not task.procedural}


def section(task) -> str:
    """What docs/datasets.md holds for one benchmark."""
    return (f"{'in' if task.distribution == 'id' else 'out of'} distribution; splits {', '.join(task.splits)}\n\n"
            f"- download: {task.homepage}\n- folder: `${task.data_env}`, else `$VISTA_DATA_DIR/{task.name}`\n\n"
            f"```\n{task.layout.rstrip()}\n```\n")


def sections() -> dict[str, str]:
    parts = re.split(r"^## `(\w+)`\s*$", DATASETS_MD.read_text(), flags=re.MULTILINE)
    return {name: body.strip() + "\n" for name, body in zip(parts[1::2], parts[2::2], strict=True)}


def test_there_are_benchmarks_to_document():
    assert len(BENCHMARKS) >= 21 and set(sections()) == set(BENCHMARKS)


@pytest.mark.parametrize("name", sorted(BENCHMARKS))
def test_every_benchmark_is_documented_as_its_loader_reads_it(name):
    expected = section(BENCHMARKS[name])
    assert sections().get(name) == expected, f"docs/datasets.md, section for {name}:\n\n## `{name}`\n\n{expected}"
