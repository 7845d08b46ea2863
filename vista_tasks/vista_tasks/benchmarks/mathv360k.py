"""MathV360K (Shi et al., 2024, Math-LLaVA): 360K multimodal math question-answer pairs built from 24 datasets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from vista import Example

from ..answers import final_span
from .base import Benchmark, DatasetFormatError, choices_in_question, read_json, typed_answer


def conversation_pair(item: dict) -> tuple[str, str]:
    """The first human question and the answer after it, in the LLaVA conversation format."""
    turns = item.get("conversations") or []
    human = next((t["value"] for t in turns if t.get("from") == "human"), None)
    gpt = next((t["value"] for t in turns if t.get("from") == "gpt"), None)
    if human is None or gpt is None:
        raise DatasetFormatError(f"item {item.get('id')!r} lacks a human question or a gpt answer")
    return human.replace("<image>", "").strip(), gpt.strip()


class MathV360K(Benchmark):
    name = "mathv360k"
    checked_on = "documented_schema"
    category = "math"
    description = "MathV360K: math VQA (FigureQA, TabMWP, GeoQA+, IconQA, ... seeds and synthesized questions)."
    splits = ("train",)
    data_env = "VISTA_DATA_MATHV360K"
    homepage = "https://huggingface.co/datasets/Zhiqiang007/MathV360K"
    layout = """\
  <folder>/train_samples_all_tuning.json   list of {id, image, conversations: [{from: human, value},
                                           {from: gpt, value}]}
  <folder>/data_images/<image>             the images (`image` is e.g. "TabMWP/images/1.png")"""
    recommended_tools = ("chart_to_table", "ocr_read_text", "python_exec", "geometry_solve")

    def split_files(self, root: Path, split: str) -> list[Path]:
        path = root / "train_samples_all_tuning.json"
        return [path] if path.is_file() else []

    def read(self, root: Path, split: str, files: list[Path]) -> Iterator[Example]:
        for item in read_json(files[0]):
            question, reply = conversation_pair(item)
            choices = choices_in_question(question)
            answer, answer_type = typed_answer(final_span(reply).strip(" ."), choices)
            yield self.example(id=str(item["id"]), images=[str(root / "data_images" / item["image"])],
                               question=question, choices=choices, answer=answer, answer_type=answer_type,
                               metadata={"source": item["image"].split("/")[0], "reply": reply})
