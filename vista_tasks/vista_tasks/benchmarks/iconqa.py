"""IconQA (Lu et al., NeurIPS 2021 D&B): abstract diagram questions; out-of-distribution test set."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from vista import Example

from ..answers import parse_number
from .base import Benchmark, read_json

QUESTION_TYPES = ("choose_img", "choose_txt", "fill_in_blank")


class IconQA(Benchmark):
    name = "iconqa"
    checked_on = "real_files"
    category = "general_vqa"
    distribution = "ood"
    description = "IconQA: icon and abstract-diagram questions: pick an image, pick a text, or fill in the blank."
    splits = ("test", "val", "train")
    data_env = "VISTA_DATA_ICONQA"
    homepage = "https://iconqa.github.io (iconqa_data.zip, folder iconqa_data/iconqa)"
    layout = """\
  <folder>/<split>/<type>/<qid>/data.json   question, answer, ques_type, grade, label; choices for choose_*
  <folder>/<split>/<type>/<qid>/image.png   the question image; choose_img adds choice_<k>.png
  (<type> is choose_img, choose_txt or fill_in_blank; <split> is train, val or test)"""
    recommended_tools = ("zoom", "detect_objects", "segment")

    def split_files(self, root: Path, split: str) -> list[Path]:
        return sorted(p for t in QUESTION_TYPES for p in (root / split / t).glob("*/data.json"))

    def read(self, root: Path, split: str, files: list[Path]) -> Iterator[Example]:
        for path in files:
            item = read_json(path)
            folder = path.parent
            kind = item["ques_type"]
            images = [str(folder / "image.png")]
            choices = item.get("choices")
            if kind == "choose_img":
                # The choices are pictures: each becomes an image of the example and is named by its position.
                images += [str(folder / name) for name in choices]
                choices = [f"image {k + 2}" for k in range(len(item["choices"]))]
            answer = item["answer"]
            if kind == "fill_in_blank":
                number = parse_number(answer, strict=True)
                answer_type = "integer" if number is not None and number == int(number) else "text"
            else:
                # Gold as the choice's text, so that it reads the same in a prompt, a trajectory and a score.
                answer, answer_type = choices[answer], "multiple_choice"
            yield self.example(
                id=f"{split}/{kind}/{folder.name}", images=images, question=item["question"], choices=choices,
                answer=answer, answer_type=answer_type,
                metadata={"ques_type": kind, "grade": item.get("grade"), "skill": item.get("label"),
                          "answer_index": item["answer"] if kind != "fill_in_blank" else None,
                          "choice_files": item.get("choices") if kind == "choose_img" else None},
            )
