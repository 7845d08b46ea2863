"""MATH-Vision (Wang et al., NeurIPS 2024 D&B): competition math problems with visual contexts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from vista import Example

from ..answers import extract_answer, parse_number
from .base import Benchmark, first_present, hf_image, parquet_files, read_jsonl, read_parquet

_LATEX_NOISE = re.compile(r"\$|\\left|\\right|\\!|\\,|\\;|\s")


def _free_form_type(answer: str) -> str:
    number = parse_number(answer, strict=True)
    if number is None:
        return "text"
    return "integer" if number == int(number) and "." not in answer else "float"


class MathVision(Benchmark):
    name = "mathvision"
    checked_on = "real_files"
    category = "math"
    description = "MATH-Vision: math competition problems whose statement needs the figure."
    splits = ("testmini", "test")
    data_env = "VISTA_DATA_MATHVISION"
    homepage = "https://github.com/mathllm/MATH-V (or https://huggingface.co/datasets/MathLLMs/MathVision)"
    layout = """\
  <folder>/testmini.jsonl, test.jsonl  one problem a line (id, question, options, answer, solution, level,
                                       subject, image); also accepted under data/
  <folder>/images/<id>.jpg             the image each problem names
or the Hugging Face layout: <folder>/data/testmini-*.parquet (images embedded in `decoded_image`)"""
    recommended_tools = ("zoom", "python_exec", "geometry_solve")

    def split_files(self, root: Path, split: str) -> list[Path]:
        found = first_present(root, f"{split}.jsonl", f"data/{split}.jsonl")
        return [found] if found else parquet_files(root, split)

    def read(self, root: Path, split: str, files: list[Path]) -> Iterator[Example]:
        if files[0].suffix == ".jsonl":
            folder = files[0].parent if (files[0].parent / "images").is_dir() else root
            for problem in read_jsonl(files[0]):
                yield self._example(problem, hf_image(problem["image"], folder))
        else:
            for row in read_parquet(files):
                yield self._example(row, hf_image(row.get("decoded_image") or row.get("image"), root))

    def _example(self, problem: dict, image) -> Example:
        options = list(problem.get("options") or [])
        answer = str(problem["answer"])
        return self.example(
            id=str(problem["id"]), images=[image] if image is not None else [], question=problem["question"],
            choices=options or None, answer=answer,
            answer_type="multiple_choice" if options else _free_form_type(answer),
            metadata={"level": problem.get("level"), "subject": problem.get("subject"),
                      "solution": problem.get("solution")},
        )

    def score(self, prediction: str | None, example: Example) -> float:
        """Letter (or option text) for multiple choice; numbers by value; other answers ("(3,-4)") after
        dropping LaTeX spacing and delimiters."""
        score = super().score(prediction, example)
        if score or example.answer_type != "text" or prediction is None:
            return score
        extracted = extract_answer(str(prediction), "text")
        return float(extracted is not None and
                     _LATEX_NOISE.sub("", extracted).lower() == _LATEX_NOISE.sub("", example.answer).lower())
