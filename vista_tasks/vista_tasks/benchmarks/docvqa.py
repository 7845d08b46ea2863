"""DocVQA (Mathew et al., WACV 2021) and InfographicVQA (Mathew et al., WACV 2022): extractive questions on
document and infographic images, scored by ANLS. Both ship the same annotation format."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from vista import Example

from ..scoring import anls
from .base import Benchmark, hf_image, parquet_files, read_json, read_parquet


class _DocumentQA(Benchmark):
    category = "document"
    splits = ("val", "test", "train")
    recommended_tools = ("ocr_read_text", "zoom", "ocr_read_region")
    hf_split_names: ClassVar[dict[str, str]] = {"val": "validation", "test": "test", "train": "train"}
    image_field: ClassVar[str] = "image"

    def annotation_file(self, root: Path, split: str) -> Path | None:
        raise NotImplementedError

    def image_path(self, root: Path, annotation: Path, item: dict) -> Path:
        raise NotImplementedError

    def split_files(self, root: Path, split: str) -> list[Path]:
        found = self.annotation_file(root, split)
        return [found] if found else parquet_files(root, self.hf_split_names[split])

    def read(self, root: Path, split: str, files: list[Path]) -> Iterator[Example]:
        if files[0].suffix == ".json":
            for item in read_json(files[0])["data"]:
                yield self._example(item, str(self.image_path(root, files[0], item)))
        else:
            for row in read_parquet(files):
                yield self._example(row, hf_image(row["image"], root))

    def _example(self, item: dict, image) -> Example:
        answers = list(item.get("answers") or [])
        metadata = {key: item[key] for key in ("question_types", "answer_type", "evidence", "operation/reasoning",
                                               "docId", "ucsf_document_id", "ucsf_document_page_no")
                    if item.get(key) is not None}
        return self.example(id=str(item["questionId"]), images=[image], question=item["question"],
                            answer=answers[0] if answers else None, answer_type="text",
                            metadata={"answers": answers, **metadata})

    def score(self, prediction: str | None, example: Example) -> float:
        return anls(prediction, example.metadata["answers"])


class DocVQA(_DocumentQA):
    name = "docvqa"
    checked_on = "documented_schema"
    description = "DocVQA (single page): questions answered by a span of an industry document."
    data_env = "VISTA_DATA_DOCVQA"
    homepage = "https://rrc.cvc.uab.es/?ch=17 (Task 1, Single Page DocVQA) or https://huggingface.co/datasets/lmms-lab/DocVQA"
    layout = """\
  <folder>/<split>/<split>_v1.0_withQT.json (or <split>_v1.0.json)   {"data": [{questionId, question, image,
                                          answers, docId, ucsf_document_id, ucsf_document_page_no, ...}]}
  <folder>/<split>/documents/<name>.png   the pages (`image` is "documents/<name>.png")
or the Hugging Face layout: <folder>/DocVQA/validation-*.parquet (split names validation, test)"""

    def annotation_file(self, root: Path, split: str) -> Path | None:
        for name in (f"{split}_v1.0_withQT.json", f"{split}_v1.0.json"):
            if (root / split / name).is_file():
                return root / split / name
        return None

    def image_path(self, root: Path, annotation: Path, item: dict) -> Path:
        return annotation.parent / item["image"]


class InfographicVQA(_DocumentQA):
    name = "infographicvqa"
    checked_on = "documented_schema"
    description = "InfographicVQA: questions on infographics needing layout, text, graphics and arithmetic."
    data_env = "VISTA_DATA_INFOGRAPHICVQA"
    homepage = "https://rrc.cvc.uab.es/?ch=17 (Task 3, InfographicVQA) or https://huggingface.co/datasets/lmms-lab/infographicvqa"
    layout = """\
  <folder>/infographicsVQA_<split>_v1.0.json   {"data": [{questionId, question, image_local_name, answers,
                                               answer_type, evidence, operation/reasoning, ...}]}
                                               (also accepted under infographicsvqa_qas/)
  <folder>/infographicsvqa_images/<image_local_name>
or the Hugging Face layout: <folder>/InfographicVQA/validation-*.parquet"""

    def annotation_file(self, root: Path, split: str) -> Path | None:
        for folder in (root, root / "infographicsvqa_qas"):
            if (folder / f"infographicsVQA_{split}_v1.0.json").is_file():
                return folder / f"infographicsVQA_{split}_v1.0.json"
        return None

    def image_path(self, root: Path, annotation: Path, item: dict) -> Path:
        return root / "infographicsvqa_images" / item["image_local_name"]
