from vista_tasks.benchmarks import MapQA


def test_reads_every_subset_and_matches_lists_as_sets(tmp_path, fx):
    for subset in ("MapQA_S", "MapQA_U"):
        fx.write_json(tmp_path / subset / "questions" / "test-QA.json", [
            {"question_id": 1, "question": "Which states have the highest value ?", "map_id": "map_1.png",
             "answer": ["Texas", "New York"], "question_template_id": "rel_2"},
            {"question_id": 2, "question": "Does Ohio have the lowest value ?", "map_id": "map_1.png",
             "answer": "No", "question_template_id": "retr_1"},
            {"question_id": 3, "question": "How many states have a value above 10 ?", "map_id": "map_1.png",
             "answer": 7, "question_template_id": "retr_3"},
        ])
        fx.write_png(tmp_path / subset / "images" / "map_1.png")
    task = MapQA()
    examples = fx.assert_task_checks(task, tmp_path, "test")
    assert len(examples) == 6 and examples[0].id.startswith("MapQA_S/")
    states, ohio, count = examples[:3]
    assert task.score("The answer is New York and Texas.", states) == 1.0
    assert task.score("Texas", states) == 0.0
    assert task.score("no", ohio) == 1.0 and task.score("yes", ohio) == 0.0
    assert task.score("7", count) == 1.0 and task.score("8", count) == 0.0


def test_the_dev_split_reads_dev_qa_json_and_val_names_it(tmp_path, fx):
    # OSU-slatelab/MapQA README: questions/{train,dev,test}-QA.json in each subset.
    fx.write_json(tmp_path / "MapQA_R" / "questions" / "dev-QA.json", [
        {"question_id": 5, "map_id": "map_0.png", "question_type": "retrieval", "question_template_id": "retrieval_1",
         "question": "Name the states that have a value in the range 1-4 ?", "answer": ["California", "Florida"]}])
    fx.write_png(tmp_path / "MapQA_R" / "images" / "map_0.png")
    task = MapQA()
    (example,) = fx.assert_task_checks(task, tmp_path, "dev")
    assert [e.id for e in task.load("val", tmp_path)] == [example.id] == ["MapQA_R/dev/5"]
    assert task.score("Florida and California", example) == 1.0 and task.score("Florida", example) == 0.0
