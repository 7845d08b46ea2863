"""VizWiz-VQA (Gurari et al., CVPR 2018): questions from blind people about their photos; VQA accuracy."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

from vista import Example

from ..scoring import normalize_vqa_answer, vqa_accuracy
from .base import Benchmark, hf_image, parquet_files, read_json, read_parquet


def consensus_answer(answers: Sequence[str]) -> str | None:
    """The answer most annotators gave (after VQA normalisation), as first written; the gold shown in
    trajectories, while scoring uses all of them."""
    if not answers:
        return None
    counts = Counter(normalize_vqa_answer(a) for a in answers)
    best = max(counts.values())
    return next(a for a in answers if counts[normalize_vqa_answer(a)] == best)


class VizWiz(Benchmark):
    name = "vizwiz"
    checked_on = "documented_schema"
    category = "general_vqa"
    description = "VizWiz-VQA: blind people's photos and spoken questions; 10 crowd answers each."
    splits = ("val", "train", "test")
    data_env = "VISTA_DATA_VIZWIZ"
    homepage = "https://vizwiz.org/tasks-and-datasets/vqa/ (Annotations.zip, train.zip, val.zip, test.zip)"
    layout = """\
  <folder>/Annotations/<split>.json   list of {image, question, answers: [{answer, answer_confidence}],
                                      answer_type, answerable}
  <folder>/<split>/<image>            the photos (VizWiz_<split>_00000000.jpg)
or the Hugging Face layout: <folder>/data/<split>-*.parquet (image, question, answers)"""
    recommended_tools = ("zoom", "ocr_read_text", "detect_objects")

    def split_files(self, root: Path, split: str) -> list[Path]:
        path = root / "Annotations" / f"{split}.json"
        return [path] if path.is_file() else parquet_files(root, split)

    def read(self, root: Path, split: str, files: list[Path]) -> Iterator[Example]:
        if files[0].suffix == ".json":
            for item in read_json(files[0]):
                answers = [a["answer"] for a in item.get("answers") or []]
                yield self._example(item["image"], str(root / split / item["image"]), item, answers)
        else:
            for row in read_parquet(files):
                answers = [a["answer"] if isinstance(a, dict) else a for a in row.get("answers") or []]
                yield self._example(str(row.get("question_id") or row.get("image_id")), hf_image(row["image"]),
                                    row, answers)

    def _example(self, id: str, image, item: dict, answers: list[str]) -> Example:
        return self.example(id=id, images=[image], question=item["question"], answer=consensus_answer(answers),
                            answer_type="text",
                            metadata={"answers": answers, "answer_type": item.get("answer_type"),
                                      "answerable": item.get("answerable")})

    def score(self, prediction: str | None, example: Example) -> float:
        return vqa_accuracy(prediction, example.metadata["answers"])
