"""ScienceQA (Lu et al., NeurIPS 2022): multiple-choice science questions with lectures and explanations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from vista import Example

from ..answers import choice_index, final_span
from .base import Benchmark, DatasetFormatError, first_present, hf_image, parquet_files, read_json, read_parquet

# the official pid_splits.json's keys; the Hugging Face export ships train, validation and test only
HF_SPLITS = {"val": "validation"}


class ScienceQA(Benchmark):
    name = "scienceqa"
    checked_on = "real_files"
    category = "science"
    description = "ScienceQA: grade 1-12 science multiple-choice questions; many with an image context."
    splits = ("test", "val", "train", "trainval", "minitest", "minival", "minitrain")
    data_env = "VISTA_DATA_SCIENCEQA"
    homepage = "https://github.com/lupantech/ScienceQA (data/scienceqa) or https://huggingface.co/datasets/derek-thomas/ScienceQA"
    layout = """\
  <folder>/problems.json     dict pid -> problem (question, choices, answer (index), hint, image, task, grade,
                             subject, topic, category, skill, lecture, solution, split)
  <folder>/pid_splits.json   {"train": [pid, ...], "val", "test", "trainval", "minitrain", "minival", "minitest"}
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
        return parquet_files(root, HF_SPLITS.get(split, split))

    def read(self, root: Path, split: str, files: list[Path]) -> Iterator[Example]:
        if files[0].name == "problems.json":
            problems, pid_splits = read_json(files[0]), read_json(files[1])
            images = files[0].parent / "images"
            if split not in pid_splits:
                raise DatasetFormatError(f"{files[1]} has no split '{split}' (it has {', '.join(pid_splits)})")
            for pid in pid_splits[split]:
                if pid not in problems:
                    raise DatasetFormatError(f"{files[1]} lists problem {pid} of split '{split}', "
                                             f"which {files[0]} does not have")
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
        if not isinstance(problem.get("answer"), int) or not 0 <= problem["answer"] < len(choices):
            raise DatasetFormatError(f"ScienceQA problem {id}: answer {problem.get('answer')!r} is not an index "
                                     f"into its {len(choices)} choices")
        return self.example(
            id=str(id), images=images, question=f"Context: {hint}\n{question}" if hint else question,
            choices=choices, answer=choices[int(problem["answer"])], answer_type="multiple_choice",
            metadata={"answer_index": int(problem["answer"]),
                      **{key: problem.get(key) for key in ("subject", "topic", "category", "skill", "grade", "task",
                                                           "lecture", "solution")}},
        )

    def score(self, prediction: str | None, example: Example) -> float:
        """ScienceQA's official accuracy (models/run_gpt3.py and tools/evaluate_acc.py of
        github.com/lupantech/ScienceQA): the index of the option the response names (`get_pred_idx` of the letter in
        "The answer is B.") equals the problem's `answer` index. The response is read more leniently than that
        regex: a letter ("(B)", "B.") or a choice's text in the answer span (`final_span`), the exact text first
        (some problems' options differ only in case: "A breath of Fresh Air" / "A Breath of Fresh Air"). Where the
        official script draws a random option for a response that names none, this scores 0."""
        if prediction is None:
            return 0.0
        span = final_span(str(prediction)).strip()
        exact = [i for i, choice in enumerate(example.choices) if choice == span.rstrip(".") or choice == span]
        picked = exact[0] if exact else choice_index(span, example.choices)
        return float(picked is not None and picked == example.metadata["answer_index"])
