"""MathVista (Lu et al., ICLR 2024): mathematical reasoning in visual contexts; out-of-distribution test set."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from vista import Example

from ..answers import (
    choice_index,
    extract_answer,
    final_span,
    letter_of,
    most_similar_choice,
    parse_list,
    parse_number,
)
from ..scoring import numbers_match
from .base import Benchmark, first_present, hf_image, parquet_files, read_json, read_parquet

_PAREN_LETTER = re.compile(r"\(([a-zA-Z])\)")
_ANSWER_TYPES = {"integer": "integer", "float": "float", "list": "list", "text": "text"}


def _official_choice(span: str, choices: list[str]) -> int | None:
    """MathVista's reading of a multiple-choice answer: a letter in parentheses ("(B) 145°") or a bare letter
    names the choice at that position, before any choice text is compared (so "(b)" is choice B even when a
    choice's text is "(b)"); then a choice's text; then the most similar choice."""
    span = span.strip()
    if not span:
        return None
    letter = _PAREN_LETTER.search(span)
    candidate = letter.group(1).upper() if letter else span.rstrip(".").strip()
    if len(candidate) == 1 and "A" <= candidate <= letter_of(len(choices) - 1):
        return ord(candidate) - ord("A")
    picked = choice_index(span, choices)
    return picked if picked is not None else most_similar_choice(span, choices)


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
        return self.example(
            id=str(pid), images=[i for i in images if i is not None], question=problem["question"],
            choices=problem.get("choices") or None, answer=problem.get("answer"),
            answer_type="multiple_choice" if multi_choice else _ANSWER_TYPES[problem["answer_type"]],
            metadata={"question_type": problem["question_type"], "mathvista_answer_type": problem["answer_type"],
                      "precision": problem.get("precision"), "unit": problem.get("unit"),
                      "query": problem.get("query"), **(problem.get("metadata") or {})},
        )

    def score(self, prediction: str | None, example: Example) -> float:
        """MathVista's rule (`normalize_extracted_answer` + `safe_equal`): a choice is read from a letter or the
        most similar option text; integers compare as int(float(x)); floats after rounding to the problem's
        `precision`; lists item by item."""
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
        gold = parse_number(example.answer)
        if number is None or gold is None:
            return 0.0
        if example.answer_type == "integer":
            return float(int(number) == int(gold))
        if example.answer_type == "float":
            precision = int(example.metadata.get("precision") or 0)
            return float(numbers_match(round(number, precision), round(gold, precision)))
        return float(numbers_match(number, gold))
