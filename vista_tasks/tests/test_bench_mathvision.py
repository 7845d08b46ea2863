from vista_tasks.benchmarks import MathVision


def test_loads_all_304_testmini_items_with_their_images(shared_data, fx):
    task = MathVision()
    examples = list(task.load("testmini", shared_data / "mathvision"))
    assert len(examples) == 304
    assert sum(fx.verify_images(e) for e in examples) == 304
    multiple_choice = [e for e in examples if e.answer_type == "multiple_choice"]
    assert len(multiple_choice) == 190
    assert all(e.answer in "ABCDE" for e in multiple_choice)


def test_every_gold_answer_scores_and_a_wrong_one_does_not(shared_data):
    task = MathVision()
    for example in task.load("testmini", shared_data / "mathvision"):
        assert task.score(f"The answer is {example.answer}.", example) == 1.0, example.id
        if example.answer_type == "multiple_choice":
            wrong = "A" if example.answer != "A" else "B"
            assert task.score(f"({wrong})", example) == 0.0, example.id
        elif example.answer_type == "integer":
            assert task.score(str(int(example.answer) + 1), example) == 0.0, example.id


def test_check_task_on_the_real_sample(shared_data, fx):
    fx.assert_task_checks(MathVision(), shared_data / "mathvision", "testmini")


def test_option_text_and_latex_free_form_answers(shared_data):
    task = MathVision()
    examples = {e.id: e for e in task.load("testmini", shared_data / "mathvision")}
    pair = next(e for e in examples.values() if e.answer == "(3,-4)")
    assert task.score("The answer is $(3, -4)$.", pair) == 1.0
    assert task.score("(3, 4)", pair) == 0.0
    options = next(e for e in examples.values() if e.choices and e.choices[0] == "red")
    assert task.score("red", options) == 1.0 and task.score("blue", options) == 0.0


def test_reads_the_hugging_face_parquet_layout(tmp_path, fx):
    rows = [{"id": "1", "question": "How many?\n<image1>", "options": [], "image": "images/1.jpg",
             "decoded_image": {"bytes": fx.png_bytes(), "path": "1.jpg"}, "answer": "4", "solution": None,
             "level": 1, "subject": "counting"},
            {"id": "2", "question": "Which?", "options": ["A", "B", "C", "D", "E"], "image": "images/2.jpg",
             "decoded_image": {"bytes": fx.png_bytes(), "path": "2.jpg"}, "answer": "C", "solution": None,
             "level": 2, "subject": "logic"}]
    fx.write_parquet(tmp_path / "data" / "testmini-00000-of-00001.parquet", rows)
    examples = fx.assert_task_checks(MathVision(), tmp_path, "testmini")
    assert [e.answer_type for e in examples] == ["integer", "multiple_choice"]
