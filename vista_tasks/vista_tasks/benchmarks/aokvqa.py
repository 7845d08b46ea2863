"""A-OKVQA (Schwenk et al., ECCV 2022): commonsense and world-knowledge questions on COCO images; the
direct-answer setting, scored as the official evaluation does (allenai/aokvqa, evaluation/eval_predictions.py):
questions marked `difficult_direct_answer` are left out, and a prediction scores min(#direct answers equal to it
/ 3, 1), comparing strings exactly (no normalisation). Checked against that script and load_aokvqa.py only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from vista import Example

from ..answers import final_span
from .base import Benchmark, hf_image, parquet_files, read_json, read_parquet
from .vizwiz import consensus_answer

HF_SPLITS = {"val": "validation", "train": "train", "test": "test"}


class AOKVQA(Benchmark):
    name = "aokvqa"
    category = "general_vqa"
    description = "A-OKVQA: questions needing outside knowledge about COCO images; 10 direct answers each."
    splits = ("val", "train", "test")
    checked_on = "documented_schema"
    data_env = "VISTA_DATA_AOKVQA"
    homepage = "https://github.com/allenai/aokvqa (aokvqa_v1p0.tar.gz; images from COCO 2017)"
    layout = """\
  <folder>/aokvqa_v1p0_<split>.json    list of {split, image_id, question_id, question, choices,
                                       correct_choice_idx, direct_answers, difficult_direct_answer, rationales}
  <folder>/coco/<split>2017/<image_id as 12 digits>.jpg   the COCO 2017 images
or the Hugging Face layout: <folder>/data/validation-*.parquet"""
    recommended_tools = ("detect_objects", "zoom", "segment")

    def split_files(self, root: Path, split: str) -> list[Path]:
        path = root / f"aokvqa_v1p0_{split}.json"
        return [path] if path.is_file() else parquet_files(root, HF_SPLITS[split])

    def read(self, root: Path, split: str, files: list[Path]) -> Iterator[Example]:
        if files[0].suffix == ".json":
            for item in read_json(files[0]):
                if item.get("difficult_direct_answer"):
                    continue
                image = root / "coco" / f"{split}2017" / f"{int(item['image_id']):012d}.jpg"
                yield self._example(item, str(image))
        else:
            for row in read_parquet(files):
                if not row.get("difficult_direct_answer"):
                    yield self._example(row, hf_image(row["image"]))

    def _example(self, item: dict, image) -> Example:
        answers = list(item.get("direct_answers") or [])
        choices = list(item.get("choices") or [])
        correct = item.get("correct_choice_idx")
        return self.example(
            id=str(item["question_id"]), images=[image], question=item["question"],
            answer=consensus_answer(answers), answer_type="text",
            metadata={"direct_answers": answers, "mc_choices": choices, "correct_choice_idx": correct,
                      "difficult_direct_answer": item.get("difficult_direct_answer"),
                      "rationales": item.get("rationales")},
        )

    def score(self, prediction: str | None, example: Example) -> float:
        """eval_predictions.py's direct-answer accuracy: min(#direct answers exactly equal to the answer / 3, 1)."""
        if prediction is None:
            return 0.0
        predicted = final_span(str(prediction)).strip()
        return min(1.0, sum(predicted == answer for answer in example.metadata["direct_answers"]) / 3.0)
