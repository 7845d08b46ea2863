"""ThinkVL: the RL split of VLAA-Thinking (Chen et al., 2025, "SFT or RL?"): verifiable visual reasoning
questions drawn from CLEVR-Math, GeoQA170K, ChartQA, DocVQA, VizWiz, ArxivQA, ALLaVA and synthetic data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from vista import Example

from ..answers import final_span
from .base import (
    Benchmark,
    DatasetFormatError,
    choices_in_question,
    hf_image,
    parquet_files,
    read_json,
    read_parquet,
    typed_answer,
)

ANNOTATION_FILES = ("VLAA-Thinking-GRPO-25K.json", "train-grpo.json")
_QUESTION_FIELDS = ("question", "problem")
_ANSWER_FIELDS = ("answer", "gt", "solution")


def _field(item: dict, names: tuple[str, ...], position: int) -> str:
    for name in names:
        if item.get(name) not in (None, ""):
            return str(item[name])
    raise DatasetFormatError(f"item {position} has none of the fields {', '.join(names)}")


def image_root(root: Path, item: dict) -> Path:
    """The release's README lays images out under `<root>/images/<source>/`; `image` names them from there
    (a path that already starts with `images/` is read from `<root>`)."""
    image = str(item.get("image") or "")
    return root if image.startswith("images/") else root / "images"


class ThinkVL(Benchmark):
    name = "thinkvl"
    category = "general_vqa"
    description = "ThinkVL (VLAA-Thinking GRPO split): mixed-domain visual questions with short verifiable answers."
    splits = ("train",)
    checked_on = "documented_schema"
    data_env = "VISTA_DATA_THINKVL"
    homepage = "https://huggingface.co/datasets/UCSC-VLAA/VLAA-Thinking"
    layout = """\
  <folder>/VLAA-Thinking-GRPO-25K.json (or train-grpo.json)   list of {id, image, question (or problem),
                                                              answer (or gt), ds_name, ...}
  <folder>/images/<source>/...                                the images (`image` is relative to images/)
or a Hugging Face parquet export: <folder>/data/train-*.parquet (image, question|problem, answer)"""
    recommended_tools = ("zoom", "ocr_read_text", "python_exec")

    def split_files(self, root: Path, split: str) -> list[Path]:
        found = [root / name for name in ANNOTATION_FILES if (root / name).is_file()]
        return found[:1] or parquet_files(root, split)

    def read(self, root: Path, split: str, files: list[Path]) -> Iterator[Example]:
        rows = read_json(files[0]) if files[0].suffix == ".json" else read_parquet(files)
        for position, item in enumerate(rows):
            question = _field(item, _QUESTION_FIELDS, position).replace("<image>", "").strip()
            choices = choices_in_question(question)
            answer, answer_type = typed_answer(final_span(_field(item, _ANSWER_FIELDS, position)).strip(" ."),
                                               choices)
            image = hf_image(item.get("image") if item.get("image") is not None else (item.get("images") or [None])[0],
                             root if files[0].suffix != ".json" else image_root(root, item))
            yield self.example(id=str(item.get("id", position)), images=[image] if image is not None else [],
                               question=question, choices=choices, answer=answer, answer_type=answer_type,
                               metadata={"source": item.get("ds_name")})
