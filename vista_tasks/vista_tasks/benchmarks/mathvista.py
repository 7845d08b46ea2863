"""MathVista (Lu et al., ICLR 2024): mathematical reasoning in visual contexts; out-of-distribution test set."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path

from vista import Example

from ..answers import (
    choice_index,
    extract_answer,
    final_span,
    letter_of,
    levenshtein,
    parse_list,
    parse_number,
)
from ..scoring import numbers_match
from .base import Benchmark, DatasetFormatError, first_present, hf_image, parquet_files, read_json, read_parquet

_PAREN_LETTER = re.compile(r"\(([a-zA-Z])\)")
_ANSWER_TYPES = {"integer": "integer", "float": "float", "list": "list", "text": "text"}


def _official_choice(span: str, choices: list[str]) -> int | None:
    """MathVista's reading of a multiple-choice extraction (`normalize_extracted_answer` in
    evaluation/calculate_score.py): the first letter in parentheses ("(B) 145°") or a bare letter names the choice at
    that position, before any choice text is compared (so "(b)" is choice B even when a choice's text is "(b)");
    otherwise the choice with the least Levenshtein distance to the raw extraction (the first on a tie). Before that
    last step a span that is a choice's text up to case and spacing, or starts "option B", is that choice (our
    stand-in for the GPT extraction of evaluation/extract_answer.py, which returns a response equal to a choice as
    it is)."""
    span = span.strip()
    if not span:
        return None
    letter = _PAREN_LETTER.search(span)
    candidate = letter.group(1).upper() if letter else span.rstrip(".").strip()
    if len(candidate) == 1 and "A" <= candidate <= letter_of(len(choices) - 1):
        return ord(candidate) - ord("A")
    if span in choices:
        return choices.index(span)
    picked = choice_index(span, choices, free_text=False)
    if picked is not None:
        return picked
    distances = [levenshtein(span, choice) for choice in choices]
    return distances.index(min(distances))


class MathVista(Benchmark):
    name = "mathvista"
    checked_on = "real_files"
    category = "math"
    distribution = "ood"
    description = "MathVista: math reasoning over charts, diagrams, figures and natural images."
    splits = ("testmini", "test")
    data_env = "VISTA_DATA_MATHVISTA"
    homepage = "https://github.com/lupantech/MathVista (or the parquet release https://huggingface.co/datasets/AI4Math/MathVista)"
    layout = """\
  <folder>/testmini.json, test.json   dict pid -> problem (question, choices, answer, question_type,
                                     answer_type, precision, unit, image, metadata); also accepted under data/
  <folder>/images/<pid>.jpg          the images the problems name
or the Hugging Face layout: <folder>/data/testmini-*.parquet (images embedded in `decoded_image`)"""
    recommended_tools = ("chart_to_table", "ocr_read_text", "zoom", "python_exec")

    def split_files(self, root: Path, split: str) -> list[Path]:
        found = first_present(root, f"{split}.json", f"data/{split}.json")
        return [found] if found else parquet_files(root, split)

    def read(self, root: Path, split: str, files: list[Path]) -> Iterator[Example]:
        if files[0].suffix == ".json":
            problems = read_json(files[0])
            folder = files[0].parent if (files[0].parent / "images").is_dir() else root
            for pid, problem in problems.items():
                yield self._example(pid, problem, [hf_image(problem.get("image"), folder)])
        else:
            for row in read_parquet(files):
                yield self._example(row["pid"], row, [hf_image(row.get("decoded_image") or row.get("image"), root)])

    def _example(self, pid: str, problem: dict, images: list) -> Example:
        multi_choice = problem["question_type"] == "multi_choice"
        answer, answer_type = problem.get("answer"), problem.get("answer_type")
        if answer_type not in _ANSWER_TYPES:
            raise DatasetFormatError(f"MathVista problem {pid}: unknown answer_type {answer_type!r}")
        if answer not in (None, ""):       # the test split ships no answers
            if multi_choice and answer not in (problem.get("choices") or []):
                raise DatasetFormatError(f"MathVista problem {pid}: the answer {answer!r} is not one of its choices")
            if not multi_choice and answer_type == "float" and problem.get("precision") is None:
                raise DatasetFormatError(f"MathVista problem {pid}: a float answer without a precision")
        return self.example(
            id=str(pid), images=[i for i in images if i is not None], question=problem["question"],
            choices=problem.get("choices") or None, answer=answer,
            answer_type="multiple_choice" if multi_choice else _ANSWER_TYPES[answer_type],
            metadata={"question_type": problem["question_type"], "mathvista_answer_type": answer_type,
                      "precision": problem.get("precision"), "unit": problem.get("unit"),
                      "query": problem.get("query"), **(problem.get("metadata") or {})},
        )

    def score(self, prediction: str | None, example: Example) -> float:
        """MathVista's official scoring, `normalize_extracted_answer` and `safe_equal` of
        evaluation/calculate_score.py (github.com/lupantech/MathVista), applied to the answer span of the response
        (the official pipeline first extracts it with GPT-4, evaluation/extract_answer.py; `final_span` and the
        typed extraction of `vista_tasks.answers` stand in for that step):

        - multi_choice: a letter ("(B)", "B") names that choice, else the most similar choice text; right when that
          choice equals the answer;
        - integer: `str(int(float(x))) == answer` (so 2.7 reads as 2);
        - float: `str(round(float(x), int(precision))) == answer`, the gold answer as the release writes it;
        - list: the list equals the answer item by item (the official `str(extraction) == answer`, spacing aside).
        A free-form `text` answer, which the release does not have (calculate_score.py has no rule for it), is
        compared as a number."""
        if prediction is None or example.answer in (None, ""):
            return 0.0
        prediction = str(prediction)
        if example.answer_type == "multiple_choice":
            picked = _official_choice(final_span(prediction), example.choices)
            return float(picked is not None and example.choices[picked] == example.answer)
        if example.answer_type == "list":
            predicted, gold = parse_list(extract_answer(prediction, "list")), parse_list(example.answer)
            return float(predicted is not None and predicted == gold)
        number = parse_number(extract_answer(prediction, example.answer_type))
        if number is None or not math.isfinite(number):
            return 0.0
        answer = str(example.answer)
        if example.answer_type == "integer":
            return float(str(int(number)) == answer)
        if example.answer_type == "float":
            precision = example.metadata.get("precision")
            return float(precision is not None and str(round(number, int(precision))) == answer)
        return float(numbers_match(number, parse_number(answer)))
