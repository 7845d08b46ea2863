"""Sweep the shared benchmark samples: load time, image opening, and how the official scorers judge the gold
answer written the ways models write it (all must be 1) and perturbed answers (all must be 0).

    .venv/bin/python bench/vista_tasks_benchmarks.py [path/to/shared/data]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from vista_tasks.answers import parse_number
from vista_tasks.benchmarks import IconQA, MathVision, MathVista, TabMWP

DATA = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
LETTERS = "ABCDEFGH"


def written_forms(example) -> tuple[list[str], list[str]]:
    """(ways a model writes the gold answer, wrong answers)."""
    if example.answer_type == "multiple_choice":
        index = example.choices.index(example.answer) if example.answer in example.choices else \
            LETTERS.index(example.answer)
        wrong = next(i for i, c in enumerate(example.choices) if i != index and c != example.choices[index])
        return ([f"The answer is ({LETTERS[index]}).", f"{LETTERS[index]}."], [f"({LETTERS[wrong]})"])
    if example.answer_type in ("integer", "float"):
        number = parse_number(example.answer)
        return ([f"The answer is {example.answer}.", f"\\boxed{{{example.answer}}}"], [f"{number + 1:g}"])
    return ([f"The answer is {example.answer}."], ["The answer is zzz."])


def main() -> None:
    print(f"shared data: {DATA.resolve()}")
    for task, folder, split in ((MathVision(), "mathvision", "testmini"), (TabMWP(), "tabmwp", "test1k"),
                                (IconQA(), "iconqa", "test"), (MathVista(), "mathvista", "testmini")):
        start = time.perf_counter()
        examples = list(task.load(split, DATA / folder))
        loaded = time.perf_counter() - start
        start = time.perf_counter()
        images = sum(len(e.open_images()) for e in examples) if task.name != "mathvista" else 0
        decoded = time.perf_counter() - start
        start = time.perf_counter()
        accepted = rejected = total_right = total_wrong = 0
        for example in examples:
            right, wrong = written_forms(example)
            accepted += sum(task.score(form, example) == 1.0 for form in right)
            rejected += sum(task.score(form, example) == 0.0 for form in wrong)
            total_right += len(right)
            total_wrong += len(wrong)
        scored = time.perf_counter() - start
        print(f"{task.name:11s} {split:9s} {len(examples):5d} items  load {loaded * 1000:7.1f} ms  "
              f"{images:5d} images decoded in {decoded:6.2f} s  "
              f"gold forms accepted {accepted}/{total_right}  perturbed rejected {rejected}/{total_wrong}  "
              f"scoring {scored / max(total_right + total_wrong, 1) * 1e6:6.1f} us/answer")


if __name__ == "__main__":
    main()
