from vista_tasks.benchmarks import AI2D


def _question(qid, answers, correct):
    return {"abcLabel": False, "answerTexts": answers, "correctAnswer": correct, "questionId": qid}


def test_reads_the_release_and_splits_by_test_ids(tmp_path, fx):
    fx.write_json(tmp_path / "questions" / "0.png.json", {"imageName": "0.png", "questions": {
        "What stage comes after the egg?": _question("0.png-0", ["adult", "larva", "pupa", "nymph"], 1)}})
    fx.write_json(tmp_path / "questions" / "12.png.json", {"imageName": "12.png", "questions": {
        "Which organism is a producer?": _question("12.png-0", ["grass", "hawk", "snake", "frog"], 0),
        "What eats the frog?": _question("12.png-1", ["grass", "snake", "insect", "sun"], 1)}})
    fx.write_png(tmp_path / "images" / "0.png")
    fx.write_png(tmp_path / "images" / "12.png")
    (tmp_path / "ai2d_test_ids.csv").write_text("12\n")
    task = AI2D()
    producer, frog = fx.assert_task_checks(task, tmp_path, "test")
    (egg,) = fx.assert_task_checks(task, tmp_path, "train")
    assert egg.answer == "larva" and producer.answer == "grass"
    assert task.score("B", frog) == 1.0 and task.score("(A) grass", frog) == 0.0


def test_reads_the_hugging_face_parquet_layout(tmp_path, fx):
    fx.write_parquet(tmp_path / "data" / "test-00000-of-00001.parquet", [
        {"question": "Which label shows the root?", "options": ["A", "B", "C", "D"], "answer": "2",
         "image": {"bytes": fx.png_bytes(), "path": None}}])
    (example,) = fx.assert_task_checks(AI2D(), tmp_path, "test")
    assert example.answer == "C"
