"""PlotQA (Methani et al., WACV 2020): questions over scientific plots; out-of-distribution test set.

The publisher's PlotQA_Dataset.md names the files `qa_pairs_v1.json` / `qa_pairs_v2.json` and documents each as a
list of questions; the files downloaded from its links are `qa_pairs_V1.json` / `qa_pairs_V2.json` holding
`{"qa_pairs": [...]}`. Both spellings and both shapes are read (v2, the extended set, before v1). Checked against
the documentation only. Ids are `<image_index>-<position among that image's questions>` unless `question_id` is
given."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from vista import Example

from ..answers import format_number
from ..scoring import relaxed_accuracy
from .base import Benchmark, DatasetFormatError, read_json
from .chartqa import numeric_or_text


class PlotQA(Benchmark):
    name = "plotqa"
    category = "chart"
    distribution = "ood"
    description = "PlotQA: structural, data-retrieval and reasoning questions over bar, line and dot-line plots."
    splits = ("test", "val", "train")
    checked_on = "documented_schema"
    data_env = "VISTA_DATA_PLOTQA"
    homepage = "https://github.com/NiteshMethani/PlotQA (data: train/val/test png.tar.gz and qa_pairs_V2.json)"
    layout = """\
  <folder>/<split>/qa_pairs_v2.json   [{image_index, question_string, answer, answer_bbox, template, type}]
                                      or {"qa_pairs": [...]}; qa_pairs_V2.json, qa_pairs_v1.json, qa_pairs_V1.json
                                      are read when it is absent
  <folder>/<split>/png/<image_index>.png"""
    recommended_tools = ("chart_to_table", "ocr_read_text", "python_exec")

    def split_files(self, root: Path, split: str) -> list[Path]:
        for version in ("v2", "V2", "v1", "V1"):
            path = root / split / f"qa_pairs_{version}.json"
            if path.is_file():
                return [path]
        return []

    def read(self, root: Path, split: str, files: list[Path]) -> Iterator[Example]:
        pairs = read_json(files[0])
        pairs = pairs.get("qa_pairs") if isinstance(pairs, dict) else pairs
        if not isinstance(pairs, list):
            raise DatasetFormatError(f'{files[0]} should hold a list of questions or {{"qa_pairs": [...]}}')
        asked: Counter = Counter()
        for pair in pairs:
            position = asked[pair["image_index"]]
            asked[pair["image_index"]] += 1
            answer = pair["answer"]
            answer = format_number(float(answer)) if isinstance(answer, (int, float)) else str(answer)
            yield self.example(
                id=str(pair.get("question_id", f"{pair['image_index']}-{position}")),
                images=[str(root / split / "png" / f"{pair['image_index']}.png")],
                question=pair["question_string"], answer=answer, answer_type=numeric_or_text(answer),
                metadata={"template": pair.get("template"), "type": pair.get("type"),
                          "answer_bbox": pair.get("answer_bbox")},
            )

    def score(self, prediction: str | None, example: Example) -> float:
        return relaxed_accuracy(prediction, example.answer)
