"""CLEVR (Johnson et al., CVPR 2017) and CLEVR-Math (Lindström & Abraham, 2022): questions about rendered
scenes of simple 3-D shapes: attributes, counting, comparison, and counting after adding or removing objects."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from vista import Example

from ..answers import parse_number
from .base import Benchmark, DatasetFormatError, hf_image, parquet_files, read_json, read_parquet


def clevr_answer_type(answer) -> str:
    text = str(answer).strip().lower()
    if text in ("yes", "no"):
        return "boolean"
    return "integer" if parse_number(text, strict=True) is not None else "text"


class _ClevrQuestions(Benchmark):
    category = "spatial"
    recommended_tools = ("detect_objects", "segment", "zoom")

    def split_files(self, root: Path, split: str) -> list[Path]:
        path = root / "questions" / f"CLEVR_{split}_questions.json"
        return [path] if path.is_file() else parquet_files(root, split)

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
    checked_on = "documented_schema"
    description = "CLEVR: compositional questions about rendered 3-D scenes (attributes, counting, comparison)."
    splits = ("val", "train", "test")
    data_env = "VISTA_DATA_CLEVR"
    homepage = "https://cs.stanford.edu/people/jcjohns/clevr/ (CLEVR_v1.0.zip)"
    layout = """\
  <folder>/questions/CLEVR_<split>_questions.json   {"info": ..., "questions": [{question_index, image_index,
                                                    image_filename, question, answer, program,
                                                    question_family_index, split}]}
  <folder>/images/<split>/CLEVR_<split>_000000.png  the scenes (<folder> is the extracted CLEVR_v1.0)"""


class ClevrMath(Benchmark):
    """CLEVR-Math as its publisher's loading script reads it (dali-does/clevr-math, clevr-math-loader.py): the
    questions of a split in `clevr-math-<split>.json` (`{"questions": [...]}` in CLEVR's format, for both the
    `general` and the `multihop` archive), each question's image at `CLEVR_v1.0/images/<its own split
    field>/<image_filename>` (test questions ask about the images of `clevr-math-test-images.zip`, which unpacks
    the same way). The script's `id` is the image file name, shared by every question on that image, so an
    example's id is `<split>-<position in the file>`; the image file name stays in metadata. Also read: the Hugging
    Face parquet export (template, id, question, image, label), as `<config>/<split>-*.parquet` or the Hub's
    `<config>/<split>/0000.parquet`, with ids numbered the same way."""

    name = "clevr_math"
    category = "math"
    distribution = "ood"
    checked_on = "documented_schema"
    description = "CLEVR-Math: arithmetic word problems (add or remove objects, then count) on CLEVR scenes."
    splits = ("test", "val", "train")
    data_env = "VISTA_DATA_CLEVR_MATH"
    recommended_tools = ("detect_objects", "segment", "zoom")
    hf_split_names = {"val": "validation"}
    homepage = "https://github.com/dali-does/clevr-math (or https://huggingface.co/datasets/dali-does/clevr-math)"
    layout = """\
  <folder>/clevr-math-<split>.json                   {"questions": [{split, image_filename, question, answer,
                                                     template_filename, ...}]} (from data/clevr-math.zip or
                                                     clevr-math-multihop.zip; <split> is train, val or test)
  <folder>/CLEVR_v1.0/images/<split>/<image_filename>   the scenes (CLEVR_v1.0.zip; the test scenes from
                                                     clevr-math-test-images.zip); <folder>/images/<split>/ also
or the Hugging Face layout: <folder>/<config>/<split>-*.parquet or <config>/<split>/*.parquet
                            (template, id, question, image, label)"""

    def split_files(self, root: Path, split: str) -> list[Path]:
        path = root / f"clevr-math-{split}.json"
        if path.is_file():
            return [path]
        hf_split = self.hf_split_names.get(split, split)
        return parquet_files(root, hf_split) or sorted(root.glob(f"*/{hf_split}/*.parquet"))

    def image_root(self, root: Path) -> Path:
        return next((p for p in (root / "CLEVR_v1.0" / "images", root / "images") if p.is_dir()),
                    root / "CLEVR_v1.0" / "images")

    def read(self, root: Path, split: str, files: list[Path]) -> Iterator[Example]:
        if files[0].suffix != ".json":
            for index, row in enumerate(read_parquet(files)):
                yield self.example(id=f"{split}-{index}", images=[hf_image(row["image"])],
                                   question=row["question"], answer=str(row["label"]), answer_type="integer",
                                   metadata={"template": row.get("template"), "image_filename": row.get("id")})
            return
        questions = read_json(files[0])
        if not isinstance(questions, dict) or not isinstance(questions.get("questions"), list):
            raise DatasetFormatError(f'{files[0]} should hold {{"questions": [...]}}, as clevr-math-loader.py reads')
        images = self.image_root(root)
        for index, item in enumerate(questions["questions"]):
            template = item.get("template_filename") or ""
            yield self.example(
                id=f"{split}-{index}", images=[str(images / item.get("split", split) / item["image_filename"])],
                question=item["question"], answer=str(item["answer"]), answer_type="integer",
                metadata={"template": template.removesuffix(".json") or None,
                          "image_filename": item["image_filename"], "image_split": item.get("split", split)},
            )
