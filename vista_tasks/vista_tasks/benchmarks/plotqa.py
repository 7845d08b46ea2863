"""PlotQA (Methani et al., WACV 2020): questions over scientific plots; out-of-distribution test set."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from vista import Example

from ..answers import format_number
from ..scoring import relaxed_accuracy
from .base import Benchmark, read_json
from .chartqa import numeric_or_text


class PlotQA(Benchmark):
    name = "plotqa"
    category = "chart"
    distribution = "ood"
    description = "PlotQA: structural, data-retrieval and reasoning questions over bar, line and dot-line plots."
    splits = ("test", "val", "train")
    data_env = "VISTA_DATA_PLOTQA"
    homepage = "https://github.com/NiteshMethani/PlotQA (data: train/val/test png.tar.gz and qa_pairs_V2.json)"
    layout = """\
  <folder>/<split>/qa_pairs_V2.json   {"qa_pairs": [{image_index, question_string, answer, answer_bbox,
                                      template, type, question_id}]} (qa_pairs_V1.json is read when V2 is absent)
  <folder>/<split>/png/<image_index>.png"""
    recommended_tools = ("chart_to_table", "ocr_read_text", "python_exec")

    def split_files(self, root: Path, split: str) -> list[Path]:
        for version in ("V2", "V1"):
            path = root / split / f"qa_pairs_{version}.json"
            if path.is_file():
                return [path]
        return []

    def read(self, root: Path, split: str, files: list[Path]) -> Iterator[Example]:
        for pair in read_json(files[0])["qa_pairs"]:
            answer = pair["answer"]
            answer = format_number(float(answer)) if isinstance(answer, (int, float)) else str(answer)
            yield self.example(
                id=str(pair.get("question_id", f"{pair['image_index']}-{pair['question_string']}")),
                images=[str(root / split / "png" / f"{pair['image_index']}.png")],
                question=pair["question_string"], answer=answer, answer_type=numeric_or_text(answer),
                metadata={"template": pair.get("template"), "type": pair.get("type"),
                          "answer_bbox": pair.get("answer_bbox")},
            )

    def score(self, prediction: str | None, example: Example) -> float:
        return relaxed_accuracy(prediction, example.answer)
