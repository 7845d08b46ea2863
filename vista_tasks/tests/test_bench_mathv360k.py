from vista_tasks.benchmarks import MathV360K


def test_reads_llava_conversations_and_types_answers(tmp_path, fx):
    fx.write_json(tmp_path / "train_samples_all_tuning.json", [
        {"id": "identity_1", "image": "TabMWP/images/1.png", "conversations": [
            {"from": "human", "value": "<image>\nWhat is the mean of the numbers?"},
            {"from": "gpt", "value": "The answer is 84"}]},
        {"id": "identity_2", "image": "GeoQA+/images/2.png", "conversations": [
            {"from": "human", "value": "<image>\nHint: Please answer the question and provide the correct option "
                                       "letter, e.g., A, B, C, D, at the end.\nQuestion: Find ∠1.\nChoices:\n"
                                       "(A) 30°\n(B) 45°\n(C) 60°\n(D) 90°"},
            {"from": "gpt", "value": "C"}]},
        {"id": "identity_3", "image": "FigureQA/images/3.png", "conversations": [
            {"from": "human", "value": "<image>\nIs Red the high median?"}, {"from": "gpt", "value": "Yes"}]},
    ])
    for name in ("TabMWP/images/1.png", "GeoQA+/images/2.png", "FigureQA/images/3.png"):
        fx.write_png(tmp_path / "data_images" / name)
    task = MathV360K()
    mean, angle, median = fx.assert_task_checks(task, tmp_path, "train")
    assert (mean.answer, mean.answer_type) == ("84", "integer")
    assert angle.choices == ["30°", "45°", "60°", "90°"] and angle.answer == "60°"
    assert median.answer_type == "boolean" and mean.metadata["source"] == "TabMWP"
    assert task.score("(C)", angle) == 1.0 and task.score("45°", angle) == 0.0
    assert task.score("84.0", mean) == 1.0 and task.score("no", median) == 0.0
