from vista_tasks.benchmarks import FigureQA


def test_reads_qa_pairs_with_binary_answers(tmp_path, fx):
    fx.write_json(tmp_path / "validation1" / "qa_pairs.json", {"qa_pairs": [
        {"image_index": 0, "question_id": 0, "question_string": "Is Dark Violet the minimum?", "answer": 1,
         "color1_name": "Dark Violet", "color2_name": "--None--", "color1_id": 3, "color2_id": -1},
        {"image_index": 0, "question_id": 1, "question_string": "Is Lime Green less than Dark Violet?",
         "answer": 0, "color1_name": "Lime Green", "color2_name": "Dark Violet", "color1_id": 4, "color2_id": 3},
    ]})
    fx.write_png(tmp_path / "validation1" / "png" / "0.png")
    task = FigureQA()
    examples = fx.assert_task_checks(task, tmp_path, "validation1")
    assert [e.answer for e in examples] == ["yes", "no"]
    assert task.score("Yes, it is the minimum.", examples[0]) == 1.0
    assert task.score("No.", examples[0]) == 0.0
    assert task.score("true", examples[1]) == 0.0


def test_every_question_of_the_official_sample_loads_with_a_unique_id(shared_data, fx):
    task = FigureQA()
    examples = list(task.load("sample_train1", shared_data / "figureqa"))
    assert len(examples) == 688 and len({e.id for e in examples}) == 688
    assert sum(fx.verify_images(e) for e in examples[:20]) == 20
    for example in examples:
        assert task.score(example.answer, example) == 1.0, example.id
        assert task.score("no" if example.answer == "yes" else "yes", example) == 0.0, example.id
