"""GeoQA (Chen et al., ACL Findings 2021) and UniGeo (Chen et al., EMNLP 2022): geometry calculation problems
with four numeric choices, released as pickled lists of problems with their diagrams as arrays."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path

from PIL import Image
from vista import Example

from ..answers import format_number
from .base import Benchmark, DatasetFormatError
from .geometry3k import score_choice_or_value

# The official evaluation accepts a program result within 0.001 of the gold choice's number.
ABSOLUTE_TOLERANCE = 0.001
_QUESTION_FIELDS = ("English_problem", "English problem", "problem_text", "problem")


def read_pickled_problems(path: Path) -> list[dict]:
    """The release's `.pk` file. Unpickling runs code from the file: read only a copy from the publisher."""
    with open(path, "rb") as handle:
        problems = pickle.load(handle)
    if not isinstance(problems, list):
        raise DatasetFormatError(f"{path} holds a {type(problems).__name__}, expected a list of problem dicts")
    return problems


class _PickledGeometry(Benchmark):
    category = "geometry"
    recommended_tools = ("geometry_formalize", "geometry_solve", "python_exec")
    file_pattern = "{split}.pk"

    def split_files(self, root: Path, split: str) -> list[Path]:
        path = root / self.file_pattern.format(split=split)
        return [path] if path.is_file() else []

    def read(self, root: Path, split: str, files: list[Path]) -> Iterator[Example]:
        for position, problem in enumerate(read_pickled_problems(files[0])):
            question = next((problem[f] for f in _QUESTION_FIELDS if problem.get(f)), None)
            if question is None and problem.get("token_list"):
                question = " ".join(problem["token_list"])
            if question is None:
                raise DatasetFormatError(f"problem {position} of {files[0]} has none of {_QUESTION_FIELDS}")
            numbers = list(problem.get("choice_nums") or [])
            choices = [str(c) for c in problem.get("choices") or []] or [
                format_number(n) if n is not None else "" for n in numbers]
            label = int(problem["label"])
            yield self.example(
                id=str(problem.get("id", position)), images=[Image.fromarray(problem["image"])],
                question=question, choices=choices, answer=choices[label], answer_type="multiple_choice",
                metadata={"choice_nums": numbers, "label": label, "subject": problem.get("subject"),
                          "manual_program": problem.get("manual_program"), "numbers": problem.get("numbers"),
                          "formal_point": problem.get("formal_point")},
            )

    def score(self, prediction: str | None, example: Example) -> float:
        numbers = example.metadata.get("choice_nums") or []
        gold = numbers[example.metadata["label"]] if numbers else None
        relative = ABSOLUTE_TOLERANCE / abs(gold) if gold else 0.0
        return score_choice_or_value(prediction, example, numbers, relative)


class GeoQA(_PickledGeometry):
    name = "geoqa"
    description = "GeoQA: Chinese middle-school geometry calculation problems (angle, length, other), four choices."
    splits = ("test", "dev", "train")
    data_env = "VISTA_DATA_GEOQA"
    homepage = "https://github.com/chen-judge/GeoQA (data.zip, folder data/GeoQA3)"
    layout = """\
  <folder>/train.pk, dev.pk, test.pk   pickled lists of problems: English_problem, choices, choice_nums, label,
                                       image (the diagram as an array), id, subject, manual_program, numbers"""


class UniGeo(_PickledGeometry):
    name = "unigeo"
    description = "UniGeo: geometry calculation problems (GeoQA-based) unified with proofs; calculation part."
    splits = ("test", "val", "train")
    data_env = "VISTA_DATA_UNIGEO"
    file_pattern = "calculation_{split}.pk"
    homepage = "https://github.com/chen-judge/UniGeo (UniGeo.zip)"
    layout = """\
  <folder>/calculation_train.pk, calculation_val.pk, calculation_test.pk   pickled lists of problems:
      English_problem (or token_list), choices, choice_nums, label, image (array), id, subject, manual_program"""
