"""FigureQA (Kahou et al., ICLR Workshop 2018): yes/no questions about synthetic figures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from vista import Example

from .base import Benchmark, read_json


class FigureQA(Benchmark):
    name = "figureqa"
    category = "chart"
    description = "FigureQA: yes/no questions on synthetic bar, line, dot-line and pie charts."
    splits = ("validation1", "validation2", "train1", "test1", "test2")
    data_env = "VISTA_DATA_FIGUREQA"
    homepage = "https://www.microsoft.com/en-us/research/project/figureqa-dataset/ (figureqa-*-v1.tar.gz)"
    layout = """\
  <folder>/<split>/qa_pairs.json   {"qa_pairs": [{image_index, question_id, question_string, answer (1/0),
                                   color1_name, color2_name, ...}]}
  <folder>/<split>/png/<image_index>.png
  (<split> is train1, validation1, validation2, test1, test2: the folders of the extracted archives)"""
    recommended_tools = ("chart_to_table", "zoom")

    def split_files(self, root: Path, split: str) -> list[Path]:
        path = root / split / "qa_pairs.json"
        return [path] if path.is_file() else []

    def read(self, root: Path, split: str, files: list[Path]) -> Iterator[Example]:
        for pair in read_json(files[0])["qa_pairs"]:
            answer = pair.get("answer")
            yield self.example(
                id=str(pair["question_id"]), images=[str(root / split / "png" / f"{pair['image_index']}.png")],
                question=pair["question_string"], answer=None if answer is None else ("yes" if answer else "no"),
                answer_type="boolean",
                metadata={"image_index": pair["image_index"], "color1_name": pair.get("color1_name"),
                          "color2_name": pair.get("color2_name")},
            )
