from vista_tasks.benchmarks import ThinkVL


def test_reads_the_grpo_split(tmp_path, fx):
    fx.write_json(tmp_path / "VLAA-Thinking-GRPO-25K.json", [
        {"id": "clevr_math-1", "image": "images/clevr_math/1.png", "ds_name": "clevr_math",
         "question": "<image>Subtract all balls. How many objects are left?", "answer": "3"},
        {"id": "geoqa170k-2", "image": "images/geoqa170k/2.png", "ds_name": "geoqa170k",
         "problem": "Find the angle.\nChoices:\n(A) 20\n(B) 40", "gt": "B"},
    ])
    fx.write_png(tmp_path / "images" / "clevr_math" / "1.png")
    fx.write_png(tmp_path / "images" / "geoqa170k" / "2.png")
    task = ThinkVL()
    count, angle = fx.assert_task_checks(task, tmp_path, "train")
    assert count.question.startswith("Subtract") and count.answer_type == "integer"
    assert angle.answer == "40" and angle.answer_type == "multiple_choice"
    assert task.score("3", count) == 1.0 and task.score("(A)", angle) == 0.0
