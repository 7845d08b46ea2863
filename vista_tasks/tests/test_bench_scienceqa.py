import json

import pytest
from vista_tasks.benchmarks import ScienceQA

PROBLEMS = {
    "5": {"question": "Which of these states is farthest north?", "choices": ["West Virginia", "Louisiana",
                                                                               "Arizona", "Oklahoma"],
          "answer": 0, "hint": "", "image": "image.png", "task": "closed choice", "grade": "grade2",
          "subject": "social science", "topic": "geography", "category": "Geography", "skill": "Read a map",
          "lecture": "Maps have four cardinal directions.", "solution": "West Virginia is farthest north.",
          "split": "test"},
    "8": {"question": "Which tense does the sentence use?", "choices": ["past tense", "future tense"],
          "answer": 1, "hint": "Mona will print her name.", "image": None, "task": "closed choice",
          "grade": "grade4", "subject": "language science", "topic": "verbs", "category": "Verb tense",
          "skill": "Is the sentence in the past or future tense?", "lecture": "", "solution": "", "split": "test"},
    "9": {"question": "Unused training item?", "choices": ["a", "b"], "answer": 0, "hint": "", "image": None,
          "task": "yes or no", "grade": "grade1", "subject": "natural science", "topic": "x", "category": "x",
          "skill": "x", "lecture": "", "solution": "", "split": "train"},
}


def test_reads_problems_splits_and_images(tmp_path, fx):
    base = tmp_path / "data" / "scienceqa"
    fx.write_json(base / "problems.json", PROBLEMS)
    fx.write_json(base / "pid_splits.json", {"train": ["9"], "val": [], "test": ["5", "8"], "minival": [],
                                              "minitrain": []})
    fx.write_png(base / "images" / "test" / "5" / "image.png")
    task = ScienceQA()
    north, tense = fx.assert_task_checks(task, tmp_path, "test")
    assert len(north.images) == 1 and tense.images == []
    assert tense.question.startswith("Context: Mona will print her name.")
    assert north.answer == "West Virginia" and tense.answer == "future tense"
    assert task.score("(A)", north) == 1.0 and task.score("Louisiana", north) == 0.0
    assert task.score("The answer is B.", tense) == 1.0 and task.score("past tense", tense) == 0.0


def test_reads_the_hugging_face_parquet_layout(tmp_path, fx):
    fx.write_parquet(tmp_path / "data" / "validation-00000-of-00001.parquet", [
        {"image": {"bytes": fx.png_bytes(), "path": None}, "question": "Which is a solid?",
         "choices": ["milk", "rock"], "answer": 1, "hint": "", "task": "closed choice", "grade": "grade2",
         "subject": "natural science", "topic": "physics", "category": "States of matter", "skill": "x",
         "lecture": "", "solution": ""}])
    (example,) = fx.assert_task_checks(ScienceQA(), tmp_path, "val")
    assert example.answer == "rock"


# The real sample: ../shared/data/scienceqa holds 150 problems of the official problems.json and the official
# pid_splits.json cut to them (see its SOURCE.txt); its images are not there.
OFFICIAL_SPLITS = {"train": 50, "val": 50, "test": 50, "trainval": 100, "minitrain": 3, "minival": 4, "minitest": 1}


def _real(shared_data):
    root = shared_data / "scienceqa"
    return root, ScienceQA(), json.loads((root / "data" / "scienceqa" / "problems.json").read_text(encoding="utf-8"))


def test_every_official_split_of_the_real_sample_loads(shared_data):
    root, task, problems = _real(shared_data)
    assert set(task.splits) == set(OFFICIAL_SPLITS)
    loaded = {split: list(task.load(split, root)) for split in task.splits}
    assert {split: len(examples) for split, examples in loaded.items()} == OFFICIAL_SPLITS
    for split in ("train", "val", "test"):
        assert all(problems[e.id]["split"] == split for e in loaded[split])
    every = loaded["train"] + loaded["val"] + loaded["test"]
    assert sorted(e.id for e in every) == sorted(problems)                # ids unique: each pid once
    assert {e.id for e in loaded["trainval"]} == {e.id for e in loaded["train"] + loaded["val"]}
    with_image = [e for e in every if e.images]
    assert len(with_image) == 67 == sum(bool(p["image"]) for p in problems.values())
    for example in with_image:        # where the release's images/<split>/<pid>/image.png would be
        split = problems[example.id]["split"]
        assert example.images == [str(root / "data" / "scienceqa" / "images" / split / example.id / "image.png")]


def test_every_gold_answer_scores_and_a_wrong_one_does_not(shared_data):
    root, task, problems = _real(shared_data)
    for split in ("train", "val", "test"):
        for example in task.load(split, root):
            gold = problems[example.id]["answer"]
            assert example.answer == example.choices[gold] and example.answer_type == "multiple_choice"
            wrong = (gold + 1) % len(example.choices)
            for right in (f"The answer is {'ABCDE'[gold]}.", example.answer, f"({'ABCDE'[gold]})"):
                assert task.score(right, example) == 1.0, (example.id, right)
            for miss in (f"The answer is {'ABCDE'[wrong]}.", example.choices[wrong], "I cannot tell.", None):
                assert task.score(miss, example) == 0.0, (example.id, miss)


def test_bad_files_are_one_line_errors(tmp_path, fx):
    from vista_tasks.benchmarks.base import DatasetFormatError

    base = tmp_path / "data" / "scienceqa"
    for problems, splits, message in (
            (PROBLEMS, {"test": ["5", "77"]}, "lists problem 77 of split 'test'"),
            (PROBLEMS, {"train": ["9"]}, "has no split 'test'"),
            ({"5": {**PROBLEMS["5"], "answer": 4}}, {"test": ["5"]}, "problem 5: answer 4 is not an index")):
        fx.write_json(base / "problems.json", problems)
        fx.write_json(base / "pid_splits.json", splits)
        with pytest.raises(DatasetFormatError, match=message) as raised:
            list(ScienceQA().load("test", tmp_path))
        assert "\n" not in str(raised.value)
