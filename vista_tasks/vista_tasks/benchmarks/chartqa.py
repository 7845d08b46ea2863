"""ChartQA (Masry et al., ACL Findings 2022): questions about real charts; relaxed accuracy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from vista import Example

from ..answers import parse_number
from ..scoring import relaxed_accuracy
from .base import Benchmark, hf_image, parquet_files, read_json, read_parquet


def numeric_or_text(answer: str) -> str:
    return "float" if parse_number(str(answer).rstrip("%"), strict=True) is not None else "text"


class ChartQA(Benchmark):
    name = "chartqa"
    category = "chart"
    description = "ChartQA: visual and logical questions about real-world charts (human and machine written)."
    splits = ("test", "val", "train")
    checked_on = "real_files"
    data_env = "VISTA_DATA_CHARTQA"
    homepage = "https://github.com/vis-nlp/ChartQA (ChartQA Dataset) or https://huggingface.co/datasets/HuggingFaceM4/ChartQA"
    layout = """\
  <folder>/<split>/<split>_human.json, <split>_augmented.json   lists of {imgname, query, label}
  (<folder> is the release's `ChartQA Dataset/` or the folder holding it)
  <folder>/<split>/png/<imgname>                                the charts (<split> is train, val or test)
or the Hugging Face layout: <folder>/data/<split>-*.parquet (image, query, label, human_or_machine)"""
    recommended_tools = ("chart_to_table", "ocr_read_text", "zoom", "python_exec")

    def data_root(self, data_dir) -> Path:
        """The release root or its `ChartQA Dataset/` folder, where the split folders are."""
        root = super().data_root(data_dir)
        inner = root / "ChartQA Dataset"
        return inner if inner.is_dir() else root

    def has_split(self, root: Path, split: str) -> bool:
        inner = root / "ChartQA Dataset"
        return bool(self.split_files(inner if inner.is_dir() else root, split))

    def split_files(self, root: Path, split: str) -> list[Path]:
        files = [p for p in (root / split / f"{split}_human.json", root / split / f"{split}_augmented.json")
                 if p.is_file()]
        return files or parquet_files(root, split)

    def read(self, root: Path, split: str, files: list[Path]) -> Iterator[Example]:
        if files[0].suffix == ".json":
            for path in files:
                source = "human" if path.stem.endswith("human") else "augmented"
                for index, item in enumerate(read_json(path)):
                    yield self._example(f"{source}/{index}", str(root / split / "png" / item["imgname"]),
                                        item["query"], str(item["label"]), source)
        else:
            for index, row in enumerate(read_parquet(files)):
                label = row["label"][0] if isinstance(row["label"], list) else row["label"]
                source = "augmented" if row.get("human_or_machine") else "human"
                yield self._example(f"{source}/{index}", hf_image(row["image"]), row["query"], str(label), source)

    def _example(self, id: str, image, question: str, answer: str, source: str) -> Example:
        return self.example(id=id, images=[image], question=question, answer=answer,
                            answer_type=numeric_or_text(answer), metadata={"source": source})

    def score(self, prediction: str | None, example: Example) -> float:
        return relaxed_accuracy(prediction, example.answer)
