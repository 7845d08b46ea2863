"""AI2D (Kembhavi et al., ECCV 2016): multiple-choice questions about grade-school science diagrams;
out-of-distribution test set."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from vista import Example

from .base import Benchmark, hf_image, parquet_files, read_json, read_parquet


class AI2D(Benchmark):
    name = "ai2d"
    checked_on = "documented_schema"
    category = "science"
    distribution = "ood"
    description = "AI2D: questions about science diagrams (life cycles, food webs, parts of things), four choices."
    splits = ("test", "train")
    data_env = "VISTA_DATA_AI2D"
    homepage = "https://prior.allenai.org/projects/diagram-understanding (ai2d-all.zip + ai2d_test_ids.csv)"
    layout = """\
  <folder>/questions/<image>.json   {"imageName", "questions": {<question text>: {questionId, answerTexts,
                                    correctAnswer (index), abcLabel}}}
  <folder>/images/<image>           the diagrams (<n>.png)
  <folder>/ai2d_test_ids.csv        the test diagrams' numbers, one a line (the rest is train)
or the Hugging Face layout: <folder>/data/test-*.parquet (question, options, answer (index), image)"""
    recommended_tools = ("ocr_read_text", "zoom", "detect_objects")

    def _test_ids(self, root: Path) -> set[str] | None:
        path = root / "ai2d_test_ids.csv"
        if not path.is_file():
            return None
        with open(path, newline="") as handle:
            return {row[0].strip() for row in csv.reader(handle) if row and row[0].strip()}

    def split_files(self, root: Path, split: str) -> list[Path]:
        if (root / "questions").is_dir() and self._test_ids(root) is not None:
            wanted = self._test_ids(root)
            files = sorted((root / "questions").glob("*.json"), key=lambda p: (len(p.name), p.name))
            return [p for p in files if (p.name.split(".")[0] in wanted) == (split == "test")]
        return parquet_files(root, split)

    def read(self, root: Path, split: str, files: list[Path]) -> Iterator[Example]:
        if files[0].suffix == ".json":
            for path in files:
                diagram = read_json(path)
                image = str(root / "images" / diagram["imageName"])
                for text, question in diagram["questions"].items():
                    choices = list(question["answerTexts"])
                    yield self.example(
                        id=question["questionId"], images=[image], question=text, choices=choices,
                        answer=choices[int(question["correctAnswer"])], answer_type="multiple_choice",
                        metadata={"abc_label": question.get("abcLabel"),
                                  "answer_index": int(question["correctAnswer"])},
                    )
        else:
            for index, row in enumerate(read_parquet(files)):
                choices = list(row["options"])
                yield self.example(id=f"{split}-{index}", images=[hf_image(row["image"])], question=row["question"],
                                   choices=choices, answer=choices[int(row["answer"])],
                                   answer_type="multiple_choice", metadata={"answer_index": int(row["answer"])})
