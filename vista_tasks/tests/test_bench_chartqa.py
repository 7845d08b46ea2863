from vista_tasks.benchmarks import ChartQA


def _release(root, fx):
    fx.write_json(root / "test" / "test_human.json", [
        {"imgname": "41699051005347.png", "query": "What is the value of Brazil?", "label": "45"},
        {"imgname": "41699051005347.png", "query": "Is the value of Chile above 20?", "label": "Yes"},
    ])
    fx.write_json(root / "test" / "test_augmented.json", [
        {"imgname": "two_col_1.png", "query": "What is the share in 2019?", "label": "12.5"},
    ])
    fx.write_png(root / "test" / "png" / "41699051005347.png")
    fx.write_png(root / "test" / "png" / "two_col_1.png")


def test_reads_the_release_and_scores_with_relaxed_accuracy(tmp_path, fx):
    _release(tmp_path, fx)
    task = ChartQA()
    examples = fx.assert_task_checks(task, tmp_path, "test")
    assert [e.metadata["source"] for e in examples] == ["human", "human", "augmented"]
    assert [e.answer_type for e in examples] == ["float", "text", "float"]
    brazil, chile, share = examples
    assert task.score("The answer is 46.", brazil) == 1.0     # within 5%
    assert task.score("48", brazil) == 0.0
    assert task.score("yes", chile) == 1.0 and task.score("No", chile) == 0.0
    assert task.score("12.9", share) == 1.0 and task.score("13.2", share) == 0.0


def test_reads_the_hugging_face_parquet_layout(tmp_path, fx):
    fx.write_parquet(tmp_path / "data" / "test-00000-of-00001.parquet", [
        {"image": {"bytes": fx.png_bytes(), "path": None}, "query": "How many bars?", "label": ["4"],
         "human_or_machine": 0},
        {"image": {"bytes": fx.png_bytes(), "path": None}, "query": "Max value?", "label": ["87.3"],
         "human_or_machine": 1},
    ])
    examples = fx.assert_task_checks(ChartQA(), tmp_path, "test")
    assert [(e.answer, e.metadata["source"]) for e in examples] == [("4", "human"), ("87.3", "augmented")]


def test_the_real_test_files_load_from_the_release_root_or_inside_it(shared_data):
    task = ChartQA()
    inside = list(task.load("test", shared_data / "chartqa" / "ChartQA Dataset"))
    from_root = list(task.load("test", shared_data / "chartqa"))
    assert len(inside) == len(from_root) == 110
    assert len({e.id for e in inside}) == 110
    for example in inside:
        assert task.score(example.answer, example) == 1.0, example.id
        assert task.score("no answer here", example) == 0.0, example.id
