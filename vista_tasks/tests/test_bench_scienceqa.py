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
