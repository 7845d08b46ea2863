from vista_tasks.benchmarks import PlotQA


def test_reads_qa_pairs_v2_and_scores_with_relaxed_accuracy(tmp_path, fx):
    fx.write_json(tmp_path / "test" / "qa_pairs_V2.json", {"qa_pairs": [
        {"image_index": 0, "question_string": "What is the maximum value of the line?", "answer": 123.45,
         "answer_bbox": {"x": 1, "y": 2, "w": 3, "h": 4}, "template": "data_retrieval", "type": "", "question_id": 0},
        {"image_index": 0, "question_string": "Does the line intersect the bars?", "answer": "Yes",
         "answer_bbox": [], "template": "structural", "type": "", "question_id": 1},
        {"image_index": 1, "question_string": "How many legend labels are there?", "answer": 3.0,
         "answer_bbox": [], "template": "structural", "type": "", "question_id": 2},
    ]})
    fx.write_png(tmp_path / "test" / "png" / "0.png")
    fx.write_png(tmp_path / "test" / "png" / "1.png")
    task = PlotQA()
    examples = fx.assert_task_checks(task, tmp_path, "test")
    assert [e.answer for e in examples] == ["123.45", "Yes", "3"]
    assert task.score("about 125", examples[0]) == 1.0 and task.score("140", examples[0]) == 0.0
    assert task.score("3", examples[2]) == 1.0 and task.score("4", examples[2]) == 0.0


def test_reads_the_documented_plain_list_of_qa_pairs_v2(tmp_path, fx):
    # PlotQA_Dataset.md (NiteshMethani/PlotQA): qa_pairs_v2.json is a list of {image_index, question_string,
    # answer, answer_bbox, template, type}.
    fx.write_json(tmp_path / "test" / "qa_pairs_v2.json", [
        {"image_index": 0, "question_string": "What is the maximum value?", "answer": 12.5, "answer_bbox": {},
         "template": "data_retrieval", "type": "vbar_categorical"},
        {"image_index": 0, "question_string": "Is the title Sales?", "answer": "Yes", "answer_bbox": {},
         "template": "structural", "type": "vbar_categorical"},
    ])
    fx.write_png(tmp_path / "test" / "png" / "0.png")
    task = PlotQA()
    maximum, title = fx.assert_task_checks(task, tmp_path, "test")
    assert [maximum.id, title.id] == ["0-0", "0-1"]
    assert task.score("12.5", maximum) == 1.0 and task.score("20", maximum) == 0.0
    assert task.score("Yes", title) == 1.0 and task.score("No", title) == 0.0
