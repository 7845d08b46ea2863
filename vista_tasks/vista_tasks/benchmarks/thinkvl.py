"""ThinkVL: the RL split of VLAA-Thinking (Chen et al., 2025, "SFT or RL?"): verifiable visual reasoning
questions drawn from CLEVR-Math, GeoQA170K, ChartQA, DocVQA, VizWiz, ArxivQA, ALLaVA and synthetic data.

Read as the publisher documents it (README of github.com/UCSC-VLAA/VLAA-Thinking, "Dataset Download" and
"Examples", and utils/download_dataset.sh): `VLAA-Thinking-GRPO-25K.json` beside an `images/` folder holding one
folder per source; each record is {id, image ("clevr_math/CLEVR_train_027977.png", relative to images/), question,
gt (a number, a letter, or worked steps ending in "†Answer: ..."), ds_answer, caption, meta}. GeoQA questions list
their options as "Choices:\nA: ...\nB: ..." lines. Also accepted: `problem`/`answer` field names, an `image` that
already starts with `images/`, and a Hugging Face parquet export."""

from __future__ import annotations

import re
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


_CHOICES_BLOCK = re.compile(r"\n\s*Choices:\s*\n(.*)\Z", re.S)
_COLON_CHOICE = re.compile(r"^\s*([A-Z])\s*[:.]\s*(.+?)\s*$")


def choices_listed(question: str) -> list[str] | None:
    """The options of a question: "(A) ..." lines, or the release's "Choices:" block of "A: ..." lines (in order
    A, B, C...)."""
    found = choices_in_question(question)
    block = _CHOICES_BLOCK.search(question)
    if found or not block:
        return found
    lines = [_COLON_CHOICE.match(line) for line in block.group(1).strip().splitlines()]
    if len(lines) < 2 or not all(lines) or [m.group(1) for m in lines] != [chr(65 + i) for i in range(len(lines))]:
        return None
    return [m.group(2) for m in lines]


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
            choices = choices_listed(question)
            answer, answer_type = typed_answer(final_span(_field(item, _ANSWER_FIELDS, position)).strip(" ."),
                                               choices)
            image = hf_image(item.get("image") if item.get("image") is not None else (item.get("images") or [None])[0],
                             root if files[0].suffix != ".json" else image_root(root, item))
            yield self.example(id=str(item.get("id", position)), images=[image] if image is not None else [],
                               question=question, choices=choices, answer=answer, answer_type=answer_type,
                               metadata={"source": item.get("ds_name") or _source(item)})


def _source(item: dict) -> str | None:
    """The source dataset: the first folder of `image` under images/ (the documented records carry no ds_name)."""
    parts = [part for part in str(item.get("image") or "").split("/") if part and part != "images"]
    return parts[0] if len(parts) > 1 else None
