"""GeoQA (Chen et al., ACL Findings 2021) and UniGeo (Chen et al., EMNLP 2022): geometry calculation problems
with four numeric choices, released as pickled lists of problems with their diagrams as arrays.

Checked against the publishers' readers only (no sample here): GeoQA's `SeqReader` (chen-judge/GeoQA, utils.py)
reads the problem from `token_list` (the tokenised Chinese text) and UniGeo's `GeoDataset` (chen-judge/UniGeo,
Geoformer/src/geo_data.py) reads `English_problem`; both take `image` as a grey-level array, which they scale by
1/255, so its dtype is not fixed: any integer or float array is accepted (floats in [0, 1] are read as fractions
of white), as are three-channel arrays."""

from __future__ import annotations

import pickle
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image
from vista import Example

from ..answers import format_number
from .base import Benchmark, DatasetFormatError
from .geometry3k import score_choice_or_value

# NGS_Aux_test.py / geo.py: a program result picks the first choice within 0.001 of it.
ABSOLUTE_TOLERANCE = 0.001
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")
_NUMBER_SLOT = re.compile(r"^N_(\d+)$")


def read_pickled_problems(path: Path) -> list[dict]:
    """The release's `.pk` file. Unpickling runs code from the file: read only a copy from the publisher."""
    with open(path, "rb") as handle:
        problems = pickle.load(handle)
    if not isinstance(problems, list):
        raise DatasetFormatError(f"{path} holds a {type(problems).__name__}, expected a list of problem dicts")
    return problems


def diagram_image(array, where: str) -> Image.Image:
    """The diagram of a pickled problem as an image, whatever the array's dtype: grey (H, W) or colour (H, W, 3)."""
    pixels = np.asarray(array)
    if pixels.ndim not in (2, 3) or (pixels.ndim == 3 and pixels.shape[2] not in (1, 3, 4)):
        raise DatasetFormatError(f"{where}: image has shape {pixels.shape}, expected (H, W) or (H, W, 3)")
    if pixels.dtype.kind == "f" and pixels.size and float(np.nanmax(pixels)) <= 1.0:
        pixels = pixels * 255.0
    if pixels.dtype != np.uint8:
        pixels = np.clip(np.nan_to_num(pixels), 0, 255).astype(np.uint8)
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    return Image.fromarray(pixels)


def problem_text(tokens: list[str], numbers: list | None) -> str:
    """The problem from its token list: tokens joined as written (no spaces between Chinese tokens), with the
    number slots `N_i` some releases use filled from `numbers`."""
    words = []
    for token in tokens:
        slot = _NUMBER_SLOT.match(str(token))
        if slot and numbers and int(slot.group(1)) < len(numbers):
            token = format_number(float(numbers[int(slot.group(1))]))
        words.append(str(token))
    text = ""
    for word in words:
        if text and not (_CJK.search(text[-1]) or _CJK.search(word[:1])):
            text += " "
        text += word
    return text


def first_matching_choice(number: float, values: list[float | None]) -> set[int]:
    """GeoQA's rule: the first choice whose number is within `ABSOLUTE_TOLERANCE` of the result."""
    for index, value in enumerate(values):
        if value is not None and abs(number - value) < ABSOLUTE_TOLERANCE:
            return {index}
    return set()


class _PickledGeometry(Benchmark):
    category = "geometry"
    checked_on = "documented_schema"
    recommended_tools = ("geometry_formalize", "geometry_solve", "python_exec")
    file_pattern = "{split}.pk"
    question_fields: tuple[str, ...] = ()

    def split_files(self, root: Path, split: str) -> list[Path]:
        path = root / self.file_pattern.format(split=split)
        return [path] if path.is_file() else []

    def question(self, problem: dict) -> str | None:
        for field in self.question_fields:
            value = problem.get(field)
            if value:
                return problem_text(value, problem.get("numbers")) if isinstance(value, list) else str(value)
        return None

    def read(self, root: Path, split: str, files: list[Path]) -> Iterator[Example]:
        for position, problem in enumerate(read_pickled_problems(files[0])):
            where = f"problem {position} of {files[0]}"
            question = self.question(problem)
            if question is None:
                raise DatasetFormatError(f"{where} has none of the fields {', '.join(self.question_fields)}")
            numbers = list(problem.get("choice_nums") or [])
            choices = [str(c) for c in problem.get("choices") or []] or [
                format_number(n) if n is not None else "" for n in numbers]
            label = int(problem["label"])
            if not 0 <= label < len(choices):
                raise DatasetFormatError(f"{where}: label {label} is not an index into its {len(choices)} choices")
            yield self.example(
                id=str(problem.get("id", position)), images=[diagram_image(problem["image"], where)],
                question=question, choices=choices, answer=choices[label], answer_type="multiple_choice",
                metadata={"choice_nums": numbers, "label": label, "subject": problem.get("subject"),
                          "manual_program": problem.get("manual_program"), "numbers": problem.get("numbers"),
                          "formal_point": problem.get("formal_point")},
            )

    def score(self, prediction: str | None, example: Example) -> float:
        """GeoQA's accuracy (NGS_Aux_test.py; UniGeo's geo.py alike): a choice named by letter or text, or a number
        whose first choice within 0.001 (`choice_nums`) is the gold one."""
        numbers = example.metadata.get("choice_nums") or []
        return score_choice_or_value(prediction, example, lambda number: first_matching_choice(number, numbers))


class GeoQA(_PickledGeometry):
    name = "geoqa"
    description = "GeoQA: Chinese middle-school geometry calculation problems (angle, length, other), four choices."
    splits = ("test", "dev", "train")
    data_env = "VISTA_DATA_GEOQA"
    homepage = "https://github.com/chen-judge/GeoQA (data.zip, folder data/GeoQA3)"
    question_fields = ("token_list", "English_problem")
    layout = """\
  <folder>/train.pk, dev.pk, test.pk   pickled lists of problems: token_list (the problem's tokens), numbers,
                                       choice_nums, label, image (the diagram as an array), id, manual_program,
                                       formal_point (<folder> is data/GeoQA3 of the release)"""


class UniGeo(_PickledGeometry):
    name = "unigeo"
    description = "UniGeo: geometry calculation problems (GeoQA-based) unified with proofs; calculation part."
    splits = ("test", "val", "train")
    data_env = "VISTA_DATA_UNIGEO"
    file_pattern = "calculation_{split}.pk"
    homepage = "https://github.com/chen-judge/UniGeo (UniGeo.zip)"
    question_fields = ("English_problem", "token_list")
    layout = """\
  <folder>/calculation_train.pk, calculation_val.pk, calculation_test.pk   pickled lists of problems:
      English_problem, numbers, choice_nums, label, image (array), id, manual_program"""
