"""CLEVR (Johnson et al., CVPR 2017) and CLEVR-Math (Lindström & Abraham, 2022): questions about rendered
scenes of simple 3-D shapes: attributes, counting, comparison, and counting after adding or removing objects."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from vista import Example

from ..answers import parse_number
from .base import Benchmark, hf_image, parquet_files, read_json, read_parquet


def clevr_answer_type(answer) -> str:
    text = str(answer).strip().lower()
    if text in ("yes", "no"):
        return "boolean"
    return "integer" if parse_number(text, strict=True) is not None else "text"


class _ClevrQuestions(Benchmark):
    category = "spatial"
    recommended_tools = ("detect_objects", "segment", "zoom")
    hf_split_names: dict = {}

    def split_files(self, root: Path, split: str) -> list[Path]:
        path = root / "questions" / f"CLEVR_{split}_questions.json"
        return [path] if path.is_file() else parquet_files(root, self.hf_split_names.get(split, split))

    def read(self, root: Path, split: str, files: list[Path]) -> Iterator[Example]:
        if files[0].suffix == ".json":
            for item in read_json(files[0])["questions"]:
                answer = item.get("answer")
                yield self.example(
                    id=f"{split}-{item['question_index']}",
                    images=[str(root / "images" / split / item["image_filename"])], question=item["question"],
                    answer=None if answer is None else str(answer), answer_type=clevr_answer_type(answer),
                    metadata={"image_index": item.get("image_index"), "program": item.get("program"),
                              "question_family_index": item.get("question_family_index"),
                              "template": item.get("template_filename") or item.get("template")},
                )
        else:
            yield from self.read_rows(read_parquet(files))

    def read_rows(self, rows) -> Iterator[Example]:
        raise NotImplementedError(f"task '{self.name}' has no parquet layout")


class CLEVR(_ClevrQuestions):
    name = "clevr"
    description = "CLEVR: compositional questions about rendered 3-D scenes (attributes, counting, comparison)."
    splits = ("val", "train", "test")
    data_env = "VISTA_DATA_CLEVR"
    homepage = "https://cs.stanford.edu/people/jcjohns/clevr/ (CLEVR_v1.0.zip)"
    layout = """\
  <folder>/questions/CLEVR_<split>_questions.json   {"info": ..., "questions": [{question_index, image_index,
                                                    image_filename, question, answer, program,
                                                    question_family_index, split}]}
  <folder>/images/<split>/CLEVR_<split>_000000.png  the scenes (<folder> is the extracted CLEVR_v1.0)"""


class ClevrMath(_ClevrQuestions):
    name = "clevr_math"
    category = "math"
    distribution = "ood"
    description = "CLEVR-Math: arithmetic word problems (add or remove objects, then count) on CLEVR scenes."
    splits = ("test", "val", "train")
    data_env = "VISTA_DATA_CLEVR_MATH"
    hf_split_names = {"val": "validation"}
    homepage = "https://github.com/dali-does/clevr-math (or https://huggingface.co/datasets/dali-does/clevr-math)"
    layout = """\
  <folder>/questions/CLEVR_<split>_questions.json   CLEVR-format questions with integer answers and the
                                                    template (subtraction, addition, adversarial, ...)
  <folder>/images/<split>/<image_filename>          the CLEVR scenes
or the Hugging Face layout: <folder>/<config>/<split>-*.parquet (template, id, question, image, label)"""

    def read_rows(self, rows) -> Iterator[Example]:
        for row in rows:
            yield self.example(id=str(row["id"]), images=[hf_image(row["image"])], question=row["question"],
                               answer=str(row["label"]), answer_type="integer",
                               metadata={"template": row.get("template")})
