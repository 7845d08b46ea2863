"""FigureQA (Kahou et al., ICLR Workshop 2018): yes/no questions about synthetic figures.

Checked on the official `sample_train1` archive (microsoft/FigureQAComplete, uhrs/sample_train1), which has the
layout of every split archive. A pair's `question_id` is its question template (0-14), shared by every figure, so
an example is identified by its figure and its position among that figure's questions: `<image_index>-<k>`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from vista import Example

from .base import Benchmark, DatasetFormatError, read_json


class FigureQA(Benchmark):
    name = "figureqa"
    category = "chart"
    description = "FigureQA: yes/no questions on synthetic bar, line, dot-line and pie charts."
    splits = ("validation1", "validation2", "train1", "test1", "test2", "sample_train1")
    checked_on = "real_files"
    data_env = "VISTA_DATA_FIGUREQA"
    homepage = "https://www.microsoft.com/en-us/research/project/figureqa-dataset/ (figureqa-*-v1.tar.gz)"
    layout = """\
  <folder>/<split>/qa_pairs.json   {"qa_pairs": [{image_index, question_id, question_string, answer (1/0),
                                   color1_name, color2_name, ...}]}
  <folder>/<split>/png/<image_index>.png
  (<split> is train1, validation1, validation2, test1, test2 or sample_train1: the folders of the extracted
  archives)"""
    recommended_tools = ("chart_to_table", "zoom")

    def split_files(self, root: Path, split: str) -> list[Path]:
        path = root / split / "qa_pairs.json"
        return [path] if path.is_file() else []

    def read(self, root: Path, split: str, files: list[Path]) -> Iterator[Example]:
        pairs = read_json(files[0])
        if not isinstance(pairs, dict) or not isinstance(pairs.get("qa_pairs"), list):
            raise DatasetFormatError(f'{files[0]} should hold {{"qa_pairs": [...]}} as FigureQA ships it')
        asked: Counter[int] = Counter()
        for pair in pairs["qa_pairs"]:
            answer = pair.get("answer")
            image_index = pair["image_index"]
            position = asked[image_index]
            asked[image_index] += 1
            yield self.example(
                id=f"{image_index}-{position}", images=[str(root / split / "png" / f"{image_index}.png")],
                question=pair["question_string"], answer=None if answer is None else ("yes" if answer else "no"),
                answer_type="boolean",
                metadata={"image_index": image_index, "question_template": pair.get("question_id"),
                          "color1_name": pair.get("color1_name"),
                          "color2_name": pair.get("color2_name")},
            )
