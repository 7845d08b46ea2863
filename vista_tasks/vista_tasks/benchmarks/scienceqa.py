"""ScienceQA (Lu et al., NeurIPS 2022): multiple-choice science questions with lectures and explanations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from vista import Example

from .base import Benchmark, first_present, hf_image, parquet_files, read_json, read_parquet

HF_SPLITS = {"val": "validation", "test": "test", "train": "train", "minival": "minival", "minitrain": "minitrain"}


class ScienceQA(Benchmark):
    name = "scienceqa"
    checked_on = "real_files"
    category = "science"
    description = "ScienceQA: grade 1-12 science multiple-choice questions; many with an image context."
    splits = ("test", "val", "train", "minival", "minitrain")
    data_env = "VISTA_DATA_SCIENCEQA"
    homepage = "https://github.com/lupantech/ScienceQA (data/scienceqa) or https://huggingface.co/datasets/derek-thomas/ScienceQA"
    layout = """\
  <folder>/problems.json     dict pid -> problem (question, choices, answer (index), hint, image, task, grade,
                             subject, topic, category, skill, lecture, solution, split)
  <folder>/pid_splits.json   {"train": [pid, ...], "val": [...], "test": [...], "minival": ..., "minitrain": ...}
  <folder>/images/<split>/<pid>/image.png   the images of problems with an image
  (or all of it under <folder>/data/scienceqa/, as the repository's download script lays it out)
or the Hugging Face layout: <folder>/data/<split>-*.parquet (split names train, validation, test)"""
    recommended_tools = ("zoom", "ocr_read_text", "detect_objects")

    def _base(self, root: Path) -> Path | None:
        found = first_present(root, "problems.json", "data/scienceqa/problems.json")
        return found.parent if found else None

    def split_files(self, root: Path, split: str) -> list[Path]:
        base = self._base(root)
        if base is not None and (base / "pid_splits.json").is_file():
            return [base / "problems.json", base / "pid_splits.json"]
        return parquet_files(root, HF_SPLITS[split])

    def read(self, root: Path, split: str, files: list[Path]) -> Iterator[Example]:
        if files[0].name == "problems.json":
            problems, pid_splits = read_json(files[0]), read_json(files[1])
            images = files[0].parent / "images"
            for pid in pid_splits[split]:
                problem = problems[pid]
                image = [str(images / problem["split"] / pid / problem["image"])] if problem.get("image") else []
                yield self._example(pid, problem, image)
        else:
            for index, row in enumerate(read_parquet(files)):
                image = hf_image(row.get("image"))
                yield self._example(f"{split}-{index}", row, [image] if image is not None else [])

    def _example(self, id: str, problem: dict, images: list) -> Example:
        hint, question = (problem.get("hint") or "").strip(), problem["question"]
        choices = list(problem["choices"])
        return self.example(
            id=str(id), images=images, question=f"Context: {hint}\n{question}" if hint else question,
            choices=choices, answer=choices[int(problem["answer"])], answer_type="multiple_choice",
            metadata={"answer_index": int(problem["answer"]),
                      **{key: problem.get(key) for key in ("subject", "topic", "category", "skill", "grade", "task",
                                                           "lecture", "solution")}},
        )
